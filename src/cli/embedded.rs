//! The commands of the embedded mode (cargo feature `embedded`): `dev`, `customers load`,
//! `refresh`, `report`, `ledger` and `generate-lake`.

use super::{
    Command, CustomersCommand, DevArgs, GenerateArgs, LedgerArgs, RefreshArgs, ReportArgs,
};
use crate::customers::SqliteCustomers;
use crate::host::{run_dev, DataDir, DevSettings, Embedded};
use crate::metrics::Metrics;
use crate::summary::ReportWindow;
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub(super) async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Dev(args) => Ok(run_dev(dev_settings(args)?).await?),
        Command::Customers {
            command: CustomersCommand::Load { data_dir, file },
        } => load_customers(data_dir, file),
        Command::Refresh(args) => refresh(args).await,
        Command::Report(args) => report(args),
        Command::Ledger(args) => ledger(args).await,
        Command::GenerateLake(args) => generate_lake(args),
        Command::Population { .. } | Command::Simulate(_) | Command::Serve => {
            unreachable!("run by cli::run itself")
        }
    }
}

/// Fewer events than this wait for more, unless `--batch-min` says otherwise.
const DEFAULT_BATCH_MIN: u32 = 2_000;

/// `--batch-min` when it was given, else its default (never above `--batch-max`).
fn batch_min(args: &DevArgs) -> anyhow::Result<u32> {
    let Some(min) = args.batch_min else {
        return Ok(DEFAULT_BATCH_MIN.min(args.batch_max));
    };
    // Refused rather than clamped: a batch never holds more than --batch-max events, so a
    // larger --batch-min would quietly mean --batch-max, not what was asked for.
    anyhow::ensure!(
        min <= args.batch_max,
        "--batch-min (PIZZA_BATCH_MIN) is {min}, larger than --batch-max (PIZZA_BATCH_MAX), {}: \
         a batch never holds more than --batch-max events, so it could never be reached; \
         raise --batch-max or lower --batch-min",
        args.batch_max
    );
    Ok(min)
}

fn dev_settings(args: DevArgs) -> anyhow::Result<DevSettings> {
    let batch_min = batch_min(&args)?;
    let keyed = args.api_key.as_deref().is_some_and(|key| !key.is_empty());
    // Refused rather than warned about: without a key, anyone who can reach the address
    // can post orders, rebuild the report and read customers' names and addresses.
    anyhow::ensure!(
        keyed || args.listen.ip().is_loopback(),
        "--listen {} (PIZZA_LISTEN) reaches beyond this machine, and no API key is set: anyone \
         on the network could post orders, rebuild the report and read customers' names and \
         addresses. Set PIZZA_API_KEY (or --api-key), or listen on 127.0.0.1",
        args.listen
    );
    Ok(DevSettings {
        data_dir: args.data_dir,
        listen: args.listen,
        report_tz: args.report_tz.tz,
        order_horizon_days: args.order_horizon_days,
        summary_schedule: args.summary_schedule,
        compact_every: Duration::from_secs(args.compact_every_secs),
        batching: crate::host::BatchPolicy {
            max: args.batch_max as usize,
            min: batch_min as usize,
            max_wait: Duration::from_millis(args.batch_wait_ms),
        },
        api_key: args.api_key,
        lake_url: args.lake_url,
        demo_history: args.demo_history,
    })
}

fn load_customers(data_dir: PathBuf, file: PathBuf) -> anyhow::Result<()> {
    let dir = DataDir::create(&data_dir)?;
    let customers = crate::customers::read_customers_csv(&file)?;
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
    let lake = crate::host::open_lake(&dir, args.lake_url.as_deref()).await?;
    let report = Embedded::open_report(&dir, lake, Arc::new(Metrics::new()))?;
    let window = match args.as_of {
        Some(as_of) => ReportWindow::ending_at(as_of, args.report_tz.tz),
        None => ReportWindow::nightly(chrono::Utc::now(), args.report_tz.tz),
    };
    let options = crate::summary::RefreshOptions {
        verify: args.verify,
    };
    let refreshed = report.refresh.refresh(window, options).await?;
    println!("{}", serde_json::to_string_pretty(&refreshed)?);
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
    let lake = Arc::new(crate::lake::LocalLake::new(dir.lake()));
    let report = Embedded::open_report(&dir, lake, Arc::new(Metrics::new()))?;
    let rows = report.warehouse.report_for_state(&state)?;
    let rows: Vec<_> = rows.iter().map(|r| r.to_json()).collect();
    println!("{}", serde_json::to_string_pretty(&rows)?);
    Ok(())
}

async fn ledger(args: LedgerArgs) -> anyhow::Result<()> {
    let dir = DataDir::existing(&args.data_dir)?;
    let lake = crate::host::open_lake(&dir, args.lake_url.as_deref()).await?;
    let report = Embedded::open_report(&dir, lake.clone(), Arc::new(Metrics::new()))?;
    let books = crate::host::books(&dir, &report, lake);
    let default =
        crate::serving::default_days(books.report_window()?, chrono::Utc::now().date_naive());
    let from = args.from.unwrap_or(*default.start());
    let to = args.to.unwrap_or(*default.end()).max(from);
    let ledger = books.ledger(from..=to).await?;
    if args.verify {
        verify_lake_books(&books, from..=to).await?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&ledger)?);
    } else {
        print!("{}", crate::ledger::render_table(&ledger));
    }
    let unbalanced: Vec<String> = ledger
        .days
        .iter()
        .filter(|d| !d.balanced)
        .map(|d| format!("{}: {}", d.day, d.problems.join("; ")))
        .collect();
    anyhow::ensure!(
        unbalanced.is_empty(),
        "{} day(s) do not balance (docs/OPERATIONS.md, \"When a day does not balance\"):\n{}",
        unbalanced.len(),
        unbalanced.join("\n")
    );
    Ok(())
}

/// Compares the lake's half of the books from the roll-ups with its SQL definition.
async fn verify_lake_books(
    books: &crate::serving::EmbeddedBooks,
    days: std::ops::RangeInclusive<chrono::NaiveDate>,
) -> anyhow::Result<()> {
    let report = books.report_window()?;
    let population = crate::population::shipped();
    let by_rollups =
        crate::ledger::lake_days(books.lake.as_ref(), &days, report, &population).await?;
    let by_sql = books.lake_days_by_sql(days).await?;
    let differs = by_rollups
        .iter()
        .zip(&by_sql)
        .find(|(ours, theirs)| ours != theirs);
    if let Some((ours, theirs)) = differs {
        anyhow::bail!(
            "verification failed: the books from the roll-ups and DuckDB's SQL differ on {}: {ours:?} against {theirs:?}",
            ours.day
        );
    }
    anyhow::ensure!(
        by_rollups.len() == by_sql.len(),
        "verification failed: the books from the roll-ups have {} days with orders, DuckDB's SQL {}",
        by_rollups.len(),
        by_sql.len()
    );
    eprintln!(
        "verified: the books of {} days agree with DuckDB's SQL definition",
        by_sql.len()
    );
    Ok(())
}

fn generate_lake(args: GenerateArgs) -> anyhow::Result<()> {
    let dir = DataDir::create(&args.data_dir)?;
    let population = crate::population::shipped();
    let demo_count = args
        .customers
        .map_or(crate::customers::DEMO_CUSTOMER_COUNT, |n| n as usize);
    let (customers, _) = crate::host::open_customers(&dir, &population, demo_count)?;
    let customers = customers.all()?;
    if args
        .customers
        .is_some_and(|n| n as usize != customers.len())
    {
        eprintln!(
            "note: {} already has {} customers; --customers applies to a data dir without any",
            dir.customers().display(),
            customers.len()
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn dev_args(flags: &[&str]) -> Result<DevArgs, clap::Error> {
        let argv = ["pizza-pipeline", "dev"].iter().chain(flags);
        match Cli::try_parse_from(argv)?.command {
            Command::Dev(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn the_batch_minimum_follows_a_smaller_maximum_unless_set() {
        let min = |flags: &[&str]| batch_min(&dev_args(flags).unwrap()).map_err(|e| e.to_string());
        assert_eq!(min(&[]), Ok(2_000));
        assert_eq!(min(&["--batch-max", "300"]), Ok(300));
        assert_eq!(min(&["--batch-max", "300", "--batch-min", "300"]), Ok(300));
        assert_eq!(min(&["--batch-min", "50"]), Ok(50));
        let refused = min(&["--batch-max", "300", "--batch-min", "301"]).unwrap_err();
        assert!(
            refused.contains("is 301, larger than --batch-max"),
            "{refused}"
        );
    }

    #[test]
    fn the_demo_history_is_off_unless_asked_for() {
        assert!(!dev_args(&[]).unwrap().demo_history);
        assert!(dev_args(&["--demo-history"]).unwrap().demo_history);
    }

    fn generate_args(flags: &[&str]) -> Result<GenerateArgs, clap::Error> {
        let argv = ["pizza-pipeline", "generate-lake"].iter().chain(flags);
        match Cli::try_parse_from(argv)?.command {
            Command::GenerateLake(args) => Ok(args),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn generate_lake_draws_orders_from_as_many_customers_as_asked() {
        let data = tempfile::tempdir().unwrap();
        let dir = data.path().to_str().unwrap();
        let flags = ["--data-dir", dir, "--orders", "400", "--days", "2"];
        let args =
            generate_args(&[&flags[..], &["--customers", "40", "--end", "2026-11-25"]].concat());
        generate_lake(args.unwrap()).unwrap();
        let customers = SqliteCustomers::open(&DataDir::existing(data.path()).unwrap().customers());
        assert_eq!(customers.unwrap().count().unwrap(), 40);

        // A data dir that has customers keeps them.
        generate_lake(generate_args(&[&flags[..], &["--customers", "7"]].concat()).unwrap())
            .unwrap();
        let customers = SqliteCustomers::open(&DataDir::existing(data.path()).unwrap().customers());
        assert_eq!(customers.unwrap().count().unwrap(), 40);

        let refused = generate_args(&[&flags[..], &["--customers", "0"]].concat()).unwrap_err();
        assert!(refused.to_string().contains("--customers"), "{refused}");
    }

    #[test]
    fn a_zero_compaction_interval_is_refused_not_rounded_up() {
        let refused = dev_args(&["--compact-every-secs", "0"])
            .unwrap_err()
            .to_string();
        assert!(refused.contains("--compact-every-secs"), "{refused}");
        assert_eq!(
            dev_args(&["--compact-every-secs", "1"])
                .unwrap()
                .compact_every_secs,
            1
        );
    }
}
