//! Enrich + land against its baseline, in one process (issue 6): the same events go
//! (a) through `enrich_batch` (decode, one batched customer lookup through the cache),
//! Parquet encoding and a durable lake put, each batch freed once landed — what
//! `enrich_orders` does per batch — and (b) straight to Parquet and the same put, enriched
//! beforehand outside the timing: the floor of writing the rows at all. Both run on one
//! thread.
//!
//! Each is measured twice over: by the wall clock, and per CPU-second of the process
//! (user + system time, the fsync's own work included). "Per core" means the second: the
//! wall clock also counts the time the thread sleeps on the disk's fsync, when the core is
//! free for other work, and on a shared virtual machine it counts time stolen by
//! neighbours. Rounds alternate (a) and (b); the median round is printed.
//!
//! cargo run --release --example stage_rates -- [EVENTS] [BATCH] [ROUNDS]

use chrono::{Duration, TimeZone, Utc};
use pizza_pipeline::customers::{demo_customers, SqliteCustomers, DEMO_SEED};
use pizza_pipeline::enrich::{enrich_batch, EnrichedOrder, StreamedEvent};
use pizza_pipeline::lake::{land_batch, LocalLake};
use pizza_pipeline::order::{OrderEvent, PizzaType};
use std::time::Instant;

/// Wall seconds and process CPU seconds spent in one stage.
#[derive(Clone, Copy)]
struct Spent {
    wall: f64,
    cpu: f64,
}

/// Process CPU time (user + system, all threads) from /proc, in seconds.
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may hold spaces) start at state, field 3.
    let after_name = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ is 100 on Linux
}

fn measure<T>(work: impl FnOnce() -> T) -> (T, Spent) {
    let (wall, cpu) = (Instant::now(), process_cpu_seconds());
    let out = work();
    let spent = Spent {
        wall: wall.elapsed().as_secs_f64(),
        cpu: process_cpu_seconds() - cpu,
    };
    (out, spent)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut next = |default: usize| -> anyhow::Result<usize> {
        Ok(args
            .next()
            .map(|a| a.parse())
            .transpose()?
            .unwrap_or(default))
    };
    let (total, batch, rounds) = (next(1_000_000)?, next(10_000)?, next(3)?.max(1));
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
    let events = total / batch * batch;

    let mut ours = Vec::with_capacity(rounds);
    let mut floor = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let batches = stream_batches(total / batch, batch);
        // The floor's input, enriched beforehand (untimed): the same rows (a) lands.
        let enriched = runtime.block_on(async {
            let mut enriched: Vec<Vec<EnrichedOrder>> = Vec::with_capacity(batches.len());
            for events in batches.clone() {
                enriched.push(enrich_batch(events, &customers).await?.rows);
            }
            anyhow::Ok(enriched)
        })?;

        // (a) what enrich_orders does: decode + join + Parquet + put, then the batch is
        // freed, as the trigger frees it (keeping every batch alive instead would make
        // each allocation touch fresh pages, which the trigger never pays for).
        let ours_lake = LocalLake::new(dir.path().join(format!("ours{round}")));
        let (landed, spent) = measure(|| {
            runtime.block_on(async {
                // The batches are handed over as the trigger hands them: owned, no copy.
                for events in batches {
                    let (first, last) = (events[0].seq, events[events.len() - 1].seq);
                    let rows = enrich_batch(events, &customers).await?.rows;
                    land_batch(&ours_lake, &rows, "0", first, last).await?;
                }
                anyhow::Ok(())
            })
        });
        landed?;
        ours.push(spent);

        // (b) the floor: the same rows, already enriched, to Parquet + put
        let floor_lake = LocalLake::new(dir.path().join(format!("floor{round}")));
        let (landed, spent) = measure(|| {
            runtime.block_on(async {
                for rows in &enriched {
                    let (first, last) = (rows[0].stream_seq, rows[rows.len() - 1].stream_seq);
                    land_batch(&floor_lake, rows, "0", first, last).await?;
                }
                anyhow::Ok(())
            })
        });
        landed?;
        floor.push(spent);
    }
    let median = |spent: &[Spent], pick: fn(&Spent) -> f64| {
        let mut rates: Vec<f64> = spent.iter().map(|s| events as f64 / pick(s)).collect();
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    };
    let (ours_cpu, ours_wall) = (median(&ours, |s| s.cpu), median(&ours, |s| s.wall));
    let (floor_cpu, floor_wall) = (median(&floor, |s| s.cpu), median(&floor, |s| s.wall));
    println!(
        "enrich+land {ours_cpu:.0} orders per CPU-second ({ours_wall:.0}/s wall) · parquet+put only {floor_cpu:.0} per CPU-second ({floor_wall:.0}/s wall) · ratio {:.2} per CPU-second ({:.2} wall) · {events} events in batches of {batch}, median of {rounds} rounds",
        ours_cpu / floor_cpu,
        ours_wall / floor_wall,
    );
    Ok(())
}

/// `count` batches of `size` events as the order stream delivers them.
fn stream_batches(count: usize, size: usize) -> Vec<Vec<StreamedEvent>> {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    (0..count)
        .map(|b| {
            (0..size)
                .map(|i| {
                    let id = (b * size + i) as i64;
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
        .collect()
}
