//! The command line (SPEC §8): `dev`, `customers load`, `refresh`, `report`, `serve`.

use crate::customers::SqliteCustomers;
use crate::host::{run_dev, DataDir, DevSettings, Embedded};
use crate::summary::ReportWindow;
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
    /// The Census adult-population reference.
    Population {
        #[command(subcommand)]
        command: PopulationCommand,
    },
    /// Write N synthetic orders straight into the lake (for benchmarks and demos).
    GenerateLake(GenerateArgs),
    /// Run as an Azure Functions custom handler (listens on FUNCTIONS_CUSTOMHANDLER_PORT).
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
    /// When build_state_summary runs: a six-field cron expression (sec min hour day
    /// month weekday) in the report time zone, or "off".
    #[arg(long, env = "PIZZA_SUMMARY_SCHEDULE", default_value = "0 0 2 * * *")]
    pub summary_schedule: String,
    /// Seconds between lake compactions.
    #[arg(long, env = "PIZZA_COMPACT_EVERY_SECS", default_value_t = 60)]
    pub compact_every_secs: u64,
    /// Require this key on POST /api/orders and /admin/* (header x-functions-key or
    /// Authorization: Bearer). Prefer the environment variable: arguments show in `ps`.
    #[arg(long, env = "PIZZA_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Most events handed to one enrich_orders invocation.
    #[arg(long, env = "PIZZA_BATCH_MAX", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub batch_max: u32,
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
}

fn parse_tz(text: &str) -> Result<Tz, String> {
    text.parse::<Tz>()
        .map_err(|_| format!("{text:?} is not an IANA time zone (e.g. UTC, America/Chicago)"))
}

fn parse_as_of(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    crate::order::parse_timestamp(text.trim())
        .ok_or_else(|| format!("{text:?} is not an RFC 3339 timestamp"))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Dev(args) => run_dev(dev_settings(args)).await,
        Command::Customers { command: CustomersCommand::Load { data_dir, file } } => load_customers(data_dir, file),
        Command::Refresh(args) => refresh(args).await,
        Command::Report(args) => report(args),
        Command::GenerateLake(args) => generate_lake(args),
        Command::Population { command: PopulationCommand::Fetch(args) } => fetch_population(args).await,
        Command::Serve => anyhow::bail!(
            "`serve` (Azure custom-handler mode) needs the Azure adapters (Event Hubs, Azure SQL, ADLS Gen2, Synapse), \
             which are not built yet; run `pizza-pipeline dev` for the embedded pipeline"
        ),
    }
}

fn dev_settings(args: DevArgs) -> DevSettings {
    let schedule = args.summary_schedule.trim();
    DevSettings {
        data_dir: args.data_dir,
        listen: args.listen,
        report_tz: args.report_tz.tz,
        summary_schedule: (!schedule.eq_ignore_ascii_case("off")).then(|| schedule.to_string()),
        compact_every: Duration::from_secs(args.compact_every_secs.max(1)),
        batch_max: args.batch_max as usize,
        api_key: args.api_key,
    }
}

fn load_customers(data_dir: PathBuf, file: PathBuf) -> anyhow::Result<()> {
    let dir = DataDir::create(&data_dir)?;
    let customers = SqliteCustomers::read_csv(&file)?;
    let known: Vec<String> = crate::population::shipped()
        .into_iter()
        .map(|p| p.state_code)
        .collect();
    let outside = customers
        .iter()
        .filter(|c| !known.contains(&c.state))
        .count();
    let db = SqliteCustomers::open(&dir.customers())?;
    db.replace_all(&customers)
        .with_context(|| format!("loading {} (is `dev` running?)", file.display()))?;
    println!(
        "loaded {} customers into {}",
        customers.len(),
        dir.customers().display()
    );
    if outside > 0 {
        eprintln!("note: {outside} customers live outside the 50 states, DC and PR; their orders land but are not in the report");
    }
    Ok(())
}

async fn refresh(args: RefreshArgs) -> anyhow::Result<()> {
    let dir = DataDir::existing(&args.data_dir)?;
    let (summary, _lake) = Embedded::open_warehouse(&dir)?;
    let window = match args.as_of {
        Some(as_of) => ReportWindow::ending_at(as_of, args.report_tz.tz),
        None => ReportWindow::nightly(chrono::Utc::now(), args.report_tz.tz),
    };
    let report = summary.refresh(window).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn report(args: ReportArgs) -> anyhow::Result<()> {
    let dir = DataDir::existing(&args.data_dir)?;
    let state = args.state.trim().to_ascii_uppercase();
    anyhow::ensure!(
        crate::population::shipped()
            .iter()
            .any(|p| p.state_code == state),
        "{:?} is not a state code of the population table (e.g. TX)",
        args.state
    );
    let (summary, _lake) = Embedded::open_warehouse(&dir)?;
    let rows = summary.warehouse().report_for_state(&state)?;
    let rows: Vec<_> = rows.iter().map(|r| r.to_json()).collect();
    println!("{}", serde_json::to_string_pretty(&rows)?);
    Ok(())
}

fn generate_lake(args: GenerateArgs) -> anyhow::Result<()> {
    let dir = DataDir::create(&args.data_dir)?;
    let population = crate::population::shipped();
    let customers = crate::host::open_customers(&dir, &population)?.all()?;
    let spec = crate::generate::LakeSpec {
        orders: args.orders,
        days: args.days,
        end: args.end.unwrap_or_else(|| chrono::Utc::now().date_naive()),
        seed: args.seed,
    };
    eprintln!(
        "generating {} orders over {} days for {} customers …",
        spec.orders,
        spec.days,
        customers.len()
    );
    let report = crate::generate::generate_lake(&dir.lake(), &customers, &spec)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
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
