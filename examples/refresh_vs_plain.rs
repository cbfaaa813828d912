//! The nightly build against its baseline, measured in the same run (CONTRACT §9): our
//! exact, de-duplicated `state_top_pizzas` build, run as the nightly job runs it, versus
//! one plain DuckDB aggregate query over the same Parquet lake (no de-duplication, no
//! ranking, no population join) in a DuckDB connection that stays open, as the build's
//! host does.
//!
//! The nightly job runs inside the host that is already up (`dev` embedded, the
//! Functions handler in Azure), at 02:00, after the host's compaction has rolled up the
//! day that ended (`dev` compacts on its own schedule; in Azure the hourly ticks before
//! 02:00 do). So the nightly build is measured as `POST /admin/refresh` to a `dev` on the
//! lake, after the new day was compacted as the host compacts it (timed on its own:
//! "compaction ahead"). The same build as a one-off `pizza-pipeline refresh` process,
//! which opens DuckDB and compacts the new day itself, is measured too, with its peak
//! memory.
//!
//! cargo run --release --example refresh_vs_plain -- BIN AS_OF RUNS DATA_DIR [DATA_DIR…]
//! (BIN: the pizza-pipeline binary; make each DATA_DIR with `pizza-pipeline generate-lake`
//! ending the day AS_OF falls on)
//!
//! For each lake it measures:
//! - the first build: the lake's roll-ups removed first, as on a lake written by other
//!   tools, so the build rolls every day of the window up on the way;
//! - the steady-state nightly build, RUNS times: one new day since the last build (the
//!   window's last day, put back as a freshly landed batch file), compacted ahead, then
//!   built in the running host; and, before the hosts start, RUNS one-off processes that
//!   compact it themselves;
//! - the roll-ups' size, and what rolling a day up adds to compacting it;
//! - last, one build in each host checked against the SQL definition over the orders
//!   (`verify`), so that the figures are those of an exact build.
//!
//! Each round measures every lake once, in turn, and flips the order of build and
//! baseline, so that a slow spell of this shared machine falls on all of them rather than
//! on whichever was measured during it.

use pizza_pipeline::lake::paths::MONTH_ROLLUP_TABLE;
use pizza_pipeline::lake::rollup::ROLLUP_TABLE;
use pizza_pipeline::lake::{compact_lake, LakeGate, LocalLake, COMPACTED_PREFIX, ORDERS_TABLE};
use pizza_pipeline::summary::ReportWindow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const PLAIN: &str =
    "SELECT state, pizza_type, sum(qty), sum(retail_price), count(DISTINCT customer_id)
    FROM read_parquet('{glob}')
    WHERE order_ts >= '{start}'::TIMESTAMPTZ AND order_ts < '{end}'::TIMESTAMPTZ AND customer_found
    GROUP BY ALL";

/// One build as the nightly job runs it: seconds and peak resident memory.
#[derive(Clone, Copy)]
struct Run {
    seconds: f64,
    peak_mib: f64,
}

/// One lake, ready to be measured, and its timings so far.
struct Lake {
    dir: PathBuf,
    plain: String,
    first: Option<(Run, f64)>,
    /// The nightly build in the running host.
    builds: Vec<f64>,
    /// The same as a one-off `refresh` process.
    one_off: Vec<Run>,
    /// Compacting the new day ahead of the build, as the host does.
    ahead: Vec<f64>,
    plains: Vec<f64>,
}

/// A `dev` on one lake, the host the nightly build runs in.
struct Host {
    child: std::process::Child,
    url: String,
    client: reqwest::Client,
}

impl Host {
    /// Starts `dev` on `dir` (no schedule of its own: the builds are asked for) and waits
    /// until it answers.
    async fn start(bin: &str, dir: &Path) -> anyhow::Result<Host> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(bin)
            .args(["dev", "--data-dir"])
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--summary-schedule", "off", "--compact-every-secs", "86400"])
            .env("PIZZA_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        let host = Host {
            child,
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        for _ in 0..600 {
            let health = host.client.get(format!("{}/healthz", host.url)).send();
            if health.await.is_ok_and(|r| r.status().is_success()) {
                return Ok(host);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        anyhow::bail!("dev on {} never answered", dir.display())
    }

    /// One nightly build, as the schedule asks for it (`verify`: checked against the SQL
    /// definition over the orders as well): seconds, and the report's answer.
    async fn build(&self, as_of: &str, verify: bool) -> anyhow::Result<(f64, serde_json::Value)> {
        let started = Instant::now();
        let answer = self
            .client
            .post(format!("{}/admin/refresh", self.url))
            .json(&serde_json::json!({ "as_of": as_of, "verify": verify }))
            .send()
            .await?;
        let status = answer.status();
        let report: serde_json::Value = answer.json().await?;
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(status.is_success(), "refresh answered {status}: {report}");
        Ok((seconds, report))
    }

    /// The host's peak resident memory so far, in MiB (`VmHWM`).
    fn peak_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .ok_or_else(|| anyhow::anyhow!("no VmHWM"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kib / 1024.0)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Lake {
    fn open(dir: &str, window: &ReportWindow) -> Self {
        let dir = PathBuf::from(dir);
        let at = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S+00").to_string();
        let plain = PLAIN
            .replace(
                "{glob}",
                &format!("{}/{ORDERS_TABLE}/*/*.parquet", lake_root(&dir).display()),
            )
            .replace("{start}", &at(window.start))
            .replace("{end}", &at(window.end));
        Lake {
            dir,
            plain,
            first: None,
            builds: Vec::new(),
            one_off: Vec::new(),
            ahead: Vec::new(),
            plains: Vec::new(),
        }
    }

    fn name(&self) -> String {
        self.dir.display().to_string()
    }

    fn measure_plain(&self, db: &duckdb::Connection) -> anyhow::Result<f64> {
        let started = Instant::now();
        let groups = db.prepare(&self.plain)?.query_map([], |_| Ok(()))?.count();
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{}: plain aggregate {seconds:.3} s ({groups} groups)",
            self.name()
        );
        Ok(seconds)
    }

    /// The new day compacted and rolled up as the host's compaction does it, ahead of the
    /// build: seconds.
    async fn compact_ahead(&self, day: chrono::NaiveDate) -> anyhow::Result<f64> {
        let started = Instant::now();
        let lake = LocalLake::new(lake_root(&self.dir));
        compact_lake(&lake, &LakeGate::default(), Some(day..=day)).await?;
        Ok(started.elapsed().as_secs_f64())
    }

    /// The nightly build in `host`, the new day compacted ahead.
    async fn measure_nightly(&mut self, host: &Host, as_of: &str) -> anyhow::Result<()> {
        let day = *ReportWindow::ending_at(
            pizza_pipeline::order::parse_timestamp(as_of).expect("checked AS_OF"),
            chrono_tz::Tz::UTC,
        )
        .utc_days()
        .end();
        reland_day(&self.dir, day)?;
        self.ahead.push(self.compact_ahead(day).await?);
        let (seconds, report) = host.build(as_of, false).await?;
        eprintln!(
            "{}: nightly build in the host {seconds:.3} s ({} months and {} days from roll-ups, {} compacted)",
            self.name(),
            report["month_rollups_read"],
            report["days_from_rollups"],
            report["partitions_compacted"]
        );
        self.builds.push(seconds);
        Ok(())
    }

    /// `pizza-pipeline refresh` for the window, under `/usr/bin/time`.
    fn measure_build(&self, bin: &str, as_of: &str) -> anyhow::Result<Run> {
        let started = Instant::now();
        let output = Command::new("/usr/bin/time")
            .args(["-f", "peak_rss_kib=%M", bin, "refresh", "--data-dir"])
            .arg(&self.dir)
            .args(["--as-of", as_of])
            .env("PIZZA_LOG", "warn")
            .output()?;
        let seconds = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&output.stderr);
        anyhow::ensure!(output.status.success(), "refresh failed: {stderr}");
        let peak_kib: f64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak_rss_kib="))
            .ok_or_else(|| anyhow::anyhow!("no peak memory in {stderr}"))?
            .trim()
            .parse()?;
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        eprintln!(
            "{}: refresh process {seconds:.3} s, peak {:.0} MiB ({} months and {} days from roll-ups; {} days and {} months rolled up)",
            self.name(),
            peak_kib / 1024.0,
            report["month_rollups_read"],
            report["days_from_rollups"],
            report["rollups_written"],
            report["month_rollups_written"]
        );
        Ok(Run {
            seconds,
            peak_mib: peak_kib / 1024.0,
        })
    }
}

fn lake_root(dir: &Path) -> PathBuf {
    dir.join("lake")
}

/// The window's last day put back as it was the day its orders landed: its compacted
/// file becomes a batch file, and its roll-up goes.
fn reland_day(dir: &Path, day: chrono::NaiveDate) -> anyhow::Result<()> {
    let folder = lake_root(dir).join(format!("{ORDERS_TABLE}/order_date={day}"));
    for entry in std::fs::read_dir(&folder)? {
        let path = entry?.path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with(COMPACTED_PREFIX) {
            std::fs::rename(
                &path,
                folder.join("p0-00000000000000000001-00000000000000000002.parquet"),
            )?;
        }
    }
    let rollups = lake_root(dir).join(format!("{ROLLUP_TABLE}/order_date={day}"));
    if rollups.exists() {
        std::fs::remove_dir_all(rollups)?;
    }
    Ok(())
}

/// Bytes in the files under `folder`, and how many files.
fn folder_size(folder: &Path) -> (u64, usize) {
    let mut total = (0, 0);
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(meta) = entry.metadata() {
                total = (total.0 + meta.len(), total.1 + 1);
            }
        }
    }
    total
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn listed(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.2}"))
        .collect::<Vec<_>>()
        .join("/")
}

/// The roll-ups' size, and what rolling the new day up adds to compacting it.
async fn rollup_costs(
    lake: &Lake,
    db: &duckdb::Connection,
    day: chrono::NaiveDate,
) -> anyhow::Result<String> {
    let root = lake_root(&lake.dir);
    let (bytes, files) = folder_size(&root.join(ROLLUP_TABLE));
    let (month_bytes, months) = folder_size(&root.join(MONTH_ROLLUP_TABLE));
    let orders: i64 = db.query_row(
        &format!(
            "SELECT count(*) FROM read_parquet('{}/{ORDERS_TABLE}/*/*.parquet')",
            root.display()
        ),
        [],
        |r| r.get(0),
    )?;
    reland_day(&lake.dir, day)?;
    let started = Instant::now();
    let report = compact_lake(
        &LocalLake::new(&root),
        &LakeGate::default(),
        Some(day..=day),
    )
    .await?;
    let compaction = started.elapsed().as_secs_f64();
    Ok(format!(
        "lake {}: roll-ups {files} days, {:.0} KiB a day, {:.2} bytes an order; {months} month roll-ups, {:.0} KiB a month; compacting the new day {compaction:.3} s, of which rolling it up {:.3} s ({:.0}%)",
        lake.name(),
        bytes as f64 / files.max(1) as f64 / 1024.0,
        bytes as f64 / orders.max(1) as f64,
        month_bytes as f64 / months.max(1) as f64 / 1024.0,
        report.rollup_seconds,
        100.0 * report.rollup_seconds / compaction
    ))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    anyhow::ensure!(
        args.len() >= 5,
        "usage: refresh_vs_plain BIN AS_OF RUNS DATA_DIR [DATA_DIR…]"
    );
    let (bin, as_of_text) = (&args[1], &args[2]);
    let as_of = pizza_pipeline::order::parse_timestamp(as_of_text)
        .ok_or_else(|| anyhow::anyhow!("bad AS_OF {as_of_text:?}"))?;
    let runs: usize = args[3].parse()?;
    anyhow::ensure!(runs >= 1, "RUNS must be at least 1");
    let window = ReportWindow::ending_at(as_of, chrono_tz::Tz::UTC);
    let new_day = *window.utc_days().end();
    let mut lakes: Vec<Lake> = args[4..].iter().map(|d| Lake::open(d, &window)).collect();
    let db = duckdb::Connection::open_in_memory()?;

    // The first build, on lakes without roll-ups.
    for lake in &mut lakes {
        for table in [ROLLUP_TABLE, MONTH_ROLLUP_TABLE] {
            let rollups = lake_root(&lake.dir).join(table);
            if rollups.exists() {
                std::fs::remove_dir_all(rollups)?;
            }
        }
        let plain = lake.measure_plain(&db)?;
        let build = lake.measure_build(bin, as_of_text)?;
        lake.first = Some((build, plain));
    }
    // The same build as a one-off process, RUNS times (before the hosts start: a
    // process of its own cannot open the warehouse a running `dev` holds).
    for _ in 0..runs {
        for lake in &mut lakes {
            reland_day(&lake.dir, new_day)?;
            lake.one_off.push(lake.measure_build(bin, as_of_text)?);
        }
    }
    let mut hosts = Vec::with_capacity(lakes.len());
    for lake in &lakes {
        hosts.push(Host::start(bin, &lake.dir).await?);
    }
    // A first build in each host: what it keeps open (DuckDB) is open, as at any 02:00.
    for host in &hosts {
        host.build(as_of_text, false).await?;
    }
    // The nightly build with one new day, alternating with the baseline.
    for round in 0..runs {
        for (lake, host) in lakes.iter_mut().zip(&hosts) {
            if round % 2 == 0 {
                lake.plains.push(lake.measure_plain(&db)?);
                lake.measure_nightly(host, as_of_text).await?;
            } else {
                lake.measure_nightly(host, as_of_text).await?;
                lake.plains.push(lake.measure_plain(&db)?);
            }
        }
    }
    for (lake, host) in lakes.iter().zip(&hosts) {
        let (first, first_plain) = lake.first.expect("measured");
        println!(
            "lake {}: first build {:.3} s (peak {:.0} MiB) · plain aggregate {first_plain:.3} s · ratio {:.2}",
            lake.name(),
            first.seconds,
            first.peak_mib,
            first.seconds / first_plain
        );
        let ratios: Vec<f64> = lake
            .builds
            .iter()
            .zip(&lake.plains)
            .map(|(a, b)| a / b)
            .collect();
        println!(
            "lake {}: nightly build median {:.3} s (peak {:.0} MiB at most) · plain aggregate median {:.3} s · ratio {:.3} · ratios by round {}",
            lake.name(),
            median(&lake.builds),
            host.peak_mib()?,
            median(&lake.plains),
            median(&ratios),
            listed(&ratios)
        );
        let seconds: Vec<f64> = lake.one_off.iter().map(|r| r.seconds).collect();
        let peaks: Vec<f64> = lake.one_off.iter().map(|r| r.peak_mib).collect();
        println!(
            "lake {}: one-off refresh process median {:.3} s (peak {:.0} MiB at most) · ratio {:.3} · compaction ahead median {:.3} s",
            lake.name(),
            median(&seconds),
            peaks.iter().copied().fold(0.0, f64::max),
            median(&seconds) / median(&lake.plains),
            median(&lake.ahead)
        );
    }
    // Exact, not only fast: one more build in each host, checked against the SQL
    // definition over the orders, after every figure above was taken (DuckDB's recount
    // would count in the host's peak memory). A difference stops the run.
    for (lake, host) in lakes.iter().zip(&hosts) {
        let (seconds, report) = host.build(as_of_text, true).await?;
        anyhow::ensure!(
            report["verified"] == true,
            "{}: the build was not verified: {report}",
            lake.name()
        );
        println!(
            "lake {}: verified against the SQL definition over the orders ({} rows; {seconds:.1} s with the recount)",
            lake.name(),
            report["report_rows"]
        );
    }
    drop(hosts);
    let first = &lakes[0];
    for lake in &lakes[1..] {
        let ratios: Vec<f64> = lake
            .builds
            .iter()
            .zip(&first.builds)
            .map(|(a, b)| a / b)
            .collect();
        println!(
            "lake {} vs {}: nightly build ratios by round {} · median {:.2}",
            lake.name(),
            first.name(),
            listed(&ratios),
            median(&ratios)
        );
    }
    for lake in &lakes {
        println!("{}", rollup_costs(lake, &db, new_day).await?);
    }
    Ok(())
}
