//! The nightly report's core (CONTRACT §6): the 12-month report window, the report core
//! that computes `state_top_pizzas` from the daily roll-ups ([`build_report`]), the
//! refresh use-case ([`Refresh`]: compact the window's days, build, check, publish,
//! record), and the port of the warehouses that publish the report to its readers and
//! recompute it with their own SQL as a check ([`ReportWarehouse`]).
//!
//! Two adapters implement the port: DuckDB embedded (`crate::warehouse`, `sql/duckdb/`)
//! and Synapse serverless SQL in Azure ([`SynapseWarehouse`], `sql/synapse/`). Whoever
//! asks for a report (the timer's function, `POST /admin/refresh`, `refresh`, the demo
//! history) asks [`Refresh`], so every build is compacted, computed, timed, counted and
//! logged the same way.

mod build;
mod refresh;
pub mod report;
mod request;
mod runs;
mod schedule;
#[cfg(feature = "azure")]
mod synapse;
mod window;

pub use build::{build_report, build_report_as_is, per_adult_micro_usd, CoreReport, DaysRead};
pub use refresh::{Refresh, RefreshOptions, Verified};
pub use report::{first_difference, report_file, report_schema, ReportRow, ReportWindowInfo};
pub use request::{RefreshRequest, RequestError, AS_OF_YEARS};
pub use runs::{
    ledger_file, run_file, run_id, stale_run_files, LEDGER_FILE_NAME, LEDGER_RUNS,
    REPORT_FILE_NAME, REPORT_RUNS, RUNS_KEPT,
};
pub use schedule::{ScheduleError, SummarySchedule};
#[cfg(feature = "azure")]
pub use synapse::{
    publish_batches, read_last_build, verify_query, write_last_build, SynapseWarehouse, LAST_BUILD,
    PUBLISH_SQL, VERIFY_SQL,
};
pub use window::{parse_report_time_zone, ReportWindow, UnknownTimeZone, NIGHTLY_BUILD_HOUR};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("the lake could not be compacted or read for the report")]
    Lake(#[from] crate::lake::LakeError),
    /// A warehouse could not publish, recompute or record the report.
    #[error("{engine} failed")]
    Engine {
        engine: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("a SQL script could not be filled")]
    Script(#[from] crate::sql_script::ScriptError),
    #[error("{path} is unreadable")]
    LastBuildUnreadable {
        path: &'static str,
        #[source]
        source: crate::errors::BoxError,
    },
    #[error("the customer sets of {state} {pizza_type} could not be read from a roll-up")]
    UnreadableCustomers {
        state: String,
        pizza_type: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the {what} of {state} {pizza_type} exceed 64 bits")]
    Overflow {
        state: String,
        pizza_type: String,
        what: &'static str,
    },
    #[error("a worker of the report core failed")]
    Worker(#[source] tokio::task::JoinError),
    /// `--verify`: the warehouse's own SQL gives another report than the core.
    #[error(
        "state_top_pizzas verification failed: the report core and {engine} disagree: {difference}"
    )]
    Mismatch {
        engine: &'static str,
        difference: String,
    },
}

impl SummaryError {
    /// A warehouse's own error, kept whole as the source.
    pub fn engine(
        engine: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        SummaryError::Engine {
            engine,
            source: Box::new(source),
        }
    }
}

/// What a refresh did, as `POST /admin/refresh` and `refresh` report it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RefreshReport {
    pub as_of: String,
    pub window_start: String,
    pub window_end: String,
    pub refreshed_at: String,
    pub report_rows: usize,
    /// Lake files the report core read (roll-ups, and order files of the days it read
    /// as orders).
    pub files_read: usize,
    pub partitions_compacted: usize,
    /// Days of the window read from their month's roll-up.
    pub days_from_month_rollups: usize,
    /// Month roll-ups read (UTC months wholly inside the window).
    pub month_rollups_read: usize,
    /// Days of the window read from their own roll-up.
    pub days_from_rollups: usize,
    /// Days of the window read as orders: cut by the window, or without a fresh roll-up.
    pub days_read_as_orders: usize,
    /// Roll-ups this refresh wrote (with the days it compacted, or for compacted days
    /// without one): days rolled up on the way.
    pub rollups_written: usize,
    /// Month roll-ups this refresh wrote, for months wholly inside the window it had to
    /// read day by day: months rolled up on the way.
    pub month_rollups_written: usize,
    /// Whether the warehouse's own SQL recomputed the report and agreed (`--verify`).
    pub verified: bool,
    pub duration_ms: u64,
}

/// The report of one build, written into the lake, for a warehouse to publish.
#[derive(Debug, Clone)]
pub struct BuiltReport {
    pub window: ReportWindow,
    pub refreshed_at: DateTime<Utc>,
    /// The build's id: its run folder and, in Synapse, its table's suffix.
    pub run_id: String,
    /// The lake path of the report's Parquet file (`reports/state_top_pizzas/run=…/`).
    pub file: String,
    pub rows: Vec<ReportRow>,
    /// The books of the window's UTC days, as the lake and the stream show them: what
    /// Azure publishes as `dbo.ledger` (embedded, the books are read live instead).
    pub books: Vec<crate::ledger::StreamBooksDay>,
}

/// Where `state_top_pizzas` reaches its readers, and the SQL engine that recomputes it
/// from the orders as the independent check of the report core: DuckDB embedded
/// (`crate::warehouse::Warehouse`), Synapse serverless SQL in Azure
/// ([`SynapseWarehouse`]).
pub trait ReportWarehouse: Send + Sync + 'static {
    /// The warehouse's name, for logs and errors.
    fn name(&self) -> &'static str;

    /// Gets ready to publish (opens what takes time to open), while the report core
    /// computes.
    fn prepare(&self) -> BoxFuture<'_, Result<(), SummaryError>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// Makes `report` (its file already in the lake) what readers get, in one step:
    /// readers see the previous report or this one, never a mix.
    fn publish<'a>(&'a self, report: &'a BuiltReport) -> BoxFuture<'a, Result<(), SummaryError>>;

    /// The report of `window` by the warehouse's own SQL definition, over the order rows
    /// themselves (`order_files`: the files the core's report reflects; an engine that
    /// finds its files itself reads the window's days). Ordered by state and rank.
    fn recompute<'a>(
        &'a self,
        window: ReportWindow,
        order_files: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<ReportRow>, SummaryError>>;

    /// Keeps `report` as the record of the last successful build, where the warehouse
    /// needs one besides the report itself.
    fn record_build<'a>(
        &'a self,
        report: &'a RefreshReport,
    ) -> BoxFuture<'a, Result<(), SummaryError>> {
        let _ = report;
        Box::pin(std::future::ready(Ok(())))
    }

    /// The `as_of` (window end) of the last report built, `None` when none was: the
    /// nightly timer builds only when this is older than the report that is due.
    fn last_built_as_of(&self) -> BoxFuture<'_, Result<Option<DateTime<Utc>>, SummaryError>>;
}
