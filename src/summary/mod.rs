//! The nightly report's core (CONTRACT §6): the 12-month report window, the refresh
//! use-case ([`Refresh`]: compact the window's partitions, build, record, report) and the
//! port of the engine that builds `state_top_pizzas` ([`ReportEngine`]).
//!
//! Two adapters implement the port: DuckDB embedded (`crate::warehouse`,
//! `sql/duckdb/`) and Synapse serverless SQL in Azure ([`SynapseEngine`],
//! `sql/synapse/`). Whoever asks for a report (the timer's function, `POST
//! /admin/refresh`, `refresh`, the demo history) asks [`Refresh`], so every build is
//! compacted, timed, counted and logged the same way.

mod refresh;
mod synapse;
mod window;

pub use refresh::Refresh;
pub use synapse::{
    build_batches, read_last_build, run_id, write_last_build, SynapseEngine, BUILD_SQL, LAST_BUILD,
};
pub use window::{parse_report_time_zone, ReportWindow, UnknownTimeZone, NIGHTLY_BUILD_HOUR};

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error("lake compaction before the summary failed: {0}")]
    Compaction(#[from] crate::lake::LakeError),
    /// The engine could not build or read the report.
    #[error("{engine}: {source}")]
    Engine {
        engine: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the build script could not be filled: {0}")]
    Script(#[from] crate::sql_script::ScriptError),
    #[error("{path} is unreadable: {reason}")]
    LastBuildUnreadable { path: &'static str, reason: String },
}

impl SummaryError {
    /// An engine's own error, kept whole as the source.
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
    pub files_read: usize,
    pub partitions_compacted: usize,
    pub duration_ms: u64,
}

/// What an engine's build made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineBuild {
    pub refreshed_at: DateTime<Utc>,
    pub report_rows: usize,
    /// Lake files the engine was handed; 0 for an engine that finds its files itself.
    pub files_read: usize,
}

/// Where `state_top_pizzas` is built: DuckDB embedded (`crate::warehouse::Warehouse`),
/// Synapse serverless SQL in Azure ([`SynapseEngine`]).
pub trait ReportEngine: Send + Sync + 'static {
    /// The engine's name, for logs and errors.
    fn name(&self) -> &'static str;

    /// Whether the engine reads the daily customer roll-ups, which compaction then writes.
    fn reads_rollups(&self) -> bool;

    /// Builds the report of `window` (whose partitions are compacted already) and
    /// answers once it is what readers get.
    fn build(&self, window: ReportWindow) -> BoxFuture<'_, Result<EngineBuild, SummaryError>>;

    /// Keeps `report` as the record of the last successful build, where the engine needs
    /// one besides the report itself.
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
