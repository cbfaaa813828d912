//! The DuckDB adapter of the report engine port: `summary::Refresh` compacts the window
//! (with the daily roll-ups, which this engine reads), then asks the warehouse to build.

use super::{Warehouse, WarehouseError};
use crate::summary::{EngineBuild, ReportEngine, ReportWindow, SummaryError};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

const ENGINE: &str = "DuckDB warehouse";

fn engine_error(e: WarehouseError) -> SummaryError {
    SummaryError::engine(ENGINE, e)
}

impl ReportEngine for Warehouse {
    fn name(&self) -> &'static str {
        ENGINE
    }

    fn reads_rollups(&self) -> bool {
        true
    }

    /// DuckDB blocks: the build runs on this worker with the runtime told so
    /// (`block_in_place`), and the served copy of the report is swapped once it commits.
    fn build(&self, window: ReportWindow) -> BoxFuture<'_, Result<EngineBuild, SummaryError>> {
        Box::pin(async move {
            let stats = tokio::task::block_in_place(|| self.build_summary(&window))
                .map_err(engine_error)?;
            Ok(EngineBuild {
                refreshed_at: stats.refreshed_at,
                report_rows: stats.report_rows,
                files_read: stats.files_read,
            })
        })
    }

    fn last_built_as_of(&self) -> BoxFuture<'_, Result<Option<DateTime<Utc>>, SummaryError>> {
        Box::pin(async move {
            tokio::task::block_in_place(|| self.served())
                .map(|served| served.last_as_of)
                .map_err(engine_error)
        })
    }
}
