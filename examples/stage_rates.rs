//! Enrich + land against its baseline, in one process (issue 6): the same events go
//! (a) through `enrich_batch` (decode, one batched customer lookup through the cache),
//! Parquet encoding and a durable lake put — what `enrich_orders` does per batch — and
//! (b) straight to Parquet and the same put, already enriched: the floor of writing the
//! rows at all. Both run on one thread, so the figures are per core.
//!
//! cargo run --release --example stage_rates -- [EVENTS] [BATCH]

use chrono::{Duration, TimeZone, Utc};
use pizza_pipeline::customers::{demo_customers, SqliteCustomers, DEMO_SEED};
use pizza_pipeline::enrich::{enrich_batch, StreamedEvent};
use pizza_pipeline::lake::{land_batch, LocalLake};
use pizza_pipeline::order::{OrderEvent, PizzaType};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let total: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let batch: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    // One worker: the lake and SQLite calls use block_in_place, which needs this flavour.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let states: Vec<String> = pizza_pipeline::population::shipped()
        .into_iter()
        .map(|p| p.state_code)
        .collect();
    let states: Vec<&str> = states.iter().map(String::as_str).collect();
    let customers = SqliteCustomers::open(&dir.path().join("customers.sqlite"))?;
    customers.replace_all(&demo_customers(5000, &states, DEMO_SEED))?;
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let batches: Vec<Vec<StreamedEvent>> = (0..total / batch)
        .map(|b| {
            (0..batch)
                .map(|i| {
                    let id = (b * batch + i) as i64;
                    let event = OrderEvent {
                        order_id: id,
                        customer_id: 1 + id % 5000,
                        pizza_type: PizzaType::ALL[(id % 5) as usize],
                        qty: 1 + (id % 3) as i32,
                        retail_price_cents: 1299 + id % 700,
                        order_ts: at + Duration::seconds(id % 86_400),
                        received_at: at + Duration::seconds(id % 86_400 + 1),
                    };
                    StreamedEvent {
                        partition: "0".into(),
                        seq: id,
                        body: serde_json::to_string(&event).unwrap(),
                    }
                })
                .collect()
        })
        .collect();
    let events = batches.len() * batch;

    // (a) what enrich_orders does: decode + join + Parquet + put
    let ours_lake = LocalLake::new(dir.path().join("ours"));
    let started = Instant::now();
    let mut enriched_batches = Vec::with_capacity(batches.len());
    runtime.block_on(async {
        // The batches are handed over as the trigger hands them: owned, no copy.
        for events in batches {
            let (first, last) = (events[0].seq, events[events.len() - 1].seq);
            let enriched = enrich_batch(events, &customers).await?;
            land_batch(&ours_lake, &enriched.rows, "0", first, last).await?;
            enriched_batches.push(enriched.rows);
        }
        anyhow::Ok(())
    })?;
    let ours = started.elapsed().as_secs_f64();

    // (b) the floor: the same rows, already enriched, to Parquet + put
    let floor_lake = LocalLake::new(dir.path().join("floor"));
    let started = Instant::now();
    runtime.block_on(async {
        for rows in &enriched_batches {
            let (first, last) = (rows[0].stream_seq, rows[rows.len() - 1].stream_seq);
            land_batch(&floor_lake, rows, "0", first, last).await?;
        }
        anyhow::Ok(())
    })?;
    let floor = started.elapsed().as_secs_f64();
    let rate = |seconds: f64| events as f64 / seconds;
    println!(
        "enrich+land {:.0} orders/s · parquet+put only {:.0} orders/s · ratio {:.2} · {events} events in batches of {batch}, one core",
        rate(ours),
        rate(floor),
        rate(ours) / rate(floor)
    );
    Ok(())
}
