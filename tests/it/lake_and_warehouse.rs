//! The lake and the warehouse through the library: at-least-once landing, compaction,
//! the daily roll-ups, the report core and the views must all count each order once, the
//! first received winning. Every refresh here is verified: DuckDB's SQL definition
//! recomputes the report from the orders and must agree on every figure.

use chrono::{DateTime, Duration, Utc};
use pizza_pipeline::customers::Customer;
use pizza_pipeline::enrich::EnrichedOrder;
use pizza_pipeline::lake::{compact_lake, land_batch, LakeGate, LakeStore, LocalLake};
use pizza_pipeline::metrics::Metrics;
use pizza_pipeline::order::{OrderEvent, PizzaType};
use pizza_pipeline::serving::{ServedReportCache, ServedReportJson};
use pizza_pipeline::summary::{
    build_report_as_is, Refresh, RefreshOptions, RefreshReport, ReportRow, ReportWindow,
    SummaryError,
};
use pizza_pipeline::warehouse::Warehouse;
use std::sync::Arc;

fn row(
    order_id: i64,
    qty: i32,
    received: &str,
    seq: i64,
    customer: Option<Arc<Customer>>,
) -> EnrichedOrder {
    let received_at: DateTime<Utc> = received.parse().unwrap();
    EnrichedOrder {
        event: OrderEvent {
            order_id,
            customer_id: customer.as_ref().map(|c| c.customer_id).unwrap_or(999),
            pizza_type: PizzaType::Cheese,
            qty,
            retail_price_cents: 1001 * qty as i64,
            order_ts: "2026-01-10T10:00:00Z".parse().unwrap(),
            received_at,
        },
        customer,
        stream_partition: "0".into(),
        stream_seq: seq,
        enriched_at: received_at + Duration::seconds(1),
    }
}

fn texan() -> Arc<Customer> {
    Arc::new(Customer {
        customer_id: 1,
        name: "Ann".into(),
        address: "1 Main St".into(),
        city: "Austin".into(),
        state: "TX".into(),
        zip_code: "73301".into(),
    })
}

/// The embedded report side as `dev` wires it: the refresh use-case over the warehouse,
/// and the served copy that `GET /api/report` answers from.
struct Summary {
    refresh: Arc<Refresh>,
    warehouse: Arc<Warehouse>,
    served: ServedReportCache,
}

impl Summary {
    fn new(warehouse: Arc<Warehouse>, lake: Arc<LocalLake>, gate: LakeGate) -> Self {
        let metrics = Arc::new(Metrics::new());
        let population = Arc::new(pizza_pipeline::population::shipped());
        let refresh = Refresh::new(lake, gate, warehouse.clone(), population, metrics);
        Summary {
            refresh: Arc::new(refresh),
            served: ServedReportCache::new(warehouse.clone()).unwrap(),
            warehouse,
        }
    }

    /// A verified refresh: DuckDB's SQL must agree with the report core.
    async fn refresh(&self, window: ReportWindow) -> Result<RefreshReport, SummaryError> {
        self.refresh
            .refresh(window, RefreshOptions { verify: true })
            .await
    }

    async fn refresh_unverified(
        &self,
        window: ReportWindow,
    ) -> Result<RefreshReport, SummaryError> {
        self.refresh
            .refresh(window, RefreshOptions::default())
            .await
    }

    fn cache(&self) -> Arc<ServedReportJson> {
        self.served.current().unwrap()
    }

    fn last_as_of(&self) -> Option<DateTime<Utc>> {
        self.warehouse.served_report().unwrap().last_as_of
    }
}

/// A lake, a warehouse over it and the summary service, in `dir`.
struct Embedded {
    lake: Arc<LocalLake>,
    gate: LakeGate,
    warehouse: Arc<Warehouse>,
    summary: Arc<Summary>,
    population: Vec<pizza_pipeline::population::StatePopulation>,
}

fn embedded(dir: &std::path::Path) -> Embedded {
    let lake_root = dir.join("lake");
    let lake = Arc::new(LocalLake::new(&lake_root));
    let gate = LakeGate::default();
    let population = pizza_pipeline::population::shipped();
    let warehouse = Arc::new(
        Warehouse::open(
            &dir.join("w.duckdb"),
            lake.clone(),
            gate.clone(),
            &population,
        )
        .unwrap(),
    );
    let summary = Arc::new(Summary::new(warehouse.clone(), lake.clone(), gate.clone()));
    Embedded {
        lake,
        gate,
        warehouse,
        summary,
        population,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_batches_compaction_and_refresh_count_each_order_once() {
    let tmp = tempfile::tempdir().unwrap();
    let Embedded {
        lake,
        gate,
        warehouse,
        summary,
        population,
    } = embedded(tmp.path());

    // Empty lake: the view binds and is empty; a refresh gives an empty table.
    let count = |w: &Arc<Warehouse>| {
        let w = w.clone();
        std::thread::spawn(move || w.query_i64("SELECT count(*) FROM orders_enriched").unwrap())
            .join()
            .unwrap()
    };
    assert_eq!(count(&warehouse), 0);
    let window =
        ReportWindow::ending_at("2026-02-01T00:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
    assert_eq!(summary.refresh(window).await.unwrap().report_rows, 0);

    // Batch 1..=3 lands, then is re-delivered as part of 1..=4 (after a lost checkpoint);
    // order 1 also appears later with another payload (as Event Hubs could deliver it).
    let tx = Some(texan());
    let first = vec![
        row(1, 1, "2026-01-10T10:00:01Z", 1, tx.clone()),
        row(2, 2, "2026-01-10T10:00:02Z", 2, tx.clone()),
        row(3, 3, "2026-01-10T10:00:03Z", 3, None),
    ];
    land_batch(lake.as_ref(), &first, "0", 1, 3).await.unwrap();
    land_batch(lake.as_ref(), &first, "0", 1, 3).await.unwrap(); // same range: same file
    let mut again = first.clone();
    again.push(row(4, 4, "2026-01-10T10:00:04Z", 4, tx.clone()));
    land_batch(lake.as_ref(), &again, "0", 1, 4).await.unwrap();
    land_batch(
        lake.as_ref(),
        &[row(1, 9, "2026-01-10T11:00:00Z", 5, tx.clone())],
        "0",
        5,
        5,
    )
    .await
    .unwrap();
    assert_eq!(lake.list("orders_enriched").await.unwrap().len(), 3);

    assert_eq!(count(&warehouse), 4, "each order_id once in the view");
    let w = warehouse.clone();
    let qty_of_1 = std::thread::spawn(move || {
        w.query_i64("SELECT qty FROM orders_enriched WHERE order_id = 1")
            .unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(qty_of_1, 1, "the first received version wins");

    // The report core and DuckDB's SQL each de-duplicate on their own too (first
    // received wins), even before any compaction: orders 1 (qty 1, not the later qty 9),
    // 2 and 4 → 7 pizzas.
    let built = core_rows(&lake, window).await;
    assert_eq!(
        (
            built.len(),
            built[0].pizzas_sold,
            built[0].gross_sales_cents
        ),
        (1, 7, 7007)
    );
    let files = lake.list("orders_enriched").await.unwrap();
    let w = warehouse.clone();
    let recounted = tokio::task::spawn_blocking(move || w.recompute(&window, &files).unwrap())
        .await
        .unwrap();
    assert_eq!(
        pizza_pipeline::summary::first_difference(&built, &recounted, "DuckDB"),
        None
    );

    // Compaction leaves one file per day, de-duplicated, and changes nothing visible.
    let report = compact_lake(lake.as_ref(), &gate, None).await.unwrap();
    assert_eq!(
        (
            report.partitions_compacted,
            report.files_removed,
            report.rows_written,
            report.duplicates_dropped
        ),
        (1, 3, 4, 4)
    );
    let files = lake.list("orders_enriched").await.unwrap();
    assert_eq!(files.len(), 1);
    assert!(files[0].contains("/compacted-"), "{files:?}");
    assert_eq!(count(&warehouse), 4);
    assert_eq!(
        compact_lake(lake.as_ref(), &gate, None)
            .await
            .unwrap()
            .partitions_compacted,
        0,
        "nothing left to do"
    );

    // The report: orders 1, 2, 4 (order 3's customer is unknown) → 7 pizzas for TX.
    let refreshed = summary.refresh(window).await.unwrap();
    assert_eq!(refreshed.report_rows, 1);
    let rows = warehouse.report_for_state("TX").unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].pizzas_sold,
            rows[0].gross_sales_cents,
            rows[0].unique_customers
        ),
        (7, 7007, 1)
    );
    // 70.07 USD over 22,945,206 Texan adults (Census V2024).
    let adults = population
        .iter()
        .find(|p| p.state_code == "TX")
        .unwrap()
        .adult_population;
    assert_eq!(rows[0].adult_population, adults);
    let expected_micros = ((7007i128 * 10_000 * 2 + adults as i128) / (2 * adults as i128)) as i64;
    assert_eq!(rows[0].per_capita_micro_usd, expected_micros);
    assert_eq!(
        String::from_utf8(summary.cache().state_json("TX").to_vec())
            .unwrap()
            .matches("\"rank\"")
            .count(),
        1
    );
    assert_eq!(&summary.cache().state_json("WY")[..], b"[]");

    // A window that ends before the orders sees none of them (and reads no file).
    let early =
        ReportWindow::ending_at("2026-01-10T10:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
    let refreshed = summary.refresh(early).await.unwrap();
    assert_eq!((refreshed.report_rows, refreshed.files_read), (0, 1));
    let before =
        ReportWindow::ending_at("2026-01-10T00:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
    assert_eq!(summary.refresh(before).await.unwrap().files_read, 0);
}

/// A stream event that is not an order never blocks the stream and is never dropped
/// silently: the batch lands, the poison event goes to the lake's quarantine with its
/// reason, and the invocation succeeds (so the checkpoint moves on).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_events_are_quarantined_with_their_reason() {
    use crate::common::in_process::InProcess;
    use pizza_pipeline::functions::invocation;
    use tower::ServiceExt;

    let handler = InProcess::start(chrono_tz::Tz::UTC, &[(*texan()).clone()]);
    let (app, lake) = (handler.app.clone(), handler.lake.clone());

    let good = row(1, 2, "2026-01-10T10:00:01Z", 1, None).event.to_json();
    let now = Utc::now();
    let events = vec![(7, good.as_str(), now), (8, r#"{"hello":"world"}"#, now)];
    let request = axum::http::Request::post("/enrich_orders")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(invocation::encode_eventhub_batch(
            "0", &events, "orders", "$Default",
        )))
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);

    let files = lake.list("").await.unwrap();
    let landed: Vec<&String> = files
        .iter()
        .filter(|f| f.starts_with("orders_enriched/"))
        .collect();
    assert_eq!(landed.len(), 1, "{files:?}");
    let quarantined = files
        .iter()
        .find(|f| f.starts_with("quarantine/enrich/"))
        .expect("a quarantine file");
    let text = String::from_utf8(lake.get(quarantined).await.unwrap().to_vec()).unwrap();
    assert!(
        text.contains("not an order event") && text.contains("\\\"hello\\\""),
        "{text}"
    );
    assert!(text.contains("\"seq\":8"), "{text}");
}

/// The report is served from the JSON copy beside the database, so a process that only
/// serves it never opens DuckDB; the copy follows every build, a damaged copy is rebuilt
/// from the database, and a second process on the same warehouse is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_is_served_without_opening_duckdb() {
    let tmp = tempfile::tempdir().unwrap();
    let Embedded {
        lake,
        gate,
        warehouse,
        summary,
        population,
    } = embedded(tmp.path());
    let tx = Some(texan());
    land_batch(
        lake.as_ref(),
        &[row(1, 2, "2026-01-10T10:00:01Z", 1, tx.clone())],
        "0",
        1,
        1,
    )
    .await
    .unwrap();
    let as_of: DateTime<Utc> = "2026-02-01T00:00:00Z".parse().unwrap();
    summary
        .refresh(ReportWindow::ending_at(as_of, chrono_tz::Tz::UTC))
        .await
        .unwrap();
    let built = warehouse.report_rows().unwrap();
    assert_eq!(built.len(), 1, "one Texan row");
    assert_eq!(summary.last_as_of(), Some(as_of));

    // While this warehouse is open, no other may open it.
    let db = tmp.path().join("w.duckdb");
    let refused = Warehouse::open_deferred(&db, lake.clone(), gate.clone(), &population)
        .err()
        .expect("a second warehouse on the same file is refused");
    assert!(refused.to_string().contains("still running"), "{refused}");
    drop(summary);
    drop(warehouse);

    // Without the database file, the served copy alone answers, and DuckDB is not opened
    // (it would have created the file again).
    let moved = tmp.path().join("w.duckdb.moved");
    std::fs::rename(&db, &moved).unwrap();
    let deferred =
        Arc::new(Warehouse::open_deferred(&db, lake.clone(), gate.clone(), &population).unwrap());
    let served = Summary::new(deferred.clone(), lake.clone(), gate.clone());
    assert_eq!(served.last_as_of(), Some(as_of));
    let texas = String::from_utf8(served.cache().state_json("TX").to_vec()).unwrap();
    assert!(texas.contains(r#""pizzas_sold":2"#), "{texas}");
    assert!(!db.exists(), "serving the report opened DuckDB");
    drop(served);
    drop(deferred);

    // A damaged copy is replaced from the database.
    std::fs::rename(&moved, &db).unwrap();
    let copy = tmp.path().join("w.report.json");
    std::fs::write(&copy, b"{ not json").unwrap();
    let reopened =
        Arc::new(Warehouse::open_deferred(&db, lake.clone(), gate.clone(), &population).unwrap());
    let served = reopened.served_report().unwrap();
    assert_eq!(served.rows, built);
    assert_eq!(served.last_as_of, Some(as_of));
    let rewritten: pizza_pipeline::warehouse::ServedReport =
        serde_json::from_slice(&std::fs::read(&copy).unwrap()).unwrap();
    assert_eq!(rewritten, *served);
}

/// The report core's rows of `window`, from the lake as it is.
async fn core_rows(lake: &Arc<LocalLake>, window: ReportWindow) -> Vec<ReportRow> {
    let population = pizza_pipeline::population::shipped();
    build_report_as_is(lake.as_ref(), &window, &population, Utc::now())
        .await
        .unwrap()
        .rows
}

/// The daily roll-ups written with compaction are what the report core reads for days
/// wholly inside its window; a roll-up that does not belong to the day's compacted file
/// is ignored, and without roll-ups the same report comes from the orders. A roll-up
/// that lies is caught by `--verify`, which then publishes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollups_are_used_only_while_they_match_the_compacted_day() {
    use pizza_pipeline::lake::rollup::ROLLUP_TABLE;
    use pizza_pipeline::lake::rollup::{CustomerSet, DayRollup, GroupKey, GroupTotals};
    let tmp = tempfile::tempdir().unwrap();
    let Embedded {
        lake,
        warehouse,
        summary,
        ..
    } = embedded(tmp.path());
    let tx = Some(texan());
    let orders = vec![
        row(1, 2, "2026-01-10T10:00:01Z", 1, tx.clone()),
        row(2, 3, "2026-01-10T10:00:02Z", 2, tx.clone()),
        row(3, 5, "2026-01-10T10:00:03Z", 3, None),
    ];
    land_batch(lake.as_ref(), &orders, "0", 1, 3).await.unwrap();
    // The window cuts January: the day is read from its own roll-up, never a month's.
    let window =
        ReportWindow::ending_at("2026-01-20T00:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
    let texas = |w: &Arc<Warehouse>| {
        let rows = w.report_for_state("TX").unwrap();
        (
            rows[0].pizzas_sold,
            rows[0].gross_sales_cents,
            rows[0].unique_customers,
        )
    };

    // The refresh compacts the day and writes its roll-up: one row for customer 1.
    let refreshed = summary.refresh(window).await.unwrap();
    assert_eq!(refreshed.files_read, 1, "the roll-up alone");
    assert_eq!(
        (refreshed.days_from_rollups, refreshed.days_read_as_orders),
        (1, 0)
    );
    assert!(refreshed.verified);
    assert_eq!(texas(&warehouse), (5, 5005, 1));
    let rollups = lake.list(ROLLUP_TABLE).await.unwrap();
    assert_eq!(rollups.len(), 1, "{rollups:?}");

    // The report really comes from the roll-up: doctor it, and an unverified report
    // follows it, while a verified one is refused, naming the difference, and leaves
    // the report as it was.
    let mut customers = roaring::RoaringTreemap::new();
    customers.insert(1);
    customers.insert(2);
    let doctored = DayRollup {
        groups: vec![(
            GroupKey {
                customer_found: true,
                state: Some("TX".into()),
                pizza_type: "cheese".into(),
            },
            GroupTotals {
                orders: 1,
                generated_orders: 0,
                pizzas: 40,
                gross_cents: 99_900,
                customers: CustomerSet::Built(customers),
            },
        )],
        repeats: Default::default(),
    }
    .to_parquet()
    .unwrap();
    lake.put(&rollups[0], doctored.clone()).await.unwrap();
    let refused = summary.refresh(window).await.unwrap_err().to_string();
    assert!(
        refused.contains("the report core has TX rank 1: cheese, 40 pizzas, $999.00")
            && refused.contains("DuckDB has TX rank 1: cheese, 5 pizzas, $50.05"),
        "{refused}"
    );
    assert_eq!(texas(&warehouse), (5, 5005, 1), "nothing published");
    summary.refresh_unverified(window).await.unwrap();
    assert_eq!(texas(&warehouse), (40, 99_900, 2));

    // A roll-up named after another compacted file is not this day's: ignored.
    let stray = rollups[0].replace("rollup-", "rollup-0");
    lake.put(&stray, doctored).await.unwrap();
    lake.delete(&rollups[0]).await.unwrap();
    let texas_of = |rows: Vec<ReportRow>| {
        let row = rows.iter().find(|r| r.state == "TX").unwrap();
        (row.pizzas_sold, row.gross_sales_cents, row.unique_customers)
    };
    assert_eq!(
        texas_of(core_rows(&lake, window).await),
        (5, 5005, 1),
        "from the orders again"
    );
    // The next refresh writes the missing roll-up and removes the stray one.
    summary.refresh(window).await.unwrap();
    assert_eq!(texas(&warehouse), (5, 5005, 1));
    assert_eq!(lake.list(ROLLUP_TABLE).await.unwrap(), rollups);

    // New orders for the day: until the next compaction the day is read from its
    // files (the roll-up no longer matches), after it from a new roll-up.
    land_batch(
        lake.as_ref(),
        &[row(4, 1, "2026-01-10T12:00:00Z", 4, tx.clone())],
        "0",
        4,
        4,
    )
    .await
    .unwrap();
    assert_eq!(texas_of(core_rows(&lake, window).await), (6, 6006, 1));
    summary.refresh(window).await.unwrap();
    assert_eq!(texas(&warehouse), (6, 6006, 1));
    let after = lake.list(ROLLUP_TABLE).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_ne!(after, rollups, "a new roll-up for the new compacted file");
}

/// An order of `qty` cheese pizzas by `customer` at `at`, received then.
fn order_at(order_id: i64, qty: i32, at: &str, customer: Option<Arc<Customer>>) -> EnrichedOrder {
    let mut order = row(order_id, qty, at, order_id, customer);
    order.event.order_ts = at.parse().unwrap();
    order
}

fn customer_in(customer_id: i64, state: &str) -> Arc<Customer> {
    Arc::new(Customer {
        customer_id,
        state: state.into(),
        ..(*texan()).clone()
    })
}

/// A UTC month wholly inside the window is read from its month roll-up once a build has
/// written it: one file and one customer set per group for the month, the same report
/// and the same books as from its days. A day of the month compacted again (a late
/// order) makes the month's roll-up stale by its name: that month is read day by day
/// and rolled up anew, and the others still come from theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn month_rollups_stand_in_for_their_days_while_they_match() {
    use pizza_pipeline::lake::paths::MONTH_ROLLUP_TABLE;
    let tmp = tempfile::tempdir().unwrap();
    let Embedded {
        lake,
        warehouse,
        summary,
        population,
        ..
    } = embedded(tmp.path());
    let (ann, bob) = (Some(texan()), Some(customer_in(2, "TX")));
    let orders = vec![
        order_at(1, 2, "2026-01-10T10:00:00Z", ann.clone()),
        order_at(2, 1, "2026-01-10T11:00:00Z", bob.clone()),
        order_at(3, 5, "2026-01-10T12:00:00Z", None),
        order_at(4, 3, "2026-01-20T10:00:00Z", ann.clone()),
        order_at(5, 4, "2026-02-05T10:00:00Z", bob.clone()),
        order_at(6, 7, "2026-02-06T10:00:00Z", Some(customer_in(3, "AE"))),
        order_at(7, 1, "2026-03-01T10:00:00Z", ann.clone()),
    ];
    land_batch(lake.as_ref(), &orders, "0", 1, 7).await.unwrap();
    // [2025-03-01, 2026-03-01): January and February are wholly inside; March is not.
    let window =
        ReportWindow::ending_at("2026-03-01T00:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
    let texas = || {
        let rows = warehouse.report_for_state("TX").unwrap();
        (rows[0].pizzas_sold, rows[0].unique_customers)
    };
    let books = || async {
        build_report_as_is(lake.as_ref(), &window, &population, Utc::now())
            .await
            .unwrap()
            .books
    };

    // The first build reads the days and writes both months' roll-ups.
    let first = summary.refresh(window).await.unwrap();
    assert_eq!(
        (first.days_from_rollups, first.month_rollups_written),
        (4, 2),
        "{first:?}"
    );
    assert_eq!(texas(), (10, 2), "Ann and Bob, each once over three days");
    let months = lake.list(MONTH_ROLLUP_TABLE).await.unwrap();
    assert_eq!(months.len(), 2, "{months:?}");

    // The next reads two month files instead of four days, and agrees with DuckDB's SQL
    // over the orders (a verified refresh), books included.
    let books_of_days = {
        let moved = tmp.path().join("months-aside");
        std::fs::rename(tmp.path().join("lake").join(MONTH_ROLLUP_TABLE), &moved).unwrap();
        let of_days = books().await;
        std::fs::rename(&moved, tmp.path().join("lake").join(MONTH_ROLLUP_TABLE)).unwrap();
        of_days
    };
    let second = summary.refresh(window).await.unwrap();
    assert_eq!(
        (
            second.month_rollups_read,
            second.days_from_month_rollups,
            second.days_from_rollups,
            second.files_read,
            second.month_rollups_written
        ),
        (2, 4, 0, 2, 0),
        "{second:?}"
    );
    assert!(second.verified);
    assert_eq!(texas(), (10, 2));
    assert_eq!(books().await, books_of_days, "the books from the months");

    // A late order for 20 January: January is read day by day and rolled up again.
    land_batch(
        lake.as_ref(),
        &[order_at(
            8,
            1,
            "2026-01-20T18:00:00Z",
            Some(customer_in(4, "TX")),
        )],
        "0",
        8,
        8,
    )
    .await
    .unwrap();
    let late = summary.refresh(window).await.unwrap();
    assert_eq!(
        (
            late.month_rollups_read,
            late.days_from_rollups,
            late.month_rollups_written
        ),
        (1, 2, 1),
        "February from its roll-up, January from its days: {late:?}"
    );
    assert_eq!(texas(), (11, 3));
    let rewritten = lake.list(MONTH_ROLLUP_TABLE).await.unwrap();
    assert_eq!(rewritten.len(), 2, "the stale January roll-up is gone");
    assert_ne!(rewritten[0], months[0], "January's roll-up has a new name");
    assert_eq!(rewritten[1], months[1], "February's is untouched");
    let again = summary.refresh(window).await.unwrap();
    assert_eq!(
        (again.month_rollups_read, again.month_rollups_written),
        (2, 0)
    );
    assert_eq!(texas(), (11, 3));
}

/// The report covers the areas of the population table: the 50 states, the District of
/// Columbia and Puerto Rico, each as its own "state". A customer with any other code (an
/// armed-forces address, a territory without a population row, a mistyped code) keeps
/// their orders in the warehouse, but those orders are left out of the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dc_and_puerto_rico_are_reported_other_codes_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let Embedded {
        lake,
        warehouse,
        summary,
        population,
        ..
    } = embedded(tmp.path());
    let living_in = |customer_id: i64, state: &str| {
        Some(Arc::new(Customer {
            customer_id,
            name: format!("Customer {customer_id}"),
            address: "1 Main St".into(),
            city: "Somewhere".into(),
            state: state.into(),
            zip_code: "00901".into(),
        }))
    };
    let states = ["PR", "DC", "GU", "AE", "TEX"];
    let orders: Vec<EnrichedOrder> = states
        .iter()
        .enumerate()
        .map(|(i, state)| {
            let i = i as i64 + 1;
            row(i, 2, "2026-01-10T10:00:01Z", i, living_in(i, state))
        })
        .collect();
    land_batch(lake.as_ref(), &orders, "0", 1, states.len() as i64)
        .await
        .unwrap();
    let window =
        ReportWindow::ending_at("2026-02-01T00:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
    let refreshed = summary.refresh(window).await.unwrap();
    assert_eq!(refreshed.report_rows, 2, "Puerto Rico and DC, nothing else");
    for (code, name) in [("PR", "Puerto Rico"), ("DC", "District of Columbia")] {
        let rows = warehouse.report_for_state(code).unwrap();
        assert_eq!(rows.len(), 1, "{code}");
        let adults = population
            .iter()
            .find(|p| p.state_code == code)
            .unwrap()
            .adult_population;
        assert_eq!(
            (
                rows[0].state_name.as_str(),
                rows[0].pizzas_sold,
                rows[0].gross_sales_cents,
                rows[0].adult_population
            ),
            (name, 2, 2002, adults)
        );
    }
    for code in ["GU", "AE", "TEX"] {
        assert!(
            warehouse.report_for_state(code).unwrap().is_empty(),
            "{code}"
        );
        assert_eq!(&summary.cache().state_json(code)[..], b"[]", "{code}");
    }
    let w = warehouse.clone();
    let kept = std::thread::spawn(move || {
        w.query_i64("SELECT count(*) FROM orders_enriched WHERE state IN ('GU', 'AE', 'TEX')")
            .unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(kept, 3, "left out of the report, not out of the warehouse");
}

/// The nightly report is a snapshot of what had landed when it was built. An order that
/// lands after the 02:00 build (dated 23:30 the evening before, received at 02:30) leaves
/// the built table as it is, and is counted by the next night's build, whose window still
/// holds the evening it was placed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_that_arrives_after_the_build_counts_from_the_next_build() {
    let tmp = tempfile::tempdir().unwrap();
    let Embedded {
        lake,
        warehouse,
        summary,
        ..
    } = embedded(tmp.path());
    let tx = Some(texan());
    let texas_pizzas = |w: &Arc<Warehouse>| w.report_for_state("TX").unwrap()[0].pizzas_sold;

    let mut on_time = row(1, 2, "2026-01-31T19:00:01Z", 1, tx.clone());
    on_time.event.order_ts = "2026-01-31T19:00:00Z".parse().unwrap();
    land_batch(lake.as_ref(), &[on_time], "0", 1, 1)
        .await
        .unwrap();
    let tonight =
        ReportWindow::nightly("2026-02-01T02:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
    assert_eq!(
        tonight.end,
        "2026-02-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        "the 02:00 build ends at midnight"
    );
    summary.refresh(tonight).await.unwrap();
    assert_eq!(texas_pizzas(&warehouse), 2);

    let mut late = row(2, 3, "2026-02-01T02:30:00Z", 2, tx.clone());
    late.event.order_ts = "2026-01-31T23:30:00Z".parse().unwrap();
    land_batch(lake.as_ref(), &[late], "0", 2, 2).await.unwrap();
    assert_eq!(texas_pizzas(&warehouse), 2, "the built table does not move");
    let served = String::from_utf8(summary.cache().state_json("TX").to_vec()).unwrap();
    assert!(served.contains(r#""pizzas_sold":2"#), "{served}");

    let next_night =
        ReportWindow::nightly("2026-02-02T02:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
    summary.refresh(next_night).await.unwrap();
    assert_eq!(
        texas_pizzas(&warehouse),
        5,
        "the late order counts from the next build"
    );
    let served = String::from_utf8(summary.cache().state_json("TX").to_vec()).unwrap();
    assert!(served.contains(r#""pizzas_sold":5"#), "{served}");
}

/// A refresh that fails (here on an unreadable file in its window) changes nothing that
/// readers see: the previous report stays, in the table and in the copy that is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_leaves_the_previous_report() {
    let tmp = tempfile::tempdir().unwrap();
    let Embedded {
        lake,
        warehouse,
        summary,
        ..
    } = embedded(tmp.path());
    land_batch(
        lake.as_ref(),
        &[row(1, 2, "2026-01-10T10:00:01Z", 1, Some(texan()))],
        "0",
        1,
        1,
    )
    .await
    .unwrap();
    let window =
        ReportWindow::ending_at("2026-02-01T00:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
    summary.refresh(window).await.unwrap();
    let built = warehouse.report_rows().unwrap();
    assert_eq!(built.len(), 1);
    let served = summary.cache().state_json("TX");

    lake.put(
        "orders_enriched/order_date=2026-01-11/p0-2-2.parquet",
        bytes::Bytes::from_static(b"not a parquet file"),
    )
    .await
    .unwrap();
    let next = ReportWindow::ending_at("2026-02-02T00:00:00Z".parse().unwrap(), chrono_tz::Tz::UTC);
    assert!(summary.refresh(next).await.is_err(), "the refresh fails");
    assert_eq!(
        warehouse.report_rows().unwrap(),
        built,
        "the table is the previous one"
    );
    assert_eq!(
        summary.cache().state_json("TX"),
        served,
        "so is the served copy"
    );
    assert_eq!(summary.last_as_of(), Some(window.as_of));
}
