//! The embedded Event Hubs trigger waits for a fuller batch (`--batch-min`, like
//! `minEventBatchSize`) but never past `--batch-wait-ms` (`maxWaitTime`), and a stop
//! delivers what it was waiting on.

use crate::common::{client, exit_within, post_order, stream_order, wait_until_landed, Dev, BIN};
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

#[test]
fn a_batch_min_above_the_batch_max_is_refused_not_clamped() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let mut child = std::process::Command::new(BIN)
        .args(["dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data_dir)
        .args(["--batch-max", "10", "--batch-min", "20"])
        .env_remove("PIZZA_BATCH_MIN")
        .env_remove("PIZZA_BATCH_MAX")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A dev that accepted the settings would run until stopped: give it 30 s to refuse.
    let Some(status) = exit_within(&mut child, std::time::Duration::from_secs(30)) else {
        child.kill().unwrap();
        panic!("dev started with --batch-min above --batch-max");
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "--batch-min (PIZZA_BATCH_MIN) is 20, larger than --batch-max (PIZZA_BATCH_MAX), 10"
        ),
        "{stderr}"
    );
    assert!(!data_dir.exists(), "nothing is created before the refusal");

    // Equal is a fixed batch size, and fine; so is a --batch-max below the default
    // --batch-min (2,000), which then waits for full batches of --batch-max.
    for settings in [
        &["--batch-max", "10", "--batch-min", "10"][..],
        &["--batch-max", "10"][..],
    ] {
        Dev::start(&data_dir, settings).stop();
    }
}
