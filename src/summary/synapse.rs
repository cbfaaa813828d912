//! The Synapse adapter of [`ReportEngine`]: serverless SQL builds `state_top_pizzas`
//! from the lake (`sql/synapse/`), signed in as the Function App's managed identity.
//!
//! [`super::Refresh`] compacts the window's day partitions first (as embedded); the
//! build then runs `sql/synapse/05_build_state_summary.sql`: a CETAS writes the report of
//! this run into a new folder and the `state_top_pizzas` view is switched to it in one
//! statement, so Power BI reads the old report or the new one, never a mix.

use super::{EngineBuild, RefreshReport, ReportEngine, ReportWindow, SummaryError};
use crate::lake::LakeStore;
use crate::sql_script::{batches, fill, ValueRule};
use crate::tds::{Statement, TdsClient, TdsSession};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use std::sync::Arc;

const ENGINE: &str = "Synapse";

/// The build script; `{{run_id}}` names this run's table and folder.
pub const BUILD_SQL: &str = include_str!("../../sql/synapse/05_build_state_summary.sql");

pub struct SynapseEngine {
    session: TdsSession,
    lake: Arc<dyn LakeStore>,
}

/// Folder of the report runs in the lake (one `run=<run_id>/` folder per build).
pub const REPORT_RUNS: &str = "reports/state_top_pizzas";
/// What the last successful build was (its [`RefreshReport`] as JSON), written once the
/// view has switched to it: the hourly timer reads it to know whether the nightly report
/// is built already. Outside every `run=` folder, so the clean-up never touches it.
pub const LAST_BUILD: &str = "reports/state_top_pizzas/_last_build.json";

/// Runs whose files are kept: this one, and the one before it for queries that started
/// before the view switched.
const RUNS_KEPT: usize = 2;

/// The files of runs older than the newest `keep` runs. Run ids have a fixed width, so
/// their folder names sort by time.
pub fn stale_run_files(files: &[String], keep: usize) -> Vec<String> {
    // A run's files sit below its folder; the folder's own entry (which ADLS Gen2 lists,
    // and keeps once emptied) is not a file and is never deleted here.
    let run_of = |file: &str| -> Option<String> {
        let rest = file.strip_prefix(REPORT_RUNS)?.strip_prefix("/run=")?;
        let (run, name) = rest.split_once('/')?;
        (!run.is_empty() && !name.is_empty() && !name.ends_with('/')).then(|| run.to_string())
    };
    let runs: std::collections::BTreeSet<String> = files.iter().filter_map(|f| run_of(f)).collect();
    let stale: Vec<&String> = runs.iter().rev().skip(keep).collect();
    files
        .iter()
        .filter(|f| run_of(f).is_some_and(|run| stale.contains(&&run)))
        .cloned()
        .collect()
}

/// The id of one build: its table and folder name (`20261125T020000123456Z`).
pub fn run_id(refreshed_at: DateTime<Utc>) -> String {
    refreshed_at.format("%Y%m%dT%H%M%S%6fZ").to_string()
}

fn literal(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// The build's batches for one run, in order. The window goes in as checked literals:
/// a CETAS takes no parameters (see the script's header).
pub fn build_batches(
    window: &ReportWindow,
    refreshed_at: DateTime<Utc>,
) -> Result<Vec<String>, SummaryError> {
    let run = run_id(refreshed_at);
    let days = window.utc_days();
    let (start, end, at) = (
        literal(window.start),
        literal(window.end),
        literal(refreshed_at),
    );
    let (first_day, last_day) = (days.start().to_string(), days.end().to_string());
    let script = fill(
        BUILD_SQL,
        &[
            ("run_id", &run, ValueRule::Identifier),
            ("window_start", &start, ValueRule::Timestamp),
            ("window_end", &end, ValueRule::Timestamp),
            ("refreshed_at", &at, ValueRule::Timestamp),
            ("first_day", &first_day, ValueRule::Date),
            ("last_day", &last_day, ValueRule::Date),
        ],
    )?;
    Ok(batches(&script))
}

impl SynapseEngine {
    pub fn new(session: TdsSession, lake: Arc<dyn LakeStore>) -> Self {
        SynapseEngine { session, lake }
    }

    async fn run_batch(&self, batch: String) -> Result<(), SummaryError> {
        let statement: Statement<()> = Box::new(move |client: &mut TdsClient| {
            let batch = batch.clone();
            Box::pin(async move {
                client
                    .simple_query(batch.as_str())
                    .await?
                    .into_results()
                    .await?;
                Ok(())
            })
        });
        self.session
            .run(statement)
            .await
            .map_err(|e| SummaryError::engine(ENGINE, e))
    }

    async fn count_report_rows(&self) -> Result<usize, SummaryError> {
        let statement: Statement<i64> = Box::new(|client: &mut TdsClient| {
            Box::pin(async move {
                let row = client
                    .query(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM dbo.state_top_pizzas",
                        &[],
                    )
                    .await?
                    .into_row()
                    .await?;
                Ok(row.and_then(|r| r.get::<i64, _>(0)).unwrap_or(0))
            })
        });
        let rows = self
            .session
            .run(statement)
            .await
            .map_err(|e| SummaryError::engine(ENGINE, e))?;
        Ok(rows as usize)
    }

    async fn build_report(&self, window: ReportWindow) -> Result<EngineBuild, SummaryError> {
        let refreshed_at = crate::order::truncate_to_micros(Utc::now());
        tracing::info!(
            run = run_id(refreshed_at),
            "building state_top_pizzas in Synapse"
        );
        for batch in build_batches(&window, refreshed_at)? {
            self.run_batch(batch).await?;
        }
        let report_rows = self.count_report_rows().await?;
        self.remove_stale_runs().await;
        Ok(EngineBuild {
            refreshed_at,
            report_rows,
            // Synapse reads the partitions it needs itself; it does not say how many.
            files_read: 0,
        })
    }
}

/// Records `report` as the last successful build ([`LAST_BUILD`]).
pub async fn write_last_build(
    lake: &dyn LakeStore,
    report: &RefreshReport,
) -> Result<(), SummaryError> {
    let json = serde_json::to_vec(report).expect("json");
    lake.put(LAST_BUILD, json.into()).await?;
    Ok(())
}

/// The `as_of` of the last successful build, from [`LAST_BUILD`] (`None`: never built).
pub async fn read_last_build(lake: &dyn LakeStore) -> Result<Option<DateTime<Utc>>, SummaryError> {
    #[derive(serde::Deserialize)]
    struct LastBuild {
        as_of: String,
    }
    if !lake
        .list(REPORT_RUNS)
        .await?
        .iter()
        .any(|p| p == LAST_BUILD)
    {
        return Ok(None);
    }
    let bytes = lake.get(LAST_BUILD).await?;
    let unreadable = |reason: String| SummaryError::LastBuildUnreadable {
        path: LAST_BUILD,
        reason,
    };
    let last: LastBuild = serde_json::from_slice(&bytes).map_err(|e| unreadable(e.to_string()))?;
    let as_of = crate::order::parse_timestamp(&last.as_of)
        .ok_or_else(|| unreadable(format!("as_of {:?} is not a timestamp", last.as_of)))?;
    Ok(Some(as_of))
}

impl SynapseEngine {
    /// Deletes the files of old report runs (their external tables were dropped by the
    /// script). A failure here costs storage, not correctness: it is logged, and the next
    /// build tries again.
    async fn remove_stale_runs(&self) {
        let result = async {
            let files = self.lake.list(REPORT_RUNS).await?;
            let stale = stale_run_files(&files, RUNS_KEPT);
            for file in &stale {
                self.lake.delete(file).await?;
            }
            Ok::<_, crate::lake::LakeError>(stale.len())
        }
        .await;
        match result {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "old report runs removed from the lake"),
            Err(e) => {
                tracing::warn!(error = %e, "could not remove old report runs; the next build will")
            }
        }
    }
}

impl ReportEngine for SynapseEngine {
    fn name(&self) -> &'static str {
        ENGINE
    }

    fn reads_rollups(&self) -> bool {
        false
    }

    fn build(&self, window: ReportWindow) -> BoxFuture<'_, Result<EngineBuild, SummaryError>> {
        Box::pin(self.build_report(window))
    }

    /// Writes [`LAST_BUILD`]. A build whose record cannot be written counts as failed:
    /// the next tick builds again rather than leave the timer unsure.
    fn record_build<'a>(
        &'a self,
        report: &'a RefreshReport,
    ) -> BoxFuture<'a, Result<(), SummaryError>> {
        Box::pin(write_last_build(self.lake.as_ref(), report))
    }

    fn last_built_as_of(&self) -> BoxFuture<'_, Result<Option<DateTime<Utc>>, SummaryError>> {
        Box::pin(read_last_build(self.lake.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn only_runs_older_than_the_last_two_are_stale() {
        let files: Vec<String> = [
            "reports/state_top_pizzas/run=20261123T020000000000Z/part-1.parquet",
            "reports/state_top_pizzas/run=20261123T020000000000Z/part-2.parquet",
            "reports/state_top_pizzas/run=20261124T020000000000Z/part-1.parquet",
            "reports/state_top_pizzas/run=20261125T020000000000Z/part-1.parquet",
            "reports/other/run=20200101T000000000000Z/x.parquet",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(stale_run_files(&files, 2), files[..2].to_vec());
        assert!(stale_run_files(&files[2..4], 2).is_empty());
    }

    #[test]
    fn directory_entries_of_an_adls_listing_are_never_stale_files() {
        // ADLS Gen2 lists each folder as an entry of its own, and keeps an emptied one.
        let runs = "reports/state_top_pizzas";
        let listing: Vec<String> = [
            runs.to_string(),
            format!("{runs}/run=20261122T020000000000Z"),
            format!("{runs}/run=20261123T020000000000Z"),
            format!("{runs}/run=20261123T020000000000Z/part-1.parquet"),
            format!("{runs}/run=20261124T020000000000Z"),
            format!("{runs}/run=20261124T020000000000Z/part-1.parquet"),
            format!("{runs}/run=20261125T020000000000Z"),
            format!("{runs}/run=20261125T020000000000Z/part-1.parquet"),
            format!("{runs}/run=20261126T020000000000Z/"),
        ]
        .to_vec();
        assert_eq!(
            stale_run_files(&listing, 2),
            [format!("{runs}/run=20261123T020000000000Z/part-1.parquet")]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_last_build_is_recorded_beside_the_runs_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let lake = crate::lake::LocalLake::new(dir.path());
        assert_eq!(read_last_build(&lake).await.unwrap(), None, "never built");
        let window = ReportWindow::ending_at(
            Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap(),
            chrono_tz::America::Chicago,
        );
        let report = RefreshReport {
            as_of: crate::order::format_ts(&window.as_of),
            window_start: crate::order::format_ts(&window.start),
            window_end: crate::order::format_ts(&window.end),
            refreshed_at: "2026-11-25T08:00:01.000000Z".into(),
            report_rows: 153,
            files_read: 0,
            partitions_compacted: 1,
            duration_ms: 9000,
        };
        write_last_build(&lake, &report).await.unwrap();
        assert_eq!(read_last_build(&lake).await.unwrap(), Some(window.as_of));
        // The record is no run's file: the clean-up of old runs never removes it.
        let listed = lake.list(REPORT_RUNS).await.unwrap();
        assert!(stale_run_files(&listed, 0).is_empty(), "{listed:?}");
        lake.put(LAST_BUILD, bytes::Bytes::from_static(b"{"))
            .await
            .unwrap();
        assert!(
            read_last_build(&lake).await.is_err(),
            "a broken record is an error, not 'never built'"
        );
    }

    #[test]
    fn every_batch_is_filled_with_the_window() {
        let refreshed = Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap();
        let run = run_id(refreshed);
        assert_eq!(run, "20261125T020000000000Z");
        let window = ReportWindow::ending_at(
            Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap(),
            chrono_tz::UTC,
        );
        let batches = build_batches(&window, refreshed).expect("the script fills");
        assert!(batches.len() >= 2, "CETAS, then the view switch");
        assert!(batches.iter().all(|b| !b.contains("{{")));
        let all = batches.join("\n");
        assert!(all.contains(&format!("state_top_pizzas_{run}")));
        assert!(all.contains("2025-11-25T00:00:00.000000"));
        assert!(all.contains("2026-11-25T00:00:00.000000"));
        assert!(
            all.contains("2025-11-25") && all.contains("2026-11-24"),
            "the window's UTC days"
        );
    }
}
