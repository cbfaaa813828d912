//! End to end, through the real binary: a generated order stream with every awkward case
//! goes in over HTTP; the report that comes out must equal an independent computation
//! written here, from the posted orders alone.

use crate::common::{
    balanced_books, client, get_json, get_status, load_customers, metric, refresh_at, run, total,
    wait_until_landed, Dev,
};
use chrono::{DateTime, Duration, Months, Utc};
use pizza_pipeline::lake::LakeStore;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const TYPES: [&str; 5] = ["cheese", "pepperoni", "supreme", "meat lover", "veggie"];

/// The customers of this test: id → state as written in the CSV.
fn customers() -> Vec<(i64, &'static str)> {
    let mut rows = Vec::new();
    for id in 1..=40 {
        rows.push((id, ["TX", "CA", "NY", "FL"][(id % 4) as usize]));
    }
    rows.push((41, " wy ")); // normalised to WY; a state with very few sales
    rows.push((42, "AA")); // armed forces: not in the population table, never reported
    rows.push((43, "DC"));
    rows.push((44, "VT")); // tie-breaker state
    rows.push((45, "VT"));
    rows.push((46, "OR")); // only window-edge orders: each one shows in the report
    rows.push((47, "NV")); // only time-zone offset orders
    rows.push((48, "ME")); // only edges of a mid-day as_of
    rows
}

/// One order as the test posts it, and what it means after canonicalisation.
#[derive(Clone, Debug)]
struct Posted {
    body: Value,
    order_id: i64,
    customer_id: i64,
    pizza_type: &'static str,
    qty: i64,
    cents: i64,
    order_ts: DateTime<Utc>,
}

fn order(
    order_id: i64,
    customer_id: i64,
    pizza_type: &'static str,
    qty: i64,
    cents: i64,
    written_ts: &str,
) -> Posted {
    let order_ts = DateTime::parse_from_rfc3339(written_ts)
        .unwrap()
        .with_timezone(&Utc);
    Posted {
        body: json!({
            "order_id": order_id,
            "customer_id": customer_id,
            "type": format!("  {}", pizza_type.to_uppercase()),
            "qty": qty,
            "retail_price": cents as f64 / 100.0,
            "order_date": written_ts,
            "channel": "test"
        }),
        order_id,
        customer_id,
        pizza_type,
        qty,
        cents,
        order_ts,
    }
}

fn mid_day_as_of() -> DateTime<Utc> {
    "2026-02-15T12:00:00Z".parse().unwrap()
}

fn as_of() -> DateTime<Utc> {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

/// The generated stream, in posting order.
fn stream() -> Vec<Posted> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut orders = Vec::new();
    let start = as_of() - Duration::days(430);
    for id in 1..=2500 {
        let customer_id = rng.random_range(1..=40);
        let ts = start + Duration::seconds(rng.random_range(0..(440 * 86_400)));
        let ts = ts.min(as_of() + Duration::days(5));
        orders.push(order(
            id,
            customer_id,
            TYPES[rng.random_range(0..5)],
            rng.random_range(1..=4),
            rng.random_range(500..=6000),
            &ts.to_rfc3339(),
        ));
    }
    let window_start = as_of().checked_sub_months(Months::new(12)).unwrap();
    // Window edges (customer 46, alone in OR): start is in, as_of is out, one
    // microsecond before as_of is in, one microsecond before start is out.
    let edge = |id, pizza, written: &str| order(id, 46, pizza, 5, 1000, written);
    orders.push(edge(3001, "veggie", &window_start.to_rfc3339()));
    orders.push(edge(3002, "cheese", &as_of().to_rfc3339()));
    orders.push(edge(3003, "supreme", "2026-02-28T23:59:59.999999Z"));
    orders.push(edge(3004, "pepperoni", "2025-02-28T23:59:59.999999Z"));
    // Offsets (customer 47, alone in NV): 19:30 at −05:00 is 00:30 UTC on as_of's day
    // (out); 00:30 at +01:00 is 23:30 UTC the day before (in).
    orders.push(order(
        3005,
        47,
        "supreme",
        6,
        5555,
        "2026-02-28T19:30:00-05:00",
    ));
    orders.push(order(
        3006,
        47,
        "cheese",
        6,
        6666,
        "2026-03-01T00:30:00+01:00",
    ));
    // Edges of an explicit mid-day as_of (customer 48, alone in ME).
    let noon = mid_day_as_of();
    let noon_start = noon.checked_sub_months(Months::new(12)).unwrap();
    let micro = Duration::microseconds(1);
    let edge = |id, pizza, ts: DateTime<Utc>| order(id, 48, pizza, 4, 800, &ts.to_rfc3339());
    orders.push(edge(3020, "cheese", noon));
    orders.push(edge(3021, "veggie", noon - micro));
    orders.push(edge(3022, "supreme", noon_start));
    orders.push(edge(3023, "pepperoni", noon_start - micro));
    // Unknown customer: landed, flagged, never in the report.
    orders.push(order(
        3007,
        999_999,
        "cheese",
        50,
        99_999,
        "2026-01-15T12:00:00Z",
    ));
    // A state outside the population table.
    orders.push(order(
        3008,
        42,
        "cheese",
        50,
        99_999,
        "2026-01-15T12:00:00Z",
    ));
    // Few sales: WY has one type only; DC two.
    orders.push(order(
        3009,
        41,
        "pepperoni",
        2,
        2000,
        "2025-07-04T18:00:00Z",
    ));
    orders.push(order(3010, 43, "cheese", 1, 1000, "2025-07-04T18:00:00Z"));
    orders.push(order(3011, 43, "veggie", 1, 1000, "2025-07-04T18:00:00Z"));
    // Ties in VT: cheese and veggie tie on units and sales (name decides: cheese first);
    // supreme ties on units but sells more (ranks above both).
    orders.push(order(3012, 44, "veggie", 3, 3000, "2025-09-01T12:00:00Z"));
    orders.push(order(3013, 45, "cheese", 3, 3000, "2025-09-01T12:00:00Z"));
    orders.push(order(3014, 44, "supreme", 3, 3001, "2025-09-01T12:00:00Z"));
    orders.push(order(
        3015,
        45,
        "pepperoni",
        1,
        100_000,
        "2025-09-01T12:00:00Z",
    ));
    // Exact-cent rounding through the API: 12.345 → 12.35.
    let mut half = order(3016, 44, "pepperoni", 1, 1235, "2025-10-01T12:00:00Z");
    half.body["retail_price"] = json!(12.345);
    orders.push(half);
    // Duplicates: identical re-posts of a few orders (counted once) …
    for id in [10, 20, 30, 3012] {
        orders.push(orders.iter().find(|o| o.order_id == id).unwrap().clone());
    }
    // … and a conflicting duplicate: same id, different payload; the first one stands.
    let mut conflict = orders.iter().find(|o| o.order_id == 40).unwrap().clone();
    conflict.body["qty"] = json!(999);
    conflict.qty = 999;
    orders.push(conflict);
    orders
}

#[derive(Debug, PartialEq, Eq, Clone)]
struct ExpectedRow {
    state: String,
    rank: i64,
    pizza_type: String,
    pizzas_sold: i64,
    gross_cents: i64,
    per_capita_micros: i64,
    unique_customers: i64,
    adult_population: i64,
}

/// The report, computed from the posted orders alone.
/// Adults per state code, from the shipped Census file.
fn adult_population() -> HashMap<String, i64> {
    csv::Reader::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/census/adult_population_by_state.csv"
    ))
    .unwrap()
    .records()
    .map(|r| {
        let r = r.unwrap();
        (r[1].to_string(), r[3].parse().unwrap())
    })
    .collect()
}

/// Each test customer's state, as the customer table normalises it.
fn customer_states() -> HashMap<i64, String> {
    customers()
        .into_iter()
        .map(|(id, state)| (id, state.trim().to_uppercase()))
        .collect()
}

/// What the books must say, computed from the posted orders alone (the first version of
/// each order_id wins).
struct ExpectedBooks {
    accepted: i64,
    unknown_customer: i64,
    no_population_row: i64,
    outside_report_window: i64,
    in_report: i64,
    in_report_units: i64,
}

fn independent_books(posted: &[Posted], as_of: DateTime<Utc>) -> ExpectedBooks {
    let (population, customer_state) = (adult_population(), customer_states());
    let window_start = as_of.checked_sub_months(Months::new(12)).unwrap();
    let mut first: BTreeMap<i64, &Posted> = BTreeMap::new();
    for p in posted {
        first.entry(p.order_id).or_insert(p);
    }
    let mut books = ExpectedBooks {
        accepted: first.len() as i64,
        unknown_customer: 0,
        no_population_row: 0,
        outside_report_window: 0,
        in_report: 0,
        in_report_units: 0,
    };
    for p in first.values() {
        match customer_state.get(&p.customer_id) {
            None => books.unknown_customer += 1,
            Some(state) if !population.contains_key(state) => books.no_population_row += 1,
            Some(_) if p.order_ts < window_start || p.order_ts >= as_of => {
                books.outside_report_window += 1
            }
            Some(_) => {
                books.in_report += 1;
                books.in_report_units += p.qty;
            }
        }
    }
    books
}

/// The units of every row of the report served now, all states.
async fn report_rows_units(http: &reqwest::Client, dev: &Dev) -> i64 {
    let states = get_json(http, dev, "/api/states").await;
    let mut units = 0;
    for state in states["states"].as_array().unwrap() {
        let code = state["state"].as_str().unwrap();
        let rows = get_json(http, dev, &format!("/api/report?state={code}")).await;
        units += rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["pizzas_sold"].as_i64().unwrap())
            .sum::<i64>();
    }
    units
}

fn independent_report(
    posted: &[Posted],
    as_of: DateTime<Utc>,
) -> BTreeMap<String, Vec<ExpectedRow>> {
    let (population, customer_state) = (adult_population(), customer_states());
    let window_start = as_of.checked_sub_months(Months::new(12)).unwrap();

    let mut first: BTreeMap<i64, &Posted> = BTreeMap::new();
    for p in posted {
        first.entry(p.order_id).or_insert(p); // the first received wins
    }
    #[derive(Default)]
    struct Acc {
        qty: i64,
        cents: i64,
        customers: BTreeSet<i64>,
    }
    let mut acc: BTreeMap<(String, &str), Acc> = BTreeMap::new();
    for p in first.values() {
        if p.order_ts < window_start || p.order_ts >= as_of {
            continue;
        }
        let Some(state) = customer_state.get(&p.customer_id) else {
            continue;
        };
        if !population.contains_key(state) {
            continue;
        }
        let a = acc.entry((state.clone(), p.pizza_type)).or_default();
        a.qty += p.qty;
        a.cents += p.cents;
        a.customers.insert(p.customer_id);
    }
    let mut by_state: BTreeMap<String, Vec<ExpectedRow>> = BTreeMap::new();
    for ((state, pizza), a) in acc {
        let adults = population[&state];
        by_state
            .entry(state.clone())
            .or_default()
            .push(ExpectedRow {
                state,
                rank: 0,
                pizza_type: pizza.to_string(),
                pizzas_sold: a.qty,
                gross_cents: a.cents,
                per_capita_micros: ((a.cents as i128 * 10_000 * 2 + adults as i128)
                    / (2 * adults as i128)) as i64,
                unique_customers: a.customers.len() as i64,
                adult_population: adults,
            });
    }
    for rows in by_state.values_mut() {
        rows.sort_by(|a, b| {
            b.pizzas_sold
                .cmp(&a.pizzas_sold)
                .then(b.gross_cents.cmp(&a.gross_cents))
                .then(a.pizza_type.cmp(&b.pizza_type))
        });
        rows.truncate(3);
        for (i, row) in rows.iter_mut().enumerate() {
            row.rank = i as i64 + 1;
        }
    }
    by_state
}

fn served_row(v: &Value) -> ExpectedRow {
    ExpectedRow {
        state: v["state"].as_str().unwrap().to_string(),
        rank: v["rank"].as_i64().unwrap(),
        pizza_type: v["pizza_type"].as_str().unwrap().to_string(),
        pizzas_sold: v["pizzas_sold"].as_i64().unwrap(),
        gross_cents: (v["gross_sales_usd"].as_f64().unwrap() * 100.0).round() as i64,
        per_capita_micros: (v["gross_sales_per_capita_usd"].as_f64().unwrap() * 1e6).round() as i64,
        unique_customers: v["unique_customers"].as_i64().unwrap(),
        adult_population: v["adult_population"].as_i64().unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn generated_stream_matches_an_independent_report() {
    let tmp = tempfile::tempdir().unwrap();
    run_scenario(&tmp.path().join("data"), &[]).await;
}

/// The same scenario with the lake in Blob Storage (Azurite, through the Azure Blob SDK
/// adapter); then the remote lake is checked on its own, and a start with an empty local
/// mirror restores it from the remote lake.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_stream_with_the_lake_on_azurite() {
    let azurite = crate::common::azurite::Azurite::start();
    let lake_url = azurite.container_url("lake");
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let posted = run_scenario(&data_dir, &["--lake-url", &lake_url]).await;

    let remote = pizza_pipeline::lake::AdlsLake::new(&lake_url, None).unwrap();
    let files = remote.list("orders_enriched").await.unwrap();
    assert!(!files.is_empty(), "the lake is in the container");
    let remote_ids = crate::common::lake_order_ids(&remote).await;
    let distinct: BTreeSet<i64> = posted.iter().map(|p| p.order_id).collect();
    let remote_set: BTreeSet<i64> = remote_ids.iter().copied().collect();
    assert_eq!(
        remote_set, distinct,
        "every accepted order is in the remote lake"
    );

    // The local copy is only a mirror: without it, the next start restores it.
    std::fs::remove_dir_all(data_dir.join("lake")).unwrap();
    let dev = Dev::start(&data_dir, &["--lake-url", &lake_url]);
    let http = client();
    let rounded: Value = get_json(&http, &dev, "/api/orders/3016").await;
    assert_eq!(rounded["retail_price"], json!(12.35));
    assert!(
        !dev.log_text().contains("sig="),
        "the SAS token never reaches the log"
    );
    dev.stop();
}

/// Posts the generated stream to `dev` (started with `extra` arguments), checks every
/// report against the independent computation, and returns what was posted.
async fn run_scenario(data_dir: &std::path::Path, extra: &[&str]) -> Vec<Posted> {
    std::fs::create_dir_all(data_dir).unwrap();
    load_customers(data_dir, &customers());
    let dev = Dev::start(data_dir, extra);
    let http = client();

    // Post: the first 1000 one by one (concurrently), the rest as arrays of 50, in order.
    let posted = stream();
    let (singles, rest) = posted.split_at(1000);
    let mut tasks = Vec::new();
    for chunk in singles.chunks(100) {
        let (http, url, chunk) = (http.clone(), dev.url("/api/orders"), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            for p in chunk {
                let response = http.post(&url).json(&p.body).send().await.unwrap();
                assert_eq!(
                    response.status(),
                    202,
                    "order {}: {}",
                    p.order_id,
                    response.text().await.unwrap()
                );
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut conflicts = 0;
    let mut duplicates = 0;
    for chunk in rest.chunks(50) {
        let bodies: Vec<&Value> = chunk.iter().map(|p| &p.body).collect();
        let response = http
            .post(dev.url("/api/orders"))
            .json(&bodies)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        let answer: Value = response.json().await.unwrap();
        conflicts += answer["conflicts"].as_array().unwrap().len();
        duplicates += answer["duplicates"].as_array().unwrap().len();
    }
    assert_eq!(
        (duplicates, conflicts),
        (4, 1),
        "the re-posts are recognised"
    );
    wait_until_landed(&http, &dev).await;

    // Single orders are readable from the warehouse once landed.
    let unknown: Value = get_json(&http, &dev, "/api/orders/3007").await;
    assert_eq!(unknown["customer_found"], json!(false));
    assert_eq!(unknown["state"], Value::Null);
    let rounded: Value = get_json(&http, &dev, "/api/orders/3016").await;
    assert_eq!(rounded["retail_price"], json!(12.35));
    assert_eq!(rounded["pizza_type"], json!("pepperoni"));
    assert_eq!(rounded["state"], json!("VT"));
    let conflicted: Value = get_json(&http, &dev, "/api/orders/40").await;
    assert_ne!(
        conflicted["qty"],
        json!(999),
        "the first version of order 40 stands"
    );
    let offset: Value = get_json(&http, &dev, "/api/orders/3006").await;
    assert_eq!(offset["order_ts"], json!("2026-02-28T23:30:00.000000Z"));
    assert_eq!(get_status(&http, &dev, "/api/orders/424242").await, 404);

    // An explicit mid-day as_of: both window edges fall inside day partitions.
    let expected_noon = independent_report(&posted, mid_day_as_of());
    let me: Vec<&str> = expected_noon["ME"]
        .iter()
        .map(|r| r.pizza_type.as_str())
        .collect();
    assert_eq!(
        me,
        vec!["supreme", "veggie"],
        "start is in, as_of is out, mid-day too"
    );
    refresh_at(&http, &dev, "2026-02-15T12:00:00Z").await;
    compare_every_state(&http, &dev, &expected_noon).await;

    // The nightly shape: as_of at midnight.
    let refresh = refresh_at(&http, &dev, "2026-03-01T00:00:00Z").await;
    assert_eq!(
        refresh["window_start"],
        json!("2025-03-01T00:00:00.000000Z")
    );
    assert_eq!(refresh["window_end"], json!("2026-03-01T00:00:00.000000Z"));
    let expected = independent_report(&posted, as_of());
    assert!(
        expected.len() >= 6,
        "the generated data covers several states"
    );
    let report_rows = compare_every_state(&http, &dev, &expected).await;

    // The books balance, and equal what this test sent and what the report counts.
    let books = balanced_books(&http, &dev).await;
    let expected_books = independent_books(&posted, as_of());
    assert_eq!(total(&books, "accepted"), expected_books.accepted);
    assert_eq!(total(&books, "landed"), expected_books.accepted);
    assert_eq!(
        (total(&books, "duplicates"), total(&books, "conflicts")),
        (4, 1)
    );
    assert_eq!(total(&books, "quarantined"), 0);
    assert_eq!(total(&books, "generated"), 0);
    assert_eq!(total(&books, "in_report"), expected_books.in_report);
    assert_eq!(
        (
            total(&books["excluded"], "unknown_customer"),
            total(&books["excluded"], "no_population_row"),
            total(&books["excluded"], "outside_report_window"),
        ),
        (
            expected_books.unknown_customer,
            expected_books.no_population_row,
            expected_books.outside_report_window
        )
    );
    let report_units: i64 = report_rows_units(&http, &dev).await;
    assert!(
        report_units <= expected_books.in_report_units,
        "the report's top 3s count part of what the books say is in the report"
    );
    // The Prometheus counters of this run tell the same story.
    for (counter, figure) in [
        ("pizza_orders_accepted_total", "accepted"),
        ("pizza_orders_duplicate_total", "duplicates"),
        ("pizza_order_conflicts_total", "conflicts"),
        ("pizza_orders_landed_total", "landed"),
    ] {
        assert_eq!(
            metric(&http, &dev, counter).await as i64,
            total(&books, figure),
            "{counter} and the books' {figure}"
        );
    }
    assert_eq!(
        metric(&http, &dev, "pizza_unknown_customers_total").await as i64,
        total(&books["excluded"], "unknown_customer")
    );
    assert_eq!(expected["WY"].len(), 1);
    let or: Vec<&str> = expected["OR"]
        .iter()
        .map(|r| r.pizza_type.as_str())
        .collect();
    assert_eq!(
        or,
        vec!["supreme", "veggie"],
        "window start is in, as_of is out"
    );
    let nv: Vec<&str> = expected["NV"]
        .iter()
        .map(|r| r.pizza_type.as_str())
        .collect();
    assert_eq!(
        nv,
        vec!["cheese"],
        "offsets are converted to UTC before the window test"
    );
    assert_eq!(expected["DC"].len(), 2);
    let vt: Vec<&str> = expected["VT"]
        .iter()
        .map(|r| r.pizza_type.as_str())
        .collect();
    assert_eq!(vt, vec!["supreme", "cheese", "veggie"]);
    assert!(!expected.contains_key("AA"));
    // The report carries an ETag: a repeated switch revalidates to a 304.
    let first = http
        .get(dev.url("/api/report?state=TX"))
        .send()
        .await
        .unwrap();
    let etag = first.headers()["etag"].clone();
    let again = http
        .get(dev.url("/api/report?state=TX"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(
        get_status(&http, &dev, "/api/report?state=Texas").await,
        400
    );

    let log = dev.log_text();
    assert!(
        log.contains("state_top_pizzas refreshed"),
        "the log is the real one"
    );
    assert!(
        !log.contains("Main St") && !log.contains("Customer 4"),
        "logs carry no customer names or addresses"
    );
    dev.stop();

    // The warehouse file is readable by any DuckDB client once dev has stopped.
    let db = duckdb::Connection::open(data_dir.join("warehouse.duckdb")).unwrap();
    let unique_ids: i64 = db
        .query_row(
            "SELECT count(DISTINCT order_id) FROM orders_enriched",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let rows: i64 = db
        .query_row("SELECT count(*) FROM orders_enriched", [], |r| r.get(0))
        .unwrap();
    let distinct_posted = posted
        .iter()
        .map(|p| p.order_id)
        .collect::<BTreeSet<_>>()
        .len() as i64;
    assert_eq!((rows, unique_ids), (distinct_posted, distinct_posted));
    let table_rows: i64 = db
        .query_row("SELECT count(*) FROM state_top_pizzas", [], |r| r.get(0))
        .unwrap();
    assert_eq!(table_rows as usize, report_rows);
    let tx_top: String = db
        .query_row(
            "SELECT pizza_type FROM state_top_pizzas WHERE state = 'TX' AND rank = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tx_top, expected["TX"][0].pizza_type);
    drop(db); // DuckDB allows one writer process per file

    // The CLI reads the same table.
    let printed: Vec<Value> = serde_json::from_str(&run(&[
        "report",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--state",
        "vt",
    ]))
    .unwrap();
    assert_eq!(
        printed.iter().map(served_row).collect::<Vec<_>>(),
        expected["VT"]
    );
    posted
}

/// Compares the served report of every state of the population table; returns the rows.
async fn compare_every_state(
    http: &reqwest::Client,
    dev: &Dev,
    expected: &BTreeMap<String, Vec<ExpectedRow>>,
) -> usize {
    let states: Value = get_json(http, dev, "/api/states").await;
    let all_states = states["states"].as_array().unwrap();
    assert_eq!(all_states.len(), 52);
    let mut report_rows = 0;
    for s in all_states {
        let code = s["state"].as_str().unwrap();
        let url = dev.url(&format!("/api/report?state={}", code.to_lowercase()));
        let served: Vec<Value> = http.get(url).send().await.unwrap().json().await.unwrap();
        let served: Vec<ExpectedRow> = served.iter().map(served_row).collect();
        assert_eq!(
            served,
            expected.get(code).cloned().unwrap_or_default(),
            "state {code}"
        );
        report_rows += served.len();
    }
    report_rows
}
