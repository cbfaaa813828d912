//! The hot paths of an order, one criterion group each:
//! parse + validate (CONTRACT §3), read the Event Hubs trigger's invocation (the host's
//! payload for a batch), enrich a batch (customer join through the cache), write a batch
//! to Parquet (the lake file), roll a day up, and build the report with the report core
//! from the daily roll-ups of a generated lake.
//!
//! `cargo bench --bench hot_paths` (release profile, the project's one build); the
//! figures feed `docs/BENCHMARKS.md` through `bench/run.sh`.

use chrono::{Duration, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pizza_pipeline::customers::{demo_customers, CustomerDirectory, SqliteCustomers, DEMO_SEED};
use pizza_pipeline::enrich::{enrich_batch, EnrichedOrder, StreamedEvent};
use pizza_pipeline::functions::invocation::{decode_eventhub_batch, encode_eventhub_batch};
use pizza_pipeline::lake::parquet::{to_record_batch, write_parquet_as, FileKind};
use pizza_pipeline::lake::rollup::DayRollup;
use pizza_pipeline::order::{parse_orders, OrderEvent, PizzaType};
use pizza_pipeline::summary::{build_report_as_is, ReportWindow};
use std::sync::Arc;

const BATCH: usize = 10_000;

fn order_json(id: i64) -> String {
    format!(
        r#"{{"order_id":{id},"customer_id":{},"type":"pepperoni","qty":2,"retail_price":25.98,"order_date":"2026-03-01T18:30:00-05:00"}}"#,
        1 + id % 5000
    )
}

fn events(count: usize) -> Vec<OrderEvent> {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 18, 30, 0).unwrap();
    (0..count as i64)
        .map(|id| OrderEvent {
            order_id: id,
            customer_id: 1 + id % 5000,
            pizza_type: PizzaType::ALL[(id % 5) as usize],
            qty: 1 + (id % 3) as i32,
            retail_price_cents: 1299 + id % 700,
            order_ts: at + Duration::seconds(id),
            received_at: at + Duration::seconds(id + 1),
        })
        .collect()
}

fn parse_and_validate(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_validate");
    let single = order_json(1);
    let array = format!(
        "[{}]",
        (1..=1000).map(order_json).collect::<Vec<_>>().join(",")
    );
    let now = Utc::now();
    group.throughput(Throughput::Elements(1));
    group.bench_function("single order", |b| {
        b.iter(|| parse_orders(single.as_bytes(), now).unwrap())
    });
    group.throughput(Throughput::Elements(1000));
    group.bench_function("array of 1000", |b| {
        b.iter(|| parse_orders(array.as_bytes(), now).unwrap())
    });
    group.finish();
}

fn invocation(c: &mut Criterion) {
    let bodies: Vec<String> = events(BATCH)
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let enqueued = Utc.with_ymd_and_hms(2026, 3, 1, 18, 30, 0).unwrap();
    let batch: Vec<(i64, &str, _)> = bodies
        .iter()
        .enumerate()
        .map(|(seq, body)| (seq as i64, body.as_str(), enqueued))
        .collect();
    let payload = encode_eventhub_batch("0", &batch, "orders", "$Default");
    let mut group = c.benchmark_group("invocation");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::new("decode eventhub batch", BATCH), |b| {
        b.iter(|| decode_eventhub_batch(&payload).unwrap())
    });
    group.bench_function(BenchmarkId::new("encode eventhub batch", BATCH), |b| {
        b.iter(|| encode_eventhub_batch("0", &batch, "orders", "$Default"))
    });
    group.finish();
}

fn customers_db(dir: &std::path::Path) -> Arc<SqliteCustomers> {
    let states: Vec<String> = pizza_pipeline::population::shipped()
        .into_iter()
        .map(|p| p.state_code)
        .collect();
    let states: Vec<&str> = states.iter().map(String::as_str).collect();
    let db = SqliteCustomers::open(&dir.join("customers.sqlite")).unwrap();
    db.replace_all(&demo_customers(5000, &states, DEMO_SEED))
        .unwrap();
    Arc::new(db)
}

/// One worker: the SQLite lookups use `block_in_place`, which needs this flavour.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap()
}

fn enrich(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = customers_db(dir.path());
    let runtime = runtime();
    let streamed: Vec<StreamedEvent> = events(BATCH)
        .iter()
        .enumerate()
        .map(|(seq, e)| StreamedEvent {
            partition: "0".into(),
            seq: seq as i64,
            body: serde_json::to_string(e).unwrap(),
        })
        .collect();
    // warm the cache, as a running enricher's is
    runtime
        .block_on(enrich_batch(
            streamed.clone(),
            db.as_ref() as &dyn CustomerDirectory,
        ))
        .unwrap();
    let mut group = c.benchmark_group("enrich");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::new("batch", BATCH), |b| {
        b.iter(|| {
            runtime
                .block_on(enrich_batch(
                    streamed.clone(),
                    db.as_ref() as &dyn CustomerDirectory,
                ))
                .unwrap()
        })
    });
    group.finish();
}

fn write_lake_file(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = customers_db(dir.path());
    let runtime = runtime();
    let rows: Vec<EnrichedOrder> = events(BATCH)
        .into_iter()
        .enumerate()
        .map(|(seq, event)| {
            let customer = runtime
                .block_on(db.lookup(&[event.customer_id]))
                .unwrap()
                .remove(&event.customer_id);
            EnrichedOrder {
                event,
                customer,
                stream_partition: "0".into(),
                stream_seq: seq as i64,
                enriched_at: Utc::now(),
            }
        })
        .collect();
    let refs: Vec<&EnrichedOrder> = rows.iter().collect();
    let mut group = c.benchmark_group("parquet");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(BenchmarkId::new("write batch", BATCH), |b| {
        b.iter(|| write_parquet_as(&to_record_batch(&refs), FileKind::Landed).unwrap())
    });
    group.finish();
}

fn build_summary(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = customers_db(dir.path());
    let root = dir.path().join("lake");
    let end = Utc::now().date_naive();
    let orders = 1_000_000;
    pizza_pipeline::generate::generate_lake(
        &root,
        &db.all().unwrap(),
        &pizza_pipeline::generate::LakeSpec {
            orders,
            days: 365,
            end,
            seed: 1,
        },
    )
    .unwrap();
    let lake = pizza_pipeline::lake::LocalLake::new(&root);
    let population = pizza_pipeline::population::shipped();
    let window =
        ReportWindow::ending_at(end.and_hms_opt(0, 0, 0).unwrap().and_utc(), chrono_tz::UTC);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("summary");
    group.sample_size(10);
    group.throughput(Throughput::Elements(orders));
    group.bench_function("report core, 1M orders over 1 year, from roll-ups", |b| {
        b.iter(|| {
            runtime
                .block_on(build_report_as_is(&lake, &window, &population, Utc::now()))
                .unwrap()
        })
    });
    // One day's orders (compacted), rolled up as compaction does.
    let day = pizza_pipeline::lake::DayFiles {
        day: end - Duration::days(1),
        files: runtime
            .block_on(pizza_pipeline::lake::day_partitions(&lake, None))
            .unwrap()
            .pop()
            .unwrap()
            .files,
    };
    let (day_orders, _repeats) = runtime
        .block_on(pizza_pipeline::lake::day_summary::read_orders(&lake, &day))
        .unwrap();
    let rows: usize = day_orders.iter().map(|b| b.num_rows()).sum();
    group.throughput(Throughput::Elements(rows as u64));
    group.bench_function(BenchmarkId::new("roll up one day", rows), |b| {
        b.iter(|| {
            DayRollup::from_orders(&day_orders, None)
                .unwrap()
                .to_parquet()
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    parse_and_validate,
    invocation,
    enrich,
    write_lake_file,
    build_summary
);
criterion_main!(benches);
