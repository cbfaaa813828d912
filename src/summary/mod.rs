//! The nightly summary (SPEC §6): the 12-month report window, the build (compact the
//! window's partitions, then run `sql/duckdb/state_top_pizzas.sql`), and the in-memory
//! copy of the tiny report table that `GET /api/report` answers from.

mod synapse;
mod window;

pub use synapse::{build_batches, run_id, SynapseSummary, BUILD_SQL};
pub use window::ReportWindow;

use crate::lake::{compact_lake, CompactionReport, LakeGate, LakeStore};
use crate::warehouse::{BuildStats, ReportRow, ReportWindowInfo, Warehouse, WarehouseError};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
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

/// The report table, pre-serialised per state. Rebuilt after every refresh.
#[derive(Debug, Default)]
pub struct ReportCache {
    by_state: HashMap<String, Bytes>,
    pub etag: String,
    pub window: Option<ReportWindowInfo>,
}

impl ReportCache {
    pub fn from_rows(rows: &[ReportRow]) -> Self {
        let mut grouped: HashMap<&str, Vec<_>> = HashMap::new();
        for row in rows {
            grouped
                .entry(row.state.as_str())
                .or_default()
                .push(row.to_json());
        }
        let window = rows.first().map(ReportRow::window_info);
        let etag = match &window {
            Some(w) => format!("\"r{}\"", w.refreshed_at.timestamp_micros()),
            None => "\"r0\"".to_string(),
        };
        let by_state = grouped
            .into_iter()
            .map(|(state, rows)| {
                (
                    state.to_string(),
                    Bytes::from(serde_json::to_vec(&rows).expect("json")),
                )
            })
            .collect();
        ReportCache {
            by_state,
            etag,
            window,
        }
    }

    /// The JSON array for `state` (`[]` when it had no sales).
    pub fn state_json(&self, state: &str) -> Bytes {
        self.by_state
            .get(state)
            .cloned()
            .unwrap_or_else(|| Bytes::from_static(b"[]"))
    }
}

/// Builds the report table and keeps the served copy in step with it.
pub struct SummaryService {
    warehouse: Arc<Warehouse>,
    lake: Arc<dyn LakeStore>,
    gate: LakeGate,
    cache: RwLock<Arc<ReportCache>>,
    /// One build at a time: a second request waits and then builds its own window.
    building: tokio::sync::Mutex<()>,
}

impl SummaryService {
    pub fn new(
        warehouse: Arc<Warehouse>,
        lake: Arc<dyn LakeStore>,
        gate: LakeGate,
    ) -> Result<Self, SummaryError> {
        let cache = ReportCache::from_rows(&warehouse.report_rows()?);
        Ok(SummaryService {
            warehouse,
            lake,
            gate,
            cache: RwLock::new(Arc::new(cache)),
            building: tokio::sync::Mutex::new(()),
        })
    }

    pub fn warehouse(&self) -> &Arc<Warehouse> {
        &self.warehouse
    }

    pub fn gate(&self) -> &LakeGate {
        &self.gate
    }

    pub fn cache(&self) -> Arc<ReportCache> {
        self.cache.read().unwrap().clone()
    }

    /// Compacts the window's partitions, rebuilds `state_top_pizzas` for `window`, and
    /// answers once the new table is what readers get.
    pub async fn refresh(&self, window: ReportWindow) -> Result<RefreshReport, SummaryError> {
        let _one_at_a_time = self.building.lock().await;
        let started = std::time::Instant::now();
        tracing::info!(as_of = %window.as_of, start = %window.start, end = %window.end, "building state_top_pizzas");
        let compaction: CompactionReport =
            compact_lake(self.lake.as_ref(), &self.gate, Some(window.utc_days())).await?;
        let warehouse = self.warehouse.clone();
        let stats: BuildStats = tokio::task::spawn_blocking(move || {
            let stats = warehouse.build_summary(&window)?;
            let rows = warehouse.report_rows()?;
            Ok::<_, WarehouseError>((stats, rows))
        })
        .await
        .map_err(|e| SummaryError::Task(e.to_string()))?
        .map(|(stats, rows)| {
            *self.cache.write().unwrap() = Arc::new(ReportCache::from_rows(&rows));
            stats
        })?;
        let report = RefreshReport {
            as_of: crate::order::format_ts(&window.as_of),
            window_start: crate::order::format_ts(&window.start),
            window_end: crate::order::format_ts(&window.end),
            refreshed_at: crate::order::format_ts(&stats.refreshed_at),
            report_rows: stats.report_rows,
            files_read: stats.files_read,
            partitions_compacted: compaction.partitions_compacted,
            duration_ms: started.elapsed().as_millis() as u64,
        };
        tracing::info!(?report, "state_top_pizzas refreshed");
        Ok(report)
    }
}
