//! kill -9 `dev` repeatedly while orders stream in; restart each time. Every order that
//! got a 202 is in the warehouse exactly once, and the report equals an independent
//! computation over the orders that landed.

use crate::common::{
    assert_every_acknowledged_order_landed_once, balanced_books, client, get_json, load_customers,
    refresh_at, spawn_posters, stream_order, wait_for_acks, wait_until_landed, Acknowledged, Dev,
};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const STATES: [&str; 5] = ["TX", "CA", "NY", "OH", "WA"];
const KILLS: i64 = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_stream_loses_no_acknowledged_order() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let customers: Vec<(i64, &str)> = (1..=50).map(|id| (id, STATES[(id % 5) as usize])).collect();
    load_customers(&data_dir, &customers);
    let http = client();
    let acknowledged: Acknowledged = Default::default();

    for round in 0..KILLS {
        let dev = Dev::start(&data_dir, &["--batch-max", "300"]);
        let posters = spawn_posters(
            &http,
            dev.url("/api/orders"),
            1 + round * 10_000_000,
            &acknowledged,
        );
        let target = acknowledged.lock().unwrap().len() + 1500;
        wait_for_acks(&acknowledged, target).await;
        drop(dev); // SIGKILL: no graceful anything
        for poster in posters {
            poster.await.unwrap();
        }
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    let dev = Dev::start(&data_dir, &[]);
    wait_until_landed(&http, &dev).await;
    refresh_at(&http, &dev, "2026-02-01T00:00:00Z").await;
    let mut served: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for state in STATES {
        served.insert(
            state.to_string(),
            get_json(&http, &dev, &format!("/api/report?state={state}"))
                .await
                .as_array()
                .unwrap()
                .clone(),
        );
    }
    let books = balanced_books(&http, &dev).await;
    dev.stop();

    // The books balance after three kills, and count every landed order as accepted once.
    let landed = assert_every_acknowledged_order_landed_once(&data_dir, &acknowledged, &books);

    // The report, recomputed from the landed orders' payloads.
    let mut sums: BTreeMap<(String, String), (i64, i64, BTreeSet<i64>)> = BTreeMap::new();
    for id in &landed {
        let o = stream_order(*id);
        let state = STATES[(o["customer_id"].as_i64().unwrap() % 5) as usize].to_string();
        let e = sums
            .entry((state, o["type"].as_str().unwrap().to_string()))
            .or_default();
        e.0 += o["qty"].as_i64().unwrap();
        e.1 += (o["retail_price"].as_f64().unwrap() * 100.0).round() as i64;
        e.2.insert(o["customer_id"].as_i64().unwrap());
    }
    for state in STATES {
        let mut expected: Vec<(i64, i64, String, usize)> = sums
            .iter()
            .filter(|((s, _), _)| s == state)
            .map(|((_, t), (qty, cents, customers))| (*qty, *cents, t.clone(), customers.len()))
            .collect();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        expected.truncate(3);
        let got: Vec<(i64, i64, String, usize)> = served[state]
            .iter()
            .map(|r| {
                (
                    r["pizzas_sold"].as_i64().unwrap(),
                    (r["gross_sales_usd"].as_f64().unwrap() * 100.0).round() as i64,
                    r["pizza_type"].as_str().unwrap().to_string(),
                    r["unique_customers"].as_u64().unwrap() as usize,
                )
            })
            .collect();
        assert_eq!(got, expected, "state {state}");
    }
    println!(
        "{KILLS} kills: {} orders acknowledged, {} landed (in-flight ones included), 0 lost",
        acknowledged.len(),
        landed.len()
    );
}
