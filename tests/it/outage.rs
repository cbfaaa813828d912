//! The lake goes away for a while: ingest keeps accepting (the log absorbs it),
//! enrichment fails and retries with backoff, the backlog and the failures show in
//! /metrics, and when the lake is back the backlog drains with nothing lost.

use crate::common::{
    balanced_books, client, expect_failures_and_backlog, get_status, metric, post_order,
    refresh_at, stream_order, total, wait_until_landed, Dev,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lake_outage_is_absorbed_and_drained() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let dev = Dev::start(&data_dir, &[]);
    let http = client();
    for id in 1..=50 {
        assert_eq!(post_order(&http, &dev, &stream_order(id)).await, 202);
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
            post_order(&http, &dev, &stream_order(id)).await,
            202,
            "ingest keeps accepting during the outage"
        );
    }
    expect_failures_and_backlog(&http, &dev, 250.0).await;
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
    let books = balanced_books(&http, &dev).await;
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
    // The books balance after the outage: 300 accepted, 300 landed, none waiting.
    assert_eq!(
        (total(&books, "accepted"), total(&books, "landed")),
        (300, 300)
    );
    println!(
        "lake outage: {failures} failed enrich_orders invocations retried; backlog of 250 drained"
    );
}

/// The streaming test order `id`, placed by `customer_id`.
fn order_for(id: i64, customer_id: i64) -> serde_json::Value {
    let mut order = stream_order(id);
    order["customer_id"] = serde_json::json!(customer_id);
    order
}

/// The customer database goes away for a while (its file is moved off, as when a volume
/// is detached): ingest keeps accepting, enrichment fails and retries instead of landing
/// the orders as "customer unknown", and when the database is back every order lands,
/// joined with its customer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_db_outage_is_absorbed_and_drained() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let dev = Dev::start(&data_dir, &[]);
    let http = client();
    // customers 1..=50 for the first orders; customers the cache has never seen after
    for id in 1..=50 {
        assert_eq!(
            post_order(&http, &dev, &order_for(id, 1 + id % 50)).await,
            202
        );
    }
    wait_until_landed(&http, &dev).await;

    let db = data_dir.join("customers.sqlite");
    let away = data_dir.join("customers.sqlite.away");
    std::fs::rename(&db, &away).unwrap();
    for id in 51..=300 {
        assert_eq!(
            post_order(&http, &dev, &order_for(id, 1000 + id)).await,
            202,
            "ingest keeps accepting"
        );
    }
    expect_failures_and_backlog(&http, &dev, 250.0).await;
    assert_eq!(
        metric(&http, &dev, "pizza_unknown_customers_total").await,
        0.0,
        "no order was landed as 'customer unknown' while the database was away"
    );

    std::fs::rename(&away, &db).unwrap();
    wait_until_landed(&http, &dev).await;
    let failures = metric(&http, &dev, "pizza_enrich_failures_total").await;
    refresh_at(&http, &dev, "2026-11-30T00:00:00Z").await; // the view sees every file
    let books = balanced_books(&http, &dev).await;
    assert_eq!(total(&books["excluded"], "unknown_customer"), 0);
    dev.stop();

    let db = duckdb::Connection::open(data_dir.join("warehouse.duckdb")).unwrap();
    let (rows, found): (i64, i64) = db
        .query_row(
            "SELECT count(*), count(*) FILTER (WHERE customer_found) FROM orders_enriched",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (rows, found),
        (300, 300),
        "every order landed, joined with its customer"
    );
    assert_eq!(
        (total(&books, "accepted"), total(&books, "landed")),
        (300, 300)
    );
    println!("customer DB outage: {failures} failed enrich_orders invocations retried; backlog of 250 drained");
}
