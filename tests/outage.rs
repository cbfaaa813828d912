//! The lake goes away for a while: ingest keeps accepting (the log absorbs it),
//! enrichment fails and retries with backoff, the backlog and the failures show in
//! /metrics, and when the lake is back the backlog drains with nothing lost.

mod common;

use common::{client, get_status, metric, stream_order, wait_until_landed, Dev};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lake_outage_is_absorbed_and_drained() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let dev = Dev::start(&data_dir, &[]);
    let http = client();
    let post = |id: i64| {
        let (http, url) = (http.clone(), dev.url("/api/orders"));
        async move {
            http.post(url)
                .json(&stream_order(id))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for id in 1..=50 {
        assert_eq!(post(id).await, 202);
    }
    wait_until_landed(&http, &dev).await;

    // Outage: the table folder is replaced by a file, so no partition can be written
    // (root ignores permission bits, so a read-only folder would not stop it).
    let table = data_dir.join("lake/orders_enriched");
    let moved = data_dir.join("lake/orders_enriched.away");
    std::fs::rename(&table, &moved).unwrap();
    std::fs::write(&table, "not a folder").unwrap();
    for id in 51..=300 {
        assert_eq!(
            post(id).await,
            202,
            "ingest keeps accepting during the outage"
        );
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(&http, &dev, "pizza_enrich_failures_total").await < 2.0 {
        assert!(
            Instant::now() < deadline,
            "enrichment never failed during the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(&http, &dev, "pizza_order_log_backlog").await,
        250.0,
        "the backlog shows"
    );
    let during = get_status(&http, &dev, "/api/orders/300").await;
    assert!(
        during == 503 || during == 404,
        "not landed, and the lake is unreadable: {during}"
    );

    // The lake comes back: the backlog drains, every order lands once.
    std::fs::remove_file(&table).unwrap();
    std::fs::rename(&moved, &table).unwrap();
    wait_until_landed(&http, &dev).await;
    for id in [51, 175, 300] {
        assert_eq!(
            get_status(&http, &dev, &format!("/api/orders/{id}")).await,
            200
        );
    }
    let failures = metric(&http, &dev, "pizza_enrich_failures_total").await;
    dev.stop();

    let db = duckdb::Connection::open(data_dir.join("warehouse.duckdb")).unwrap();
    let (rows, ids): (i64, i64) = db
        .query_row(
            "SELECT count(*), count(DISTINCT order_id) FROM orders_enriched",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((rows, ids), (300, 300));
    println!(
        "lake outage: {failures} failed enrich_orders invocations retried; backlog of 250 drained"
    );
}
