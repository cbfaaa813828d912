//! The embedded Event Hubs trigger waits for a fuller batch (`--batch-min`, like
//! `minEventBatchSize`) but never past `--batch-wait-ms` (`maxWaitTime`), and a stop
//! delivers what it was waiting on.

mod common;

use common::{client, post_order, stream_order, wait_until_landed, Dev};
use std::collections::BTreeSet;
use std::path::Path;

/// The distinct sequence ranges of the lake's files: one per enrich_orders invocation
/// (an invocation writes one file per order day, all named after its range).
fn invocations(data_dir: &Path) -> BTreeSet<String> {
    let table = data_dir.join("lake/orders_enriched");
    let mut ranges = BTreeSet::new();
    for day in std::fs::read_dir(table).unwrap() {
        for file in std::fs::read_dir(day.unwrap().path()).unwrap() {
            let name = file.unwrap().file_name().to_string_lossy().to_string();
            ranges.insert(name);
        }
    }
    ranges
}

async fn post_orders(dev: &Dev, ids: std::ops::RangeInclusive<i64>) {
    let http = client();
    for id in ids {
        assert_eq!(post_order(&http, dev, &stream_order(id)).await, 202);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_batch_goes_at_once_and_one_invocation_carries_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    // A ten-minute wait: only reaching --batch-min can explain a prompt delivery.
    let dev = Dev::start(
        &data_dir,
        &["--batch-min", "40", "--batch-wait-ms", "600000"],
    );
    post_orders(&dev, 1..=40).await;
    wait_until_landed(&client(), &dev).await;
    dev.stop();
    let ranges = invocations(&data_dir);
    assert!(
        ranges
            .iter()
            .all(|name| name == "p0-00000000000000000001-00000000000000000040.parquet"),
        "one invocation for the 40 orders: {ranges:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_batch_goes_when_the_wait_is_over() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let dev = Dev::start(
        &data_dir,
        &["--batch-min", "1000", "--batch-wait-ms", "200"],
    );
    post_orders(&dev, 1..=3).await;
    wait_until_landed(&client(), &dev).await;
    dev.stop();
    assert!(!invocations(&data_dir).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_delivers_the_batch_being_waited_for() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let dev = Dev::start(
        &data_dir,
        &["--batch-min", "1000", "--batch-wait-ms", "600000"],
    );
    post_orders(&dev, 1..=5).await;
    dev.stop(); // SIGTERM, long before the wait is over
    let ranges = invocations(&data_dir);
    assert!(
        ranges
            .iter()
            .all(|name| name == "p0-00000000000000000001-00000000000000000005.parquet"),
        "the five orders landed in one invocation at stop: {ranges:?}"
    );
    assert!(!ranges.is_empty(), "nothing landed at stop");
}
