//! Refresh time against its baseline, measured in the same run (SPEC §9): our exact,
//! de-duplicated `state_top_pizzas` build versus one plain DuckDB aggregate query over
//! the same Parquet lake (no de-duplication, no ranking, no population join).
//!
//! cargo run --release --example refresh_vs_plain -- DATA_DIR AS_OF [RUNS]
//! (make DATA_DIR with `pizza-pipeline generate-lake`)

use pizza_pipeline::host::{DataDir, Embedded};
use pizza_pipeline::summary::ReportWindow;
use std::time::Instant;

const PLAIN: &str =
    "SELECT state, pizza_type, sum(qty), sum(retail_price), count(DISTINCT customer_id)
    FROM read_parquet('{glob}')
    WHERE order_ts >= '{start}'::TIMESTAMPTZ AND order_ts < '{end}'::TIMESTAMPTZ AND customer_found
    GROUP BY ALL";

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() >= 3,
        "usage: refresh_vs_plain DATA_DIR AS_OF [RUNS]"
    );
    let dir = DataDir::existing(std::path::Path::new(&args[1]))?;
    let as_of = pizza_pipeline::order::parse_timestamp(&args[2])
        .ok_or_else(|| anyhow::anyhow!("bad AS_OF"))?;
    let runs: usize = args.get(3).map(|r| r.parse()).transpose()?.unwrap_or(5);
    let window = ReportWindow::ending_at(as_of, chrono_tz::Tz::UTC);
    let lake = std::sync::Arc::new(pizza_pipeline::lake::LocalLake::new(dir.lake()));
    let summary = Embedded::open_warehouse(&dir, lake)?;
    let plain = PLAIN
        .replace(
            "{glob}",
            &format!("{}/orders_enriched/*/*.parquet", dir.lake().display()),
        )
        .replace(
            "{start}",
            &window.start.format("%Y-%m-%d %H:%M:%S+00").to_string(),
        )
        .replace(
            "{end}",
            &window.end.format("%Y-%m-%d %H:%M:%S+00").to_string(),
        );
    let baseline_db = duckdb::Connection::open_in_memory()?;

    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        let groups = baseline_db
            .prepare(&plain)?
            .query_map([], |_| Ok(()))?
            .count();
        theirs.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let report = summary.refresh(window).await?;
        ours.push(started.elapsed().as_secs_f64());
        eprintln!(
            "plain {:.3} s ({groups} groups) · refresh {:.3} s ({} rows)",
            theirs.last().unwrap(),
            ours.last().unwrap(),
            report.report_rows
        );
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ours, theirs) = (median(&mut ours), median(&mut theirs));
    println!(
        "refresh median {ours:.3} s · plain aggregate median {theirs:.3} s · ratio {:.2}",
        ours / theirs
    );
    Ok(())
}
