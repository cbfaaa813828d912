//! The Synapse adapter of [`ReportWarehouse`]: serverless SQL shows the report core's
//! file to Power BI and recomputes the report from the orders as a check, signed in as
//! the Function App's managed identity.
//!
//! - Publishing writes the build's books beside the report (`crate::ledger::books_file`,
//!   with the stream's backlog when it can be read), then runs
//!   `sql/synapse/05_publish_state_summary.sql`: an external table over each run folder,
//!   then the `dbo.state_top_pizzas` and `dbo.ledger` views switched to them, one
//!   statement each, so Power BI reads the old report or the new one, never a mix.
//! - The check runs `sql/synapse/07_verify_state_summary.sql`, the report's definition in
//!   T-SQL over the window's order rows.
//! - The last build is recorded in the lake ([`LAST_BUILD`]) for the hourly timer.

use super::report::ReportRow;
use super::runs::ledger_file;
use super::{BuiltReport, RefreshReport, ReportWarehouse, ReportWindow, SummaryError};
use crate::lake::LakeStore;
use crate::ledger::{books_file, BooksContext};
use crate::sql_script::{batches, fill, ValueRule};
use crate::stream::StreamBacklog;
use crate::tds::{Statement, TdsClient, TdsSession};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use std::sync::Arc;

const ENGINE: &str = "Synapse";

/// The publishing script; `{{run_id}}` names this run's table and folder.
pub const PUBLISH_SQL: &str = include_str!("../../sql/synapse/05_publish_state_summary.sql");
/// The report's definition in T-SQL, the check of the core.
pub const VERIFY_SQL: &str = include_str!("../../sql/synapse/07_verify_state_summary.sql");

pub struct SynapseWarehouse {
    session: TdsSession,
    lake: Arc<dyn LakeStore>,
    /// Where the books' `stream_backlog` comes from (`None`: published as unknown).
    backlog: Option<Arc<dyn StreamBacklog>>,
}

/// What the last successful build was (its [`RefreshReport`] as JSON), written once the
/// view has switched to it: the hourly timer reads it to know whether the nightly report
/// is built already. Outside every `run=` folder, so the clean-up never touches it.
pub const LAST_BUILD: &str = "reports/state_top_pizzas/_last_build.json";

fn literal(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// The publishing batches for one build, in order. Values go in as checked literals: DDL
/// takes no parameters.
pub fn publish_batches(report: &BuiltReport) -> Result<Vec<String>, SummaryError> {
    let script = fill(
        PUBLISH_SQL,
        &[("run_id", &report.run_id, ValueRule::Identifier)],
    )?;
    Ok(batches(&script))
}

/// The check's query for `window`, filled with checked literals (the window's partitions
/// are chosen by comparing `filepath()` with constants, which only literals keep).
pub fn verify_query(window: &ReportWindow) -> Result<String, SummaryError> {
    let days = window.utc_days();
    let (start, end) = (literal(window.start), literal(window.end));
    let (first_day, last_day) = (days.start().to_string(), days.end().to_string());
    Ok(fill(
        VERIFY_SQL,
        &[
            ("window_start", &start, ValueRule::Timestamp),
            ("window_end", &end, ValueRule::Timestamp),
            ("first_day", &first_day, ValueRule::Date),
            ("last_day", &last_day, ValueRule::Date),
        ],
    )?)
}

impl SynapseWarehouse {
    pub fn new(session: TdsSession, lake: Arc<dyn LakeStore>) -> Self {
        SynapseWarehouse {
            session,
            lake,
            backlog: None,
        }
    }

    /// The books published with each report carry the stream's backlog read here.
    pub fn with_backlog(self, backlog: Arc<dyn StreamBacklog>) -> Self {
        SynapseWarehouse {
            backlog: Some(backlog),
            ..self
        }
    }

    /// Writes the build's books into their run folder, for `dbo.ledger`.
    async fn write_books(&self, report: &BuiltReport) -> Result<(), SummaryError> {
        let stream_backlog = match &self.backlog {
            Some(backlog) => match backlog.backlog().await {
                Ok(backlog) => Some(backlog.waiting()),
                Err(e) => {
                    tracing::warn!(error = %crate::errors::Chain(&e), "stream backlog unknown: the books say NULL");
                    None
                }
            },
            None => None,
        };
        let context = BooksContext {
            window_start: report.window.start,
            window_end: report.window.end,
            stream_backlog,
            written_at: report.refreshed_at,
        };
        let file = books_file(&report.books, context)?;
        self.lake.put(&ledger_file(&report.run_id), file).await?;
        Ok(())
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

    async fn publish_report(&self, report: &BuiltReport) -> Result<(), SummaryError> {
        tracing::info!(
            run = report.run_id,
            "publishing state_top_pizzas in Synapse"
        );
        self.write_books(report).await?;
        for batch in publish_batches(report)? {
            self.run_batch(batch).await?;
        }
        Ok(())
    }

    async fn recompute_report(&self, window: ReportWindow) -> Result<Vec<ReportRow>, SummaryError> {
        let query = verify_query(&window)?;
        let statement: Statement<Vec<ReportRow>> = Box::new(move |client: &mut TdsClient| {
            let query = query.clone();
            Box::pin(async move {
                let rows = client
                    .simple_query(query.as_str())
                    .await?
                    .into_first_result()
                    .await?;
                rows.iter().map(|row| report_row(row, &window)).collect()
            })
        });
        self.session
            .run(statement)
            .await
            .map_err(|e| SummaryError::engine(ENGINE, e))
    }
}

/// One row of the check's query as a report row of `window`.
fn report_row(row: &tiberius::Row, window: &ReportWindow) -> tiberius::Result<ReportRow> {
    let text = |i: usize| -> tiberius::Result<String> {
        Ok(row.try_get::<&str, _>(i)?.unwrap_or_default().to_string())
    };
    let number = |i: usize| -> tiberius::Result<i64> {
        row.try_get::<i64, _>(i)?
            .ok_or_else(|| tiberius::error::Error::Conversion(format!("column {i} is NULL").into()))
    };
    let rank = row
        .try_get::<i32, _>(2)?
        .ok_or_else(|| tiberius::error::Error::Conversion("rank is NULL".into()))?;
    Ok(ReportRow {
        state: text(0)?,
        state_name: text(1)?,
        rank,
        pizza_type: text(3)?,
        pizzas_sold: number(4)?,
        gross_sales_cents: number(5)?,
        per_capita_micro_usd: number(6)?,
        unique_customers: number(7)?,
        adult_population: number(8)?,
        window_start: window.start,
        window_end: window.end,
        refreshed_at: window.end,
    })
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
        .list(super::REPORT_RUNS)
        .await?
        .iter()
        .any(|p| p == LAST_BUILD)
    {
        return Ok(None);
    }
    let bytes = lake.get(LAST_BUILD).await?;
    let unreadable = |source: crate::errors::BoxError| SummaryError::LastBuildUnreadable {
        path: LAST_BUILD,
        source,
    };
    let last: LastBuild = serde_json::from_slice(&bytes).map_err(|e| unreadable(e.into()))?;
    let as_of = crate::order::parse_timestamp(&last.as_of)
        .ok_or_else(|| unreadable(format!("as_of {:?} is not a timestamp", last.as_of).into()))?;
    Ok(Some(as_of))
}

impl ReportWarehouse for SynapseWarehouse {
    fn name(&self) -> &'static str {
        ENGINE
    }

    fn publish<'a>(&'a self, report: &'a BuiltReport) -> BoxFuture<'a, Result<(), SummaryError>> {
        Box::pin(self.publish_report(report))
    }

    /// Synapse finds the window's files itself: it reads the window's day partitions.
    fn recompute<'a>(
        &'a self,
        window: ReportWindow,
        _order_files: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<ReportRow>, SummaryError>> {
        Box::pin(self.recompute_report(window))
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
            files_read: 365,
            partitions_compacted: 1,
            days_from_month_rollups: 334,
            month_rollups_read: 11,
            days_from_rollups: 30,
            days_read_as_orders: 2,
            rollups_written: 1,
            month_rollups_written: 0,
            verified: false,
            duration_ms: 900,
        };
        write_last_build(&lake, &report).await.unwrap();
        assert_eq!(read_last_build(&lake).await.unwrap(), Some(window.as_of));
        // The record is no run's file: the clean-up of old runs never removes it.
        let listed = lake.list(super::super::REPORT_RUNS).await.unwrap();
        assert!(
            super::super::stale_run_files(super::super::REPORT_RUNS, &listed, 0).is_empty(),
            "{listed:?}"
        );
        lake.put(LAST_BUILD, bytes::Bytes::from_static(b"{"))
            .await
            .unwrap();
        assert!(
            read_last_build(&lake).await.is_err(),
            "a broken record is an error, not 'never built'"
        );
    }

    #[test]
    fn every_batch_and_the_check_are_filled_with_the_window() {
        let refreshed = Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap();
        let window = ReportWindow::ending_at(
            Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap(),
            chrono_tz::UTC,
        );
        let run_id = super::super::run_id(refreshed);
        let report = BuiltReport {
            window,
            refreshed_at: refreshed,
            file: super::super::run_file(&run_id),
            run_id: run_id.clone(),
            rows: Vec::new(),
            books: Vec::new(),
        };
        let batches = publish_batches(&report).expect("the script fills");
        assert_eq!(batches.len(), 5, "two tables, two view switches, clean-up");
        assert!(batches.iter().all(|b| !b.contains("{{")));
        let all = batches.join("\n");
        assert!(all.contains(&format!("state_top_pizzas_{run_id}")));
        assert!(all.contains(&format!("'reports/state_top_pizzas/run={run_id}/'")));
        assert!(all.contains(&format!("'reports/ledger/run={run_id}/'")));
        let check = verify_query(&window).unwrap();
        assert!(!check.contains("{{"));
        assert!(
            check.contains("'2025-11-25', '2026-11-24'"),
            "the window's UTC days"
        );
    }
}
