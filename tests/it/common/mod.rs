//! Shared by the integration tests: run the real `pizza-pipeline` binary (the one cargo
//! built for these tests) and talk to it over HTTP on an ephemeral loopback port.
#![allow(dead_code)]

pub mod azurite;
pub mod in_process;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_pizza-pipeline");

pub struct Dev {
    pub child: Child,
    pub url: String,
    pub log: PathBuf,
}

impl Dev {
    /// Starts `dev` on `data_dir` (no timer, so only the test decides when to refresh).
    pub fn start(data_dir: &Path, extra: &[&str]) -> Dev {
        let log = data_dir.with_extension(format!("dev-{}.log", std::process::id()));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut child = Command::new(BIN)
            .args(["dev", "--data-dir"])
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0", "--summary-schedule", "off"])
            .args(extra)
            .env("PIZZA_LOG", "info")
            // The tests' orders carry fixed dates: no date horizon (a test of the horizon
            // sets its own with --order-horizon-days), so they stay acceptable as the
            // calendar moves on.
            .env("PIZZA_ORDER_HORIZON_DAYS", "36500")
            // A shell's PIZZA_DEMO_HISTORY must not give every test a generated year.
            .env_remove("PIZZA_DEMO_HISTORY")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file))
            .spawn()
            .expect("start pizza-pipeline dev");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("pizza-pipeline dev listening on ") {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| {
                panic!(
                    "dev did not start; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        Dev { child, url, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(mut self) {
        sigterm(&self.child);
        let status = exit_within(&mut self.child, Duration::from_secs(60))
            .expect("dev did not stop within 60 s");
        assert!(
            status.success(),
            "dev exited with {status}; log:\n{}",
            self.log_text()
        );
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends SIGTERM to a child process.
pub fn sigterm(child: &Child) {
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success(), "kill -TERM {}: {sent}", child.id());
}

/// The child's exit status, if it exits within `within`; `None` if it is still running.
pub fn exit_within(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a `pizza-pipeline` sub-command to completion; returns stdout.
pub fn run(args: &[&str]) -> String {
    let output = Command::new(BIN).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "pizza-pipeline {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// An HTTP client that, like a well-behaved one, drops idle connections before the
/// server's 10 s header deadline would close them under its feet.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .pool_idle_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

/// Reads one un-labelled metric from `/metrics`.
pub async fn metric(client: &reqwest::Client, dev: &Dev, name: &str) -> f64 {
    let text = client
        .get(dev.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0.0)
}

/// Waits until the order log has no backlog (every accepted order has landed).
pub async fn wait_until_landed(client: &reqwest::Client, dev: &Dev) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if metric(client, dev, "pizza_order_log_backlog").await == 0.0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "orders did not land within 120 s; log:\n{}",
            dev.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Writes a customer CSV and loads it into `data_dir` with `customers load`.
pub fn load_customers(data_dir: &Path, rows: &[(i64, &str)]) {
    let mut csv = String::from("customer_id,name,address,city,state,zip_code\n");
    for (id, state) in rows {
        csv.push_str(&format!(
            "{id},Customer {id},{id} Main St,Some City,{state},0{id:04}\n"
        ));
    }
    let file = data_dir.with_extension("customers.csv");
    std::fs::write(&file, csv).unwrap();
    run(&[
        "customers",
        "load",
        "--data-dir",
        data_dir.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
}

/// GET `path` on `dev` and decode the JSON answer.
pub async fn get_json(client: &reqwest::Client, dev: &Dev, path: &str) -> serde_json::Value {
    client
        .get(dev.url(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// GET `path` on `dev`; the status code.
pub async fn get_status(client: &reqwest::Client, dev: &Dev, path: &str) -> u16 {
    client
        .get(dev.url(path))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The order a streaming test posts for `id`: fully determined by the id, so a test can
/// recompute anything about the orders that landed.
pub fn stream_order(id: i64) -> serde_json::Value {
    const TYPES: [&str; 5] = ["cheese", "pepperoni", "supreme", "meat lover", "veggie"];
    serde_json::json!({
        "order_id": id,
        "customer_id": 1 + id % 50,
        "type": TYPES[(id % 5) as usize],
        "qty": 1 + id % 3,
        "retail_price": format!("{}.{:02}", 5 + id % 20, id % 100).parse::<f64>().unwrap(),
        "order_date": format!("2026-01-{:02}T12:00:00Z", 1 + id % 28),
    })
}

pub type Acknowledged = std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<i64>>>;

/// Four posters stream orders (singles and arrays of 20) from ids `first_id + k·10⁶`
/// until the server goes away, recording every id that got a 202.
pub fn spawn_posters(
    http: &reqwest::Client,
    url: String,
    first_id: i64,
    acked: &Acknowledged,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..4i64)
        .map(|poster| {
            let (http, url, acked) = (http.clone(), url.clone(), acked.clone());
            tokio::spawn(async move {
                let mut id = first_id + poster * 1_000_000;
                loop {
                    let ids: Vec<i64> = if id % 3 == 0 {
                        (id..id + 20).collect()
                    } else {
                        vec![id]
                    };
                    let body = if ids.len() == 1 {
                        stream_order(ids[0])
                    } else {
                        serde_json::Value::Array(ids.iter().map(|i| stream_order(*i)).collect())
                    };
                    id += ids.len() as i64;
                    match http.post(&url).json(&body).send().await {
                        Ok(r) if r.status() == 202 => acked.lock().unwrap().extend(ids),
                        Ok(r) if r.status().is_server_error() => {} // refused while stopping: not acknowledged
                        Ok(r) => panic!("unexpected {}", r.status()),
                        Err(_) => return, // server gone
                    }
                }
            })
        })
        .collect()
}

/// Waits until at least `count` orders were acknowledged.
pub async fn wait_for_acks(acked: &Acknowledged, count: usize) {
    while acked.lock().unwrap().len() < count {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The order ids in the warehouse view, read with DuckDB once `dev` has stopped.
pub fn landed_ids(data_dir: &Path) -> std::collections::BTreeSet<i64> {
    let db = duckdb::Connection::open(data_dir.join("warehouse.duckdb")).unwrap();
    let mut stmt = db.prepare("SELECT order_id FROM orders_enriched").unwrap();
    let ids = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    ids
}

/// Rows stored in the lake's Parquet files (duplicates included), and distinct order ids.
pub fn lake_rows(data_dir: &Path) -> (i64, i64) {
    let db = duckdb::Connection::open_in_memory().unwrap();
    let glob = data_dir.join("lake/orders_enriched/*/*.parquet");
    let sql = format!(
        "SELECT count(*), count(DISTINCT order_id) FROM read_parquet('{}')",
        glob.display()
    );
    db.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
}

/// `POST /admin/refresh` for `as_of` (which also compacts the window's partitions),
/// verified: DuckDB's SQL recomputes the report from the orders and must agree with the
/// report core on every figure. Asserts it succeeded and returns its report.
pub async fn refresh_at(client: &reqwest::Client, dev: &Dev, as_of: &str) -> serde_json::Value {
    let response = client
        .post(dev.url("/admin/refresh"))
        .json(&serde_json::json!({ "as_of": as_of, "verify": true }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let report: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["verified"], true, "{report}");
    report
}

/// POSTs one order to `dev`; the status code.
pub async fn post_order(client: &reqwest::Client, dev: &Dev, order: &serde_json::Value) -> u16 {
    client
        .post(dev.url("/api/orders"))
        .json(order)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// During an outage: waits until enrichment has failed at least twice, then checks that
/// the `expected` orders accepted meanwhile wait in the log's backlog.
pub async fn expect_failures_and_backlog(client: &reqwest::Client, dev: &Dev, expected: f64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while metric(client, dev, "pizza_enrich_failures_total").await < 2.0 {
        assert!(
            Instant::now() < deadline,
            "enrichment never failed during the outage"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(client, dev, "pizza_order_log_backlog").await,
        expected,
        "the backlog shows"
    );
}

/// Every `order_id` row in the `orders_enriched` files of a lake (duplicates kept).
pub async fn lake_order_ids(lake: &dyn pizza_pipeline::lake::LakeStore) -> Vec<i64> {
    let mut ids = Vec::new();
    for file in lake.list("orders_enriched").await.unwrap() {
        let bytes = lake.get(&file).await.unwrap();
        for batch in pizza_pipeline::lake::parquet::read_parquet(&file, bytes).unwrap() {
            let column = batch
                .column_by_name("order_id")
                .unwrap()
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap()
                .clone();
            ids.extend(column.values().iter().copied());
        }
    }
    ids
}

/// What `serve` answers on `POST /api/orders` with Event Hubs unreachable: a broken order
/// is refused (422) before any Azure service is involved, and a valid one is 503 with
/// `Retry-After`, nothing accepted, so the client retries later.
pub async fn assert_ingest_without_event_hubs(http: &reqwest::Client, base_url: &str) {
    let refused = http
        .post(format!("{base_url}/api/orders"))
        .header("content-type", "application/json")
        .body(r#"{"order_id": 1, "customer_id": 2, "type": "calzone"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let order = serde_json::json!({"order_id": 1, "customer_id": 2, "type": "cheese", "qty": 1,
        "retail_price": 9.99, "order_date": "2026-11-24T12:00:00Z"});
    let unavailable = http
        .post(format!("{base_url}/api/orders"))
        .json(&order)
        .send()
        .await
        .unwrap();
    assert_eq!(unavailable.status(), 503);
    assert_eq!(unavailable.headers()["retry-after"], "1");
    let body: serde_json::Value = unavailable.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("nothing was stored"),
        "{body}"
    );
}

/// A complete application-settings table for `serve`, every Azure service on a name that
/// does not resolve: what the handler does before and without them. A test points
/// `LAKE_URL` at Azurite where the lake must work.
pub const SERVE_SETTINGS: [(&str, &str); 8] = [
    (
        "EventHubConnection__fullyQualifiedNamespace",
        "pizza-test.servicebus.invalid",
    ),
    ("EVENTHUB_NAME", "orders"),
    ("EVENTHUB_CONSUMER_GROUP", "enrich"),
    ("AZURE_SQL_SERVER", "pizza-test.database.invalid"),
    ("AZURE_SQL_DATABASE", "pizza"),
    ("LAKE_URL", "https://pizzatest.blob.core.invalid/lake"),
    ("SYNAPSE_SQL_ENDPOINT", "pizza-test-ondemand.sql.invalid"),
    ("REPORT_TIME_ZONE", "America/Chicago"),
];

/// The books of every order day of the 2020s (`GET /api/ledger`): asserts that every day
/// balances and nothing waits to land, and returns the totals. The 2020s hold every order
/// the tests post.
pub async fn balanced_books(client: &reqwest::Client, dev: &Dev) -> serde_json::Value {
    let ledger = get_json(client, dev, "/api/ledger?from=2020-01-01&to=2029-12-31").await;
    assert_eq!(
        ledger["balanced"],
        serde_json::json!(true),
        "the books balance: {:#}",
        serde_json::Value::Array(
            ledger["days"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["balanced"] != serde_json::json!(true))
                .cloned()
                .collect()
        )
    );
    let totals = ledger["totals"].clone();
    assert_eq!(totals["not_yet_landed"], serde_json::json!(0), "{totals}");
    assert_eq!(ledger["oldest_not_landed"], serde_json::Value::Null);
    totals
}

/// A total of the books as a number.
pub fn total(books: &serde_json::Value, name: &str) -> i64 {
    books[name]
        .as_i64()
        .unwrap_or_else(|| panic!("{name} in {books}"))
}

/// What a stop of any kind (SIGTERM, kill -9) must leave behind once `dev` has drained:
/// every acknowledged order landed, the books balanced with every landed order accepted
/// once, and each order stored once in the lake. The landed order ids.
pub fn assert_every_acknowledged_order_landed_once(
    data_dir: &Path,
    acknowledged: &std::collections::BTreeSet<i64>,
    books: &serde_json::Value,
) -> std::collections::BTreeSet<i64> {
    let landed = landed_ids(data_dir);
    let missing: Vec<_> = acknowledged.difference(&landed).take(10).collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not landed: {missing:?}"
    );
    assert_eq!(total(books, "accepted"), landed.len() as i64);
    assert_eq!(total(books, "landed"), landed.len() as i64);
    assert!(total(books, "accepted") >= acknowledged.len() as i64);
    // Every landed order was acknowledged or was in flight when the server stopped (its
    // 202 may have been lost on the wire); none is stored twice anywhere in the lake.
    let (stored, distinct) = lake_rows(data_dir);
    assert_eq!(
        (stored as usize, distinct as usize),
        (landed.len(), landed.len()),
        "after compaction each order is stored once"
    );
    landed
}
