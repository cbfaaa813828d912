//! The command line (CONTRACT §8), parsed once into typed settings before anything opens:
//!
//! | command | what | where |
//! |---|---|---|
//! | `dev` | the whole pipeline embedded, in one process | `cli::embedded`, `host` |
//! | `customers load` | replace the embedded customer table with a CSV | `cli::embedded` |
//! | `refresh` | build the report now, `dev` stopped | `cli::embedded` |
//! | `report` | one state's report rows as JSON | `cli::embedded` |
//! | `ledger` | the books per UTC order day | `cli::embedded` |
//! | `generate-lake` | synthetic history straight into the lake | `cli::embedded`, `generate` |
//! | `population fetch` | a newer Census vintage, validated | here, `population` |
//! | `simulate` | a realistic order stream against any deployment | here, `simulate` |
//! | `serve` | the Azure Functions custom handler | here, `azure` |
//!
//! Errors reach the user once, with every cause (`main.rs` prints the chain).

#[cfg(feature = "embedded")]
mod embedded;

use anyhow::Context;
use chrono_tz::Tz;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "pizza-pipeline",
    version,
    about = "Pizza orders → enriched Parquet lake → nightly per-state top-3 report"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the whole pipeline embedded in one process (API, stream, enrichment, lake,
    /// warehouse, nightly summary, dashboard).
    Dev(DevArgs),
    /// Manage the embedded customer table.
    Customers {
        #[command(subcommand)]
        command: CustomersCommand,
    },
    /// Build state_top_pizzas now (while `dev` is stopped).
    Refresh(RefreshArgs),
    /// Print the report rows of one state as JSON (while `dev` is stopped).
    Report(ReportArgs),
    /// Print the books: per UTC order day, where every order went (while `dev` is
    /// stopped; while it runs, GET /api/ledger). Exits with an error when a day does not
    /// balance.
    Ledger(LedgerArgs),
    /// The Census adult-population reference.
    Population {
        #[command(subcommand)]
        command: PopulationCommand,
    },
    /// Write N synthetic orders straight into the lake (for benchmarks and demos).
    GenerateLake(GenerateArgs),
    /// Send a realistic order stream to a deployment (progress on stderr, summary on stdout).
    Simulate(SimulateArgs),
    /// Run as an Azure Functions custom handler (listens on FUNCTIONS_CUSTOMHANDLER_PORT;
    /// every other setting comes from the environment, see docs/AZURE.md).
    Serve,
}

#[derive(clap::Args, Debug)]
pub struct DevArgs {
    /// Folder holding the order log, customers, lake and warehouse (created if missing).
    #[arg(long, env = "PIZZA_DATA_DIR", default_value = "pizza-data")]
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, env = "PIZZA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub report_tz: ReportTzArg,
    /// Refuse orders dated more than this many days before they arrive (the report's 12
    /// months and a grace period by default).
    #[arg(long, env = "PIZZA_ORDER_HORIZON_DAYS", default_value_t = crate::order::DEFAULT_HORIZON_DAYS, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub order_horizon_days: u32,
    /// When the summary timer ticks: a six-field cron expression (sec min hour day
    /// month weekday) in the report time zone, or "off". At each tick (and once at
    /// start-up) the nightly report is built if it is due — from 02:00 in the report
    /// time zone — and not built yet.
    #[arg(long, env = "PIZZA_SUMMARY_SCHEDULE", default_value = crate::functions::SUMMARY_TIMER_SCHEDULE, value_parser = clap::builder::ValueParser::new(parse_summary_schedule))]
    pub summary_schedule: crate::summary::SummarySchedule,
    /// Seconds between lake compactions (at least 1).
    #[arg(long, env = "PIZZA_COMPACT_EVERY_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub compact_every_secs: u64,
    /// Require this key on POST /api/orders and /admin/* (header x-functions-key or
    /// Authorization: Bearer). Prefer the environment variable: arguments show in `ps`.
    #[arg(long, env = "PIZZA_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Keep the lake in a Blob Storage / ADLS Gen2 container instead of the data dir: a
    /// container URL with a SAS token (or https, signed in with `az login`). The data
    /// dir keeps a mirror the embedded warehouse reads. Prefer the environment variable.
    #[arg(long, env = "PIZZA_LAKE_URL", hide_env_values = true)]
    pub lake_url: Option<String>,
    /// Most events handed to one enrich_orders invocation.
    #[arg(long, env = "PIZZA_BATCH_MAX", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch_max: u32,
    /// Fewer events than this wait up to --batch-wait-ms for more before enrichment
    /// (`minEventBatchSize`): fewer, larger lake files under load. Default 2,000, or
    /// --batch-max when that is smaller; set above --batch-max, it is refused.
    #[arg(long, env = "PIZZA_BATCH_MIN", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch_min: Option<u32>,
    /// Longest wait for a fuller batch, in milliseconds (`maxWaitTime`; 0: never wait).
    #[arg(long, env = "PIZZA_BATCH_WAIT_MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub batch_wait_ms: u64,
    /// On the data dir's first start (no customers yet, so the demo customers are
    /// created, and an empty lake): write a generated year of demo orders into the lake
    /// and build the report before serving; the dashboard labels it as demo data
    /// (DIR/demo-history.json). Later starts never generate again. The environment
    /// variable takes true/false, 1/0, yes/no.
    #[arg(long, env = "PIZZA_DEMO_HISTORY", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub demo_history: bool,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ReportTzArg {
    /// IANA time zone of the report day: the nightly window ends at midnight here.
    #[arg(long = "report-time-zone", env = "PIZZA_REPORT_TIME_ZONE", default_value = "UTC", value_parser = parse_tz)]
    pub tz: Tz,
}

#[derive(Subcommand, Debug)]
pub enum CustomersCommand {
    /// Replace the customer table with a CSV (header customer_id,name,address,city,state,zip_code).
    Load {
        #[arg(long, env = "PIZZA_DATA_DIR", default_value = "pizza-data")]
        data_dir: PathBuf,
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum PopulationCommand {
    /// Download a newer vintage of SCPRC-EST<V>-18+POP from census.gov, validate it, and
    /// only then replace the CSV (rebuild to ship it in the binary).
    Fetch(FetchArgs),
}

#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// Vintage (estimate year) to fetch; default: the shipped vintage + 1.
    #[arg(long)]
    pub vintage: Option<i32>,
    /// Download from this address instead of census.gov's usual one.
    #[arg(long)]
    pub url: Option<String>,
    /// The CSV to replace.
    #[arg(long, default_value = "data/census/adult_population_by_state.csv")]
    pub out: PathBuf,
    /// Largest accepted change of any state against the shipped table (a share).
    #[arg(long, default_value_t = 0.10)]
    pub max_change: f64,
}

#[derive(clap::Args, Debug)]
pub struct RefreshArgs {
    #[arg(long, env = "PIZZA_DATA_DIR", default_value = "pizza-data")]
    pub data_dir: PathBuf,
    /// End of the 12-month window (RFC 3339); default: midnight today in the report time zone.
    #[arg(long, value_parser = parse_as_of)]
    pub as_of: Option<chrono::DateTime<chrono::Utc>>,
    #[command(flatten)]
    pub report_tz: ReportTzArg,
    /// The lake container `dev` ran with (see `dev --lake-url`), if any.
    #[arg(long, env = "PIZZA_LAKE_URL", hide_env_values = true)]
    pub lake_url: Option<String>,
    /// Also recompute the report with DuckDB's SQL definition straight from the orders,
    /// and publish only if both agree on every figure; else exit with an error naming
    /// the first difference.
    #[arg(long)]
    pub verify: bool,
}

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    #[arg(long, env = "PIZZA_DATA_DIR", default_value = "pizza-data")]
    pub data_dir: PathBuf,
    /// USPS state code, e.g. TX.
    #[arg(long)]
    pub state: String,
}

#[derive(clap::Args, Debug)]
pub struct LedgerArgs {
    #[arg(long, env = "PIZZA_DATA_DIR", default_value = "pizza-data")]
    pub data_dir: PathBuf,
    /// First UTC order day (YYYY-MM-DD); default: the first day of the report's window.
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    /// Last UTC order day (YYYY-MM-DD); default: the last day of the report's window.
    #[arg(long)]
    pub to: Option<chrono::NaiveDate>,
    /// Print the ledger as JSON (as GET /api/ledger answers) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also count the lake's half with DuckDB's SQL definition straight from the orders
    /// (sql/duckdb/ledger.sql), and exit with an error naming the first day where it
    /// differs from the daily roll-ups'.
    #[arg(long)]
    pub verify: bool,
    /// The lake container `dev` ran with (see `dev --lake-url`), if any.
    #[arg(long, env = "PIZZA_LAKE_URL", hide_env_values = true)]
    pub lake_url: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    #[arg(long, env = "PIZZA_DATA_DIR", default_value = "pizza-data")]
    pub data_dir: PathBuf,
    /// Number of orders.
    #[arg(long)]
    pub orders: u64,
    /// Days of history, ending the day before --end.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
    /// First day after the history (default: today, UTC).
    #[arg(long)]
    pub end: Option<chrono::NaiveDate>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Demo customers to create when the data dir has none yet (default: the 5,000 of a
    /// first start). Sets how often each customer orders: 100 M orders over a year for
    /// 10 M customers is 10 orders each. A data dir that already has customers keeps them.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=50_000_000))]
    pub customers: Option<u64>,
}

#[derive(clap::Args, Debug)]
pub struct SimulateArgs {
    /// Base URL of the deployment (`/api/orders` is appended), e.g. http://127.0.0.1:8080
    /// or https://<app>.azurewebsites.net
    #[arg(long)]
    pub url: String,
    /// Mean orders per second (the rate follows lunch and dinner peaks around it).
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// How long to send, e.g. 60s, 5m, 1h.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Length of one simulated day (its peaks); default: the whole run.
    #[arg(long, value_parser = parse_duration)]
    pub day_length: Option<Duration>,
    /// Send at a flat rate instead of following lunch and dinner peaks.
    #[arg(long)]
    pub flat: bool,
    /// Customer CSV to order as (default: the demo customers `dev` creates).
    #[arg(long)]
    pub customers: Option<PathBuf>,
    /// Share of posts repeating an earlier order exactly (a client retry).
    #[arg(long, default_value_t = 0.01)]
    pub duplicates: f64,
    /// Share of posts that are broken and must be refused.
    #[arg(long, default_value_t = 0.005)]
    pub bad: f64,
    /// Connections sending at once.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Key for x-functions-key (a function key in Azure, PIZZA_API_KEY for dev).
    #[arg(long, env = "PIZZA_API_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// First order id (default: from the clock, so runs do not collide).
    #[arg(long)]
    pub first_order_id: Option<i64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Exit with an error when any answer was unexpected (for smoke tests).
    #[arg(long)]
    pub strict: bool,
}

fn parse_duration(text: &str) -> Result<Duration, BadValue> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| bad_value(text, "is not a duration like 30s, 5m or 1h"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(bad_value(text, "has a unit other than ms, s, m or h")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_tz(text: &str) -> Result<Tz, crate::summary::UnknownTimeZone> {
    crate::summary::parse_report_time_zone(text)
}

/// A command-line value that is not what its option takes.
#[derive(Debug, thiserror::Error)]
#[error("{text:?} {expected}")]
pub struct BadValue {
    text: String,
    expected: &'static str,
}

fn bad_value(text: &str, expected: &'static str) -> BadValue {
    BadValue {
        text: text.to_string(),
        expected,
    }
}

/// Parsed by clap, so a schedule with a typo stops `dev` before it opens or binds anything.
fn parse_summary_schedule(
    text: &str,
) -> Result<crate::summary::SummarySchedule, crate::summary::ScheduleError> {
    text.parse()
}

fn parse_as_of(text: &str) -> Result<chrono::DateTime<chrono::Utc>, BadValue> {
    use chrono::Datelike;
    let at = crate::order::parse_timestamp(text.trim())
        .ok_or_else(|| bad_value(text, "is not an RFC 3339 timestamp"))?;
    if !crate::summary::AS_OF_YEARS.contains(&at.year()) {
        return Err(bad_value(text, "is outside the years 1971 to 2199"));
    }
    Ok(at)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Population {
            command: PopulationCommand::Fetch(args),
        } => fetch_population(args).await,
        Command::Simulate(args) => simulate(args).await,
        Command::Serve => serve().await,
        embedded_only => run_embedded(embedded_only).await,
    }
}

#[cfg(feature = "azure")]
async fn serve() -> anyhow::Result<()> {
    Ok(crate::azure::run_serve().await?)
}

/// A build without the Azure adapters names what it lacks.
#[cfg(not(feature = "azure"))]
async fn serve() -> anyhow::Result<()> {
    anyhow::bail!(
        "`serve` needs the Azure adapters, which this build leaves out (cargo feature `azure`)"
    )
}

#[cfg(feature = "embedded")]
async fn run_embedded(command: Command) -> anyhow::Result<()> {
    embedded::run(command).await
}

/// A build without the embedded mode (the Azure package) names what it lacks.
#[cfg(not(feature = "embedded"))]
async fn run_embedded(command: Command) -> anyhow::Result<()> {
    anyhow::bail!(
        "this build of pizza-pipeline has no embedded mode (it is the Azure package, built \
         without the `embedded` feature), so it cannot run {command:?}; use the full build"
    )
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let url = format!("{}/api/orders", args.url.trim_end_matches('/'));
    let first_order_id = args
        .first_order_id
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis() * 1000);
    let spec = crate::simulate::SimulateSpec {
        url: url.clone(),
        rate: args.rate,
        duration: args.duration,
        day_seconds: (!args.flat).then(|| args.day_length.unwrap_or(args.duration).as_secs_f64()),
        customers: args.customers,
        duplicates: args.duplicates,
        bad: args.bad,
        concurrency: args.concurrency,
        key: args.key,
        first_order_id,
        seed: args.seed,
    };
    eprintln!(
        "simulating {:.0} orders/s for {:?} against {url} (first order id {first_order_id})",
        spec.rate, spec.duration
    );
    let report = crate::simulate::simulate(spec).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    anyhow::ensure!(
        !args.strict || (report.unexpected == 0 && report.transport_errors == 0),
        "{} unexpected answers and {} transport errors",
        report.unexpected,
        report.transport_errors
    );
    Ok(())
}

async fn fetch_population(args: FetchArgs) -> anyhow::Result<()> {
    use crate::population::fetch::{
        download, implausible_changes, parse_table, to_csv, vintage_url,
    };
    let shipped = crate::population::shipped();
    let vintage = args.vintage.unwrap_or(shipped[0].year + 1);
    let url = args.url.unwrap_or_else(|| vintage_url(vintage));
    eprintln!("downloading vintage {vintage} from {url}");
    let xlsx = download(&url).await?;
    let rows = parse_table(&xlsx, vintage, &shipped)?;
    let moved = implausible_changes(&rows, &shipped, args.max_change);
    anyhow::ensure!(
        moved.is_empty(),
        "not replacing {}: these states moved by more than {:.0}% against the shipped table, which suggests a misread: {}",
        args.out.display(),
        args.max_change * 100.0,
        moved.join(", ")
    );
    let temp = args.out.with_extension("csv.tmp");
    std::fs::write(&temp, to_csv(&rows)).with_context(|| format!("writing {}", temp.display()))?;
    std::fs::rename(&temp, &args.out)
        .with_context(|| format!("replacing {}", args.out.display()))?;
    let total: i64 = rows
        .iter()
        .filter(|r| r.state_code != "PR")
        .map(|r| r.adult_population)
        .sum();
    println!(
        "replaced {} with vintage {vintage}: 52 areas, 50 states + DC = {total} adults; update data/census/PROVENANCE.md and rebuild",
        args.out.display()
    );
    Ok(())
}
