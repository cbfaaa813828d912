//! `build_state_summary` in Azure: Synapse serverless SQL builds `state_top_pizzas` from
//! the lake (`sql/synapse/`), signed in as the Function App's managed identity.
//!
//! The build first compacts the window's day partitions through the lake adapter (as
//! embedded), then runs `sql/synapse/05_build_state_summary.sql`: a CETAS writes the
//! report of this run into a new folder and the `state_top_pizzas` view is switched to
//! it in one statement, so Power BI reads the old report or the new one, never a mix.

use super::{RefreshReport, ReportWindow, SummaryError};
use crate::azure::sql_script::{batches, fill, ValueRule};
use crate::azure::tds::{Statement, TdsClient, TdsSession};
use crate::functions::SummaryBuilder;
use crate::lake::{compact_lake, LakeGate, LakeStore};
use crate::stream::BoxFuture;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The build script; `{{run_id}}` names this run's table and folder.
pub const BUILD_SQL: &str = include_str!("../../sql/synapse/05_build_state_summary.sql");

pub struct SynapseSummary {
    session: TdsSession,
    lake: Arc<dyn LakeStore>,
    gate: LakeGate,
}

/// Folder of the report runs in the lake (one `run=<run_id>/` folder per build).
pub const REPORT_RUNS: &str = "reports/state_top_pizzas";
/// Runs whose files are kept: this one, and the one before it for queries that started
/// before the view switched.
const RUNS_KEPT: usize = 2;

/// The files of runs older than the newest `keep` runs. Run ids have a fixed width, so
/// their folder names sort by time.
pub fn stale_run_files(files: &[String], keep: usize) -> Vec<String> {
    let run_of = |file: &str| -> Option<String> {
        let rest = file.strip_prefix(REPORT_RUNS)?.strip_prefix("/run=")?;
        Some(rest.split('/').next()?.to_string())
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
    )
    .map_err(|e| SummaryError::Task(e.to_string()))?;
    Ok(batches(&script))
}

impl SynapseSummary {
    pub fn new(session: TdsSession, lake: Arc<dyn LakeStore>, gate: LakeGate) -> Self {
        SynapseSummary {
            session,
            lake,
            gate,
        }
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
            .map_err(|e| SummaryError::Task(format!("Synapse: {e}")))
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
            .map_err(|e| SummaryError::Task(format!("Synapse: {e}")))?;
        Ok(rows as usize)
    }

    pub async fn refresh(&self, window: ReportWindow) -> Result<RefreshReport, SummaryError> {
        let started = std::time::Instant::now();
        let compaction =
            compact_lake(self.lake.as_ref(), &self.gate, Some(window.utc_days())).await?;
        let refreshed_at = crate::order::truncate_to_micros(Utc::now());
        tracing::info!(run = run_id(refreshed_at), start = %window.start, end = %window.end, "building state_top_pizzas in Synapse");
        for batch in build_batches(&window, refreshed_at)? {
            self.run_batch(batch).await?;
        }
        let report_rows = self.count_report_rows().await?;
        self.remove_stale_runs().await;
        Ok(RefreshReport {
            as_of: crate::order::format_ts(&window.as_of),
            window_start: crate::order::format_ts(&window.start),
            window_end: crate::order::format_ts(&window.end),
            refreshed_at: crate::order::format_ts(&refreshed_at),
            report_rows,
            // Synapse reads the partitions it needs itself; it does not say how many.
            files_read: 0,
            partitions_compacted: compaction.partitions_compacted,
            duration_ms: started.elapsed().as_millis() as u64,
        })
    }
}

impl SynapseSummary {
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

impl SummaryBuilder for SynapseSummary {
    fn build(&self, window: ReportWindow) -> BoxFuture<'_, Result<RefreshReport, SummaryError>> {
        Box::pin(self.refresh(window))
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
