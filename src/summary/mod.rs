//! The nightly summary (CONTRACT §6): the 12-month report window, the build (compact the
//! window's partitions, then run `sql/duckdb/state_top_pizzas.sql`), and the in-memory
//! copy of the tiny report table that `GET /api/report` answers from.

#[cfg(feature = "embedded")]
mod embedded;
mod synapse;
mod window;

#[cfg(feature = "embedded")]
pub use embedded::{ReportCache, SummaryService};
pub use synapse::{
    build_batches, read_last_build, run_id, write_last_build, SynapseSummary, BUILD_SQL, LAST_BUILD,
};
pub use window::{ReportWindow, NIGHTLY_BUILD_HOUR};

use crate::stream::BoxFuture;
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[cfg(feature = "embedded")]
    #[error(transparent)]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("lake compaction before the summary failed: {0}")]
    Compaction(#[from] crate::lake::LakeError),
    #[error("warehouse task failed: {0}")]
    Task(String),
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

/// Where `build_state_summary` builds the report: DuckDB embedded ([`SummaryService`]),
/// Synapse serverless SQL in Azure ([`SynapseSummary`]).
pub trait SummaryBuilder: Send + Sync + 'static {
    fn build(&self, window: ReportWindow) -> BoxFuture<'_, Result<RefreshReport, SummaryError>>;

    /// The `as_of` (window end) of the last report built, `None` when none was: the
    /// nightly timer builds only when this is older than the report that is due.
    fn last_built_as_of(&self) -> BoxFuture<'_, Result<Option<DateTime<Utc>>, SummaryError>>;
}
