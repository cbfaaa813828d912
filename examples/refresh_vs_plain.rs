//! Refresh time against its baseline, measured in the same run (CONTRACT §9): our exact,
//! de-duplicated `state_top_pizzas` build versus one plain DuckDB aggregate query over
//! the same Parquet lake (no de-duplication, no ranking, no population join).
//!
//! cargo run --release --example refresh_vs_plain -- AS_OF RUNS DATA_DIR [DATA_DIR…]
//! (make each DATA_DIR with `pizza-pipeline generate-lake`)
//!
//! With several lakes, each round measures every lake once, in turn, so that a slow
//! spell of this shared machine falls on all of them rather than on whichever lake was
//! measured during it. Each lake after the first is then compared with the first round by
//! round, and the median of those ratios is printed.

use pizza_pipeline::host::{DataDir, Embedded};
use pizza_pipeline::summary::{Refresh, ReportWindow};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

const PLAIN: &str =
    "SELECT state, pizza_type, sum(qty), sum(retail_price), count(DISTINCT customer_id)
    FROM read_parquet('{glob}')
    WHERE order_ts >= '{start}'::TIMESTAMPTZ AND order_ts < '{end}'::TIMESTAMPTZ AND customer_found
    GROUP BY ALL";

/// One lake, ready to be measured, and its timings so far (seconds, one per round).
struct Lake {
    name: String,
    summary: Arc<Refresh>,
    plain: String,
    ours: Vec<f64>,
    theirs: Vec<f64>,
}

impl Lake {
    fn open(path: &str, window: ReportWindow) -> anyhow::Result<Self> {
        let dir = DataDir::existing(Path::new(path))?;
        let lake = Arc::new(pizza_pipeline::lake::LocalLake::new(dir.lake()));
        let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S+00").to_string();
        let plain = PLAIN
            .replace(
                "{glob}",
                &format!("{}/orders_enriched/*/*.parquet", dir.lake().display()),
            )
            .replace("{start}", &at(window.start))
            .replace("{end}", &at(window.end));
        Ok(Self {
            name: path.to_string(),
            summary: Embedded::open_report(
                &dir,
                lake,
                Arc::new(pizza_pipeline::metrics::Metrics::new()),
            )?
            .refresh,
            plain,
            ours: Vec::new(),
            theirs: Vec::new(),
        })
    }

    /// One plain aggregate, then one refresh.
    async fn measure(
        &mut self,
        baseline_db: &duckdb::Connection,
        window: ReportWindow,
    ) -> anyhow::Result<()> {
        let started = Instant::now();
        let groups = baseline_db
            .prepare(&self.plain)?
            .query_map([], |_| Ok(()))?
            .count();
        self.theirs.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let report = self.summary.refresh(window).await?;
        self.ours.push(started.elapsed().as_secs_f64());
        eprintln!(
            "{}: plain {:.3} s ({groups} groups) · refresh {:.3} s ({} rows)",
            self.name,
            self.theirs.last().unwrap(),
            self.ours.last().unwrap(),
            report.report_rows
        );
        Ok(())
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() >= 4,
        "usage: refresh_vs_plain AS_OF RUNS DATA_DIR [DATA_DIR…]"
    );
    let as_of = pizza_pipeline::order::parse_timestamp(&args[1])
        .ok_or_else(|| anyhow::anyhow!("bad AS_OF {:?}", args[1]))?;
    let runs: usize = args[2].parse()?;
    anyhow::ensure!(runs >= 1, "RUNS must be at least 1");
    let window = ReportWindow::ending_at(as_of, chrono_tz::Tz::UTC);
    let mut lakes = args[3..]
        .iter()
        .map(|path| Lake::open(path, window))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let baseline_db = duckdb::Connection::open_in_memory()?;

    for _ in 0..runs {
        for lake in &mut lakes {
            lake.measure(&baseline_db, window).await?;
        }
    }
    for lake in &lakes {
        let (ours, theirs) = (median(&lake.ours), median(&lake.theirs));
        println!(
            "lake {}: refresh median {ours:.3} s · plain aggregate median {theirs:.3} s · ratio {:.2}",
            lake.name,
            ours / theirs
        );
    }
    let first = &lakes[0];
    for lake in &lakes[1..] {
        let ratios: Vec<f64> = lake
            .ours
            .iter()
            .zip(&first.ours)
            .map(|(a, b)| a / b)
            .collect();
        let listed: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "lake {} vs {}: refresh ratios by round {} · median {:.2}",
            lake.name,
            first.name,
            listed.join(" / "),
            median(&ratios)
        );
    }
    Ok(())
}
