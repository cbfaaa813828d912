//! The DuckDB adapter of the report warehouse port: `summary::Refresh` has the report
//! core compute the report and write its file into the lake; this warehouse publishes it
//! as `state_top_pizzas` and, for `--verify`, recomputes it with its own SQL.

use super::{Warehouse, WarehouseError};
use crate::summary::{
    BuiltReport, RefreshReport, ReportRow, ReportWarehouse, ReportWindow, SummaryError,
};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

const ENGINE: &str = "DuckDB";

fn engine_error(e: WarehouseError) -> SummaryError {
    SummaryError::engine(ENGINE, e)
}

/// DuckDB blocks: each call runs on its worker with the runtime told so
/// (`block_in_place`).
fn blocking<T>(work: impl FnOnce() -> Result<T, WarehouseError>) -> Result<T, SummaryError> {
    tokio::task::block_in_place(work).map_err(engine_error)
}

impl ReportWarehouse for Warehouse {
    fn name(&self) -> &'static str {
        ENGINE
    }

    /// Opens DuckDB (about 100 ms) while the report core computes.
    fn prepare(&self) -> BoxFuture<'_, Result<(), SummaryError>> {
        Box::pin(async move { blocking(|| self.connection().map(|_| ())) })
    }

    fn publish<'a>(&'a self, report: &'a BuiltReport) -> BoxFuture<'a, Result<(), SummaryError>> {
        Box::pin(async move { blocking(|| Warehouse::publish(self, report)) })
    }

    fn recompute<'a>(
        &'a self,
        window: ReportWindow,
        order_files: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<ReportRow>, SummaryError>> {
        Box::pin(async move { blocking(|| Warehouse::recompute(self, &window, order_files)) })
    }

    fn record_build<'a>(
        &'a self,
        report: &'a RefreshReport,
    ) -> BoxFuture<'a, Result<(), SummaryError>> {
        Box::pin(async move { blocking(|| self.log_refresh(report)) })
    }

    fn last_built_as_of(&self) -> BoxFuture<'_, Result<Option<DateTime<Utc>>, SummaryError>> {
        Box::pin(async move { blocking(|| self.served_report()).map(|served| served.last_as_of) })
    }
}
