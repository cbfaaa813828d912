//! Synthetic history for benchmarks and demos: N orders written straight into the lake
//! layout (one compacted, de-duplicated Parquet file per day), no HTTP, no log.
//!
//! The data is shaped like the real thing — each state has its own taste in pizza,
//! customers order again, prices follow quantity — and is fully determined by the seed.

use crate::customers::Customer;
use crate::enrich::EnrichedOrder;
use crate::lake::parquet::{to_record_batch, write_parquet};
use crate::lake::rollup::DayRollup;
use crate::lake::{LakePath, LakeStore, LocalLake, GENERATED_PARTITION};
use crate::order::{OrderEvent, PizzaType};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct LakeSpec {
    pub orders: u64,
    /// Days of history, ending the day before `end`.
    pub days: u32,
    pub end: NaiveDate,
    pub seed: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct GenerateReport {
    pub orders: u64,
    pub days: u32,
    /// The customers the orders were drawn from (uniformly).
    pub customers: usize,
    /// Orders per customer per 365 days: how often the average customer orders.
    pub orders_per_customer_per_year: f64,
    /// The sum of the orders' `retail_price`.
    pub gross_sales_usd: f64,
    pub files: usize,
    pub bytes: u64,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The spec asks for something that cannot be generated.
    #[error("cannot generate this lake: {0}")]
    Spec(&'static str),
    #[error("the generated lake could not be written")]
    Lake(#[from] crate::lake::LakeError),
}

/// Base price per pizza, in cents.
pub(crate) const PRICES: [i64; 5] = [1099, 1299, 1599, 1699, 1199];

/// Writes the lake, orders numbered from 1; `customers` must not be empty. Uses every core.
pub fn generate_lake(
    lake_root: &Path,
    customers: &[Customer],
    spec: &LakeSpec,
) -> Result<GenerateReport, GenerateError> {
    generate_lake_numbered_from(lake_root, customers, spec, 1)
}

/// As [`generate_lake`], with the order ids starting at `first_order_id` (the demo
/// history keeps its ids clear of those people post by hand).
pub fn generate_lake_numbered_from(
    lake_root: &Path,
    customers: &[Customer],
    spec: &LakeSpec,
    first_order_id: i64,
) -> Result<GenerateReport, GenerateError> {
    if first_order_id < 1 {
        return Err(GenerateError::Spec("order ids start at 1"));
    }
    if customers.is_empty() {
        return Err(GenerateError::Spec("no customers to generate orders for"));
    }
    if spec.days == 0 {
        return Err(GenerateError::Spec("days must be at least 1"));
    }
    let started = std::time::Instant::now();
    let lake = LocalLake::new(lake_root);
    let customers: Vec<Arc<Customer>> = customers.iter().cloned().map(Arc::new).collect();
    let first_day = spec.end - Duration::days(spec.days as i64);
    let per_day = spec.orders / spec.days as u64;
    let remainder = spec.orders % spec.days as u64;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let next_day = std::sync::atomic::AtomicU32::new(0);
    let bytes = std::sync::atomic::AtomicU64::new(0);
    let gross_cents = std::sync::atomic::AtomicI64::new(0);
    std::thread::scope(|scope| -> Result<(), GenerateError> {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| -> Result<(), GenerateError> {
                    loop {
                        let index = next_day.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if index >= spec.days {
                            return Ok(());
                        }
                        let count = per_day + u64::from((index as u64) < remainder);
                        let first_id = first_order_id as u64
                            + index as u64 * per_day
                            + (index as u64).min(remainder);
                        let day = first_day + Duration::days(index as i64);
                        let (written, gross) = write_day(
                            &lake,
                            &customers,
                            day,
                            first_id as i64,
                            count,
                            spec.seed ^ index as u64,
                        )?;
                        bytes.fetch_add(written, std::sync::atomic::Ordering::Relaxed);
                        gross_cents.fetch_add(gross, std::sync::atomic::Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("generator thread")?;
        }
        Ok(())
    })?;
    Ok(GenerateReport {
        orders: spec.orders,
        days: spec.days,
        customers: customers.len(),
        orders_per_customer_per_year: spec.orders as f64 / customers.len() as f64 * 365.0
            / f64::from(spec.days.max(1)),
        gross_sales_usd: gross_cents.into_inner() as f64 / 100.0,
        files: spec.days as usize,
        bytes: bytes.into_inner(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn write_day(
    lake: &LocalLake,
    customers: &[Arc<Customer>],
    day: NaiveDate,
    first_id: i64,
    count: u64,
    seed: u64,
) -> Result<(u64, i64), GenerateError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let midnight: DateTime<Utc> = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
    let rows: Vec<EnrichedOrder> = (0..count as i64)
        .map(|i| {
            let customer = &customers[rng.random_range(0..customers.len())];
            let pizza = favourite(&customer.state, rng.random_range(0..100));
            let qty = 1
                + (rng.random_range(0..100u32) / 60) as i32
                + (rng.random_range(0..100u32) / 90) as i32;
            let order_ts = midnight + Duration::seconds(meal_time_second(&mut rng));
            let price = PRICES[pizza as usize] * qty as i64 * 108 / 100 + rng.random_range(0..100);
            let event = OrderEvent {
                order_id: first_id + i,
                customer_id: customer.customer_id,
                pizza_type: pizza,
                qty,
                retail_price_cents: price,
                order_ts,
                received_at: order_ts + Duration::seconds(1),
            };
            EnrichedOrder {
                event,
                customer: Some(customer.clone()),
                // Not from the stream: the ledger counts these apart from accepted orders.
                stream_partition: GENERATED_PARTITION.to_string(),
                stream_seq: first_id + i,
                enriched_at: order_ts + Duration::seconds(2),
            }
        })
        .collect();
    let gross: i64 = rows.iter().map(|r| r.event.retail_price_cents).sum();
    let refs: Vec<&EnrichedOrder> = rows.iter().collect();
    let batch = to_record_batch(&refs);
    let bytes = write_parquet(&batch)?;
    // As compaction writes them: the compacted day, then its roll-up.
    let compacted = LakePath::compacted(day, "generated");
    let rollup = LakePath::rollup_for(&compacted).expect("a compacted file name");
    let rolled_up = DayRollup::from_orders(std::slice::from_ref(&batch), None)?.to_parquet()?;
    for (path, content) in [(compacted, bytes.clone()), (rollup, rolled_up)] {
        futures::executor::block_on(lake.put(&path, content))?;
    }
    Ok((bytes.len() as u64, gross))
}

/// Each state leans towards a different pizza, so the report has real differences.
pub(crate) fn favourite(state: &str, roll: u32) -> PizzaType {
    let lean = state.bytes().map(u32::from).sum::<u32>() as usize % 5;
    let index = match roll {
        0..=34 => lean,
        35..=59 => (lean + 1) % 5,
        60..=77 => (lean + 2) % 5,
        78..=90 => (lean + 3) % 5,
        _ => (lean + 4) % 5,
    };
    PizzaType::ALL[index]
}

/// Seconds after midnight, with lunch and dinner peaks.
fn meal_time_second(rng: &mut ChaCha8Rng) -> i64 {
    let (centre, spread) = match rng.random_range(0..10) {
        0..=2 => (12 * 3600, 3600),
        3..=8 => (19 * 3600, 5400),
        _ => (rng.random_range(10..23) * 3600, 3600),
    };
    (centre + rng.random_range(-spread..=spread)).clamp(0, 86_399)
}
