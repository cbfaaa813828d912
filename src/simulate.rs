//! `pizza-pipeline simulate`: a realistic order stream against any deployment (`dev`, or
//! the Function App's `/api/orders`), with a progress line and a summary.
//!
//! The stream looks like the real thing: each state has its own taste in pizza (the
//! same mix as `generate-lake`), some customers order far more often than others, the
//! rate follows a day with lunch and dinner peaks (compressed into `--day-seconds`), and
//! a tunable share of the posts are exact duplicates of earlier orders (a client retry:
//! must be 202) or broken orders (must be refused with a 4xx). Anything else — a valid
//! order refused, a broken one accepted, a 5xx — is counted as unexpected.

use crate::customers::{
    demo_customers, read_customers_csv, Customer, DEMO_CUSTOMER_COUNT, DEMO_SEED,
};
use crate::generate::{favourite, PRICES};
use chrono::Utc;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct SimulateSpec {
    /// Where orders go, e.g. `http://127.0.0.1:8080/api/orders`.
    pub url: String,
    /// Mean orders per second over a simulated day.
    pub rate: f64,
    pub duration: Duration,
    /// Seconds one simulated day (its lunch and dinner peaks) takes; default: the run.
    /// `None`: a flat rate (for measurements at a sustained rate).
    pub day_seconds: Option<f64>,
    /// CSV of customers (header `customer_id,name,address,city,state,zip_code`); default:
    /// the demo customers `dev` creates on a first run.
    pub customers: Option<PathBuf>,
    /// Share of posts that repeat an earlier order exactly.
    pub duplicates: f64,
    /// Share of posts that are broken and must be refused.
    pub bad: f64,
    pub concurrency: usize,
    /// Sent as `x-functions-key` (a function key in Azure, `PIZZA_API_KEY` for `dev`).
    pub key: Option<String>,
    pub first_order_id: i64,
    pub seed: u64,
}

/// What one post was meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Fresh,
    Duplicate,
    Bad,
}

/// The outcome counts and latencies of a run.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct SimulateReport {
    pub sent: u64,
    pub accepted: u64,
    pub duplicates_acknowledged: u64,
    pub refused_as_expected: u64,
    /// 429/503 with Retry-After: the server shed load; nothing was stored.
    pub shed: u64,
    pub unexpected: u64,
    pub transport_errors: u64,
    pub seconds: f64,
    pub achieved_rate: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_p90: f64,
    pub latency_ms_p99: f64,
    pub latency_ms_max: f64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    refused: AtomicU64,
    shed: AtomicU64,
    unexpected: AtomicU64,
    transport: AtomicU64,
}

/// The rate profile of a day, mean 1: quiet nights, a lunch peak and a bigger dinner peak.
pub fn day_profile(phase: f64) -> f64 {
    let hour = (phase.rem_euclid(1.0)) * 24.0;
    let bump = |centre: f64, width: f64, height: f64| {
        height * (-((hour - centre) / width).powi(2) / 2.0).exp()
    };
    let raw = 0.15 + bump(12.5, 1.2, 1.6) + bump(19.0, 1.6, 2.4);
    // The mean of `raw` over a day, computed once numerically (see the unit test).
    raw / PROFILE_MEAN
}

const PROFILE_MEAN: f64 = 0.15 + (1.6 * 1.2 + 2.4 * 1.6) * 2.506_628_274_631 / 24.0;

/// Orders a generator makes: fresh orders, repeats of earlier ones, broken ones.
pub struct OrderMaker {
    rng: ChaCha8Rng,
    customers: Vec<(i64, String)>,
    next_id: i64,
    recent: Vec<Value>,
    duplicates: f64,
    bad: f64,
}

impl OrderMaker {
    pub fn new(
        customers: Vec<(i64, String)>,
        first_id: i64,
        duplicates: f64,
        bad: f64,
        seed: u64,
    ) -> Self {
        OrderMaker {
            rng: ChaCha8Rng::seed_from_u64(seed),
            customers,
            next_id: first_id,
            recent: Vec::new(),
            duplicates,
            bad,
        }
    }

    fn next(&mut self) -> (Kind, Value) {
        let roll: f64 = self.rng.random();
        if roll < self.bad {
            return (Kind::Bad, self.broken());
        }
        if roll < self.bad + self.duplicates && !self.recent.is_empty() {
            let index = self.rng.random_range(0..self.recent.len());
            return (Kind::Duplicate, self.recent[index].clone());
        }
        let order = self.fresh();
        if self.recent.len() < 1024 {
            self.recent.push(order.clone());
        } else {
            let slot = self.rng.random_range(0..self.recent.len());
            self.recent[slot] = order.clone();
        }
        (Kind::Fresh, order)
    }

    fn fresh(&mut self) -> Value {
        // Repeat customers: u² skews the pick towards the front of the list.
        let u: f64 = self.rng.random();
        let (customer_id, state) =
            &self.customers[((u * u) * self.customers.len() as f64) as usize];
        let pizza = favourite(state, self.rng.random_range(0..100));
        let qty = 1
            + (self.rng.random_range(0..100u32) / 60) as i64
            + (self.rng.random_range(0..100u32) / 90) as i64;
        let cents = PRICES[pizza as usize] * qty * 108 / 100 + self.rng.random_range(0..100);
        let id = self.next_id;
        self.next_id += 1;
        json!({
            "order_id": id,
            "customer_id": customer_id,
            "type": pizza.as_str(),
            "qty": qty,
            "retail_price": format!("{}.{:02}", cents / 100, cents % 100).parse::<f64>().unwrap(),
            "order_date": Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        })
    }

    fn broken(&mut self) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        match self.rng.random_range(0..4) {
            0 => {
                json!({"order_id": id, "customer_id": 1, "type": "calzone", "qty": 1, "retail_price": 9.99, "order_date": "2026-01-01T12:00:00Z"})
            }
            1 => {
                json!({"order_id": id, "customer_id": 1, "type": "cheese", "qty": 0, "retail_price": 9.99, "order_date": "2026-01-01T12:00:00Z"})
            }
            2 => {
                json!({"order_id": id, "customer_id": 1, "type": "cheese", "qty": 1, "retail_price": -1, "order_date": "2026-01-01T12:00:00Z"})
            }
            _ => {
                json!({"order_id": id, "customer_id": 1, "type": "cheese", "qty": 1, "retail_price": 9.99})
            }
        }
    }
}

/// The customers to order as: id and state.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    /// The spec asks for something that cannot be simulated.
    #[error("cannot simulate this stream: {0}")]
    Spec(&'static str),
    #[error("the customer file")]
    Customers(#[from] crate::customers::CustomerCsvError),
    #[error("the HTTP client could not be built")]
    Client(#[from] reqwest::Error),
}

fn load_customers(file: Option<&PathBuf>) -> Result<Vec<(i64, String)>, SimulateError> {
    let customers: Vec<Customer> = match file {
        Some(file) => read_customers_csv(file)?,
        None => {
            let states: Vec<String> = crate::population::shipped()
                .into_iter()
                .map(|p| p.state_code)
                .collect();
            let states: Vec<&str> = states.iter().map(String::as_str).collect();
            demo_customers(DEMO_CUSTOMER_COUNT, &states, DEMO_SEED)
        }
    };
    if customers.is_empty() {
        return Err(SimulateError::Spec("no customers to order as"));
    }
    Ok(customers
        .into_iter()
        .map(|c| (c.customer_id, c.state))
        .collect())
}

pub async fn simulate(spec: SimulateSpec) -> Result<SimulateReport, SimulateError> {
    if spec.rate <= 0.0 {
        return Err(SimulateError::Spec("--rate must be above 0"));
    }
    if !(0.0..=1.0).contains(&(spec.duplicates + spec.bad)) {
        return Err(SimulateError::Spec(
            "--duplicates + --bad must be a share between 0 and 1",
        ));
    }
    let maker = Arc::new(Mutex::new(OrderMaker::new(
        load_customers(spec.customers.as_ref())?,
        spec.first_order_id,
        spec.duplicates,
        spec.bad,
        spec.seed,
    )));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_idle_timeout(Duration::from_secs(5))
        .build()?;
    let counters = Arc::new(Counters::default());
    let latencies = Arc::new(Mutex::new(Vec::<u32>::new()));
    let (jobs, receiver) = async_channel(spec.concurrency * 4);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..spec.concurrency.max(1) {
        let (receiver, http, maker, counters, latencies, spec) = (
            receiver.clone(),
            http.clone(),
            maker.clone(),
            counters.clone(),
            latencies.clone(),
            spec.clone(),
        );
        workers.spawn(async move {
            while let Ok(()) = receiver.recv().await {
                let (kind, order) = maker.lock().unwrap().next();
                post_one(&http, &spec, kind, &order, &counters, &latencies).await;
            }
        });
    }
    drop(receiver);

    let started = Instant::now();
    let mut due = 0.0_f64;
    let mut issued = 0u64;
    let mut last_progress = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(5));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut previous = Instant::now();
    while started.elapsed() < spec.duration {
        ticker.tick().await;
        let now = Instant::now();
        let shape = match spec.day_seconds {
            Some(day) => day_profile(started.elapsed().as_secs_f64() / day.max(1.0)),
            None => 1.0,
        };
        due += spec.rate * shape * (now - previous).as_secs_f64();
        previous = now;
        while (issued as f64) < due.floor() {
            if jobs.send(()).await.is_err() {
                break;
            }
            issued += 1;
        }
        if last_progress.elapsed() >= Duration::from_secs(1) {
            last_progress = Instant::now();
            eprintln!("{}", progress_line(&counters, started.elapsed()));
        }
    }
    drop(jobs);
    while workers.join_next().await.is_some() {}
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("{}", progress_line(&counters, started.elapsed()));
    let mut latencies = std::mem::take(&mut *latencies.lock().unwrap());
    latencies.sort_unstable();
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let index = ((latencies.len() - 1) as f64 * p).round() as usize;
        latencies[index] as f64 / 1000.0
    };
    let sent = counters.sent.load(Ordering::Relaxed);
    Ok(SimulateReport {
        sent,
        accepted: counters.accepted.load(Ordering::Relaxed),
        duplicates_acknowledged: counters.duplicates.load(Ordering::Relaxed),
        refused_as_expected: counters.refused.load(Ordering::Relaxed),
        shed: counters.shed.load(Ordering::Relaxed),
        unexpected: counters.unexpected.load(Ordering::Relaxed),
        transport_errors: counters.transport.load(Ordering::Relaxed),
        seconds,
        achieved_rate: sent as f64 / seconds,
        latency_ms_p50: percentile(0.50),
        latency_ms_p90: percentile(0.90),
        latency_ms_p99: percentile(0.99),
        latency_ms_max: percentile(1.0),
    })
}

/// A bounded multi-consumer queue of send slots (tokio's mpsc has one consumer).
fn async_channel(capacity: usize) -> (Sender, Receiver) {
    let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
    (Sender(tx), Receiver(Arc::new(tokio::sync::Mutex::new(rx))))
}

struct Sender(tokio::sync::mpsc::Sender<()>);
#[derive(Clone)]
struct Receiver(Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<()>>>);

impl Sender {
    async fn send(&self, slot: ()) -> Result<(), ()> {
        self.0.send(slot).await.map_err(|_| ())
    }
}

impl Receiver {
    async fn recv(&self) -> Result<(), ()> {
        self.0.lock().await.recv().await.ok_or(())
    }
}

async fn post_one(
    http: &reqwest::Client,
    spec: &SimulateSpec,
    kind: Kind,
    order: &Value,
    counters: &Counters,
    latencies: &Mutex<Vec<u32>>,
) {
    let mut request = http.post(&spec.url).json(order);
    if let Some(key) = &spec.key {
        request = request.header("x-functions-key", key);
    }
    let started = Instant::now();
    let response = request.send().await;
    counters.sent.fetch_add(1, Ordering::Relaxed);
    let response = match response {
        Ok(response) => response,
        Err(_) => {
            counters.transport.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    latencies
        .lock()
        .unwrap()
        .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
    let counter = match (kind, status) {
        (Kind::Fresh, 202) => &counters.accepted,
        (Kind::Duplicate, 202) => &counters.duplicates,
        (Kind::Bad, 400..=499) if status != 429 => &counters.refused,
        (_, 429 | 503) => &counters.shed,
        _ => {
            tracing::warn!(?kind, status, %body, "unexpected answer");
            &counters.unexpected
        }
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

fn progress_line(counters: &Counters, elapsed: Duration) -> String {
    let sent = counters.sent.load(Ordering::Relaxed);
    format!(
        "[{:>6.1}s] sent {sent} ({:.0}/s)  accepted {}  duplicates {}  refused {}  shed {}  unexpected {}  errors {}",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64().max(1e-9),
        counters.accepted.load(Ordering::Relaxed),
        counters.duplicates.load(Ordering::Relaxed),
        counters.refused.load(Ordering::Relaxed),
        counters.shed.load(Ordering::Relaxed),
        counters.unexpected.load(Ordering::Relaxed),
        counters.transport.load(Ordering::Relaxed),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_profile_has_mean_one_and_meal_peaks() {
        let samples = 24 * 600;
        let mean: f64 = (0..samples)
            .map(|i| day_profile(i as f64 / samples as f64))
            .sum::<f64>()
            / samples as f64;
        assert!((mean - 1.0).abs() < 0.01, "mean {mean}");
        let at = |hour: f64| day_profile(hour / 24.0);
        assert!(at(19.0) > at(12.5) && at(12.5) > at(16.0) && at(16.0) > at(3.0));
    }

    #[test]
    fn the_mix_holds_duplicates_bad_orders_and_valid_fresh_ones() {
        let customers = vec![
            (1, "TX".to_string()),
            (2, "VT".to_string()),
            (3, "CA".to_string()),
        ];
        let mut maker = OrderMaker::new(customers, 1, 0.1, 0.05, 7);
        let mut kinds = std::collections::HashMap::new();
        let now = Utc::now();
        for _ in 0..10_000 {
            let (kind, order) = maker.next();
            *kinds.entry(kind).or_insert(0) += 1;
            let parsed = crate::order::parse_orders(order.to_string().as_bytes(), now);
            match kind {
                Kind::Bad => assert!(parsed.is_err(), "{order}"),
                _ => assert!(parsed.is_ok(), "{order}: {parsed:?}"),
            }
        }
        let share = |k: Kind| kinds[&k] as f64 / 10_000.0;
        assert!((share(Kind::Bad) - 0.05).abs() < 0.01);
        assert!((share(Kind::Duplicate) - 0.10).abs() < 0.015);
    }
}
