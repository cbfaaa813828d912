//! The embedded report engine: DuckDB builds `state_top_pizzas` from the local lake,
//! and an in-memory copy of the tiny table answers `GET /api/report`.

use super::{RefreshReport, ReportWindow, SummaryBuilder, SummaryError};
use crate::lake::{compact_lake_and_roll_up, CompactionReport, LakeGate, LakeStore};
use crate::stream::BoxFuture;
use crate::warehouse::{
    BuildStats, ReportRow, ReportWindowInfo, ServedReport, Warehouse, WarehouseError,
};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

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
    /// The `as_of` of the last build, for the timer's past-due check.
    last_as_of: RwLock<Option<DateTime<Utc>>>,
    /// One build at a time: a second request waits and then builds its own window.
    building: tokio::sync::Mutex<()>,
}

impl SummaryService {
    pub fn new(
        warehouse: Arc<Warehouse>,
        lake: Arc<dyn LakeStore>,
        gate: LakeGate,
    ) -> Result<Self, SummaryError> {
        let served = warehouse.served_report()?;
        Ok(SummaryService {
            warehouse,
            lake,
            gate,
            cache: RwLock::new(Arc::new(ReportCache::from_rows(&served.rows))),
            last_as_of: RwLock::new(served.last_as_of),
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

    /// When the report was last built for (`None`: never).
    pub fn last_as_of(&self) -> Option<DateTime<Utc>> {
        *self.last_as_of.read().unwrap()
    }

    /// Compacts the window's partitions, rebuilds `state_top_pizzas` for `window`, and
    /// answers once the new table is what readers get.
    pub async fn refresh(&self, window: ReportWindow) -> Result<RefreshReport, SummaryError> {
        let _one_at_a_time = self.building.lock().await;
        let started = std::time::Instant::now();
        tracing::info!(as_of = %window.as_of, start = %window.start, end = %window.end, "building state_top_pizzas");
        let compaction: CompactionReport =
            compact_lake_and_roll_up(self.lake.as_ref(), &self.gate, Some(window.utc_days()))
                .await?;
        let warehouse = self.warehouse.clone();
        let stats: BuildStats = tokio::task::spawn_blocking(move || {
            let stats = warehouse.build_summary(&window)?;
            Ok::<_, WarehouseError>((stats, warehouse.served_report()?))
        })
        .await
        .map_err(|e| SummaryError::Task(e.to_string()))?
        .map(|(stats, served): (BuildStats, ServedReport)| {
            *self.cache.write().unwrap() = Arc::new(ReportCache::from_rows(&served.rows));
            *self.last_as_of.write().unwrap() = served.last_as_of;
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

impl SummaryBuilder for SummaryService {
    fn build(&self, window: ReportWindow) -> BoxFuture<'_, Result<RefreshReport, SummaryError>> {
        Box::pin(self.refresh(window))
    }

    fn last_built_as_of(&self) -> BoxFuture<'_, Result<Option<DateTime<Utc>>, SummaryError>> {
        Box::pin(std::future::ready(Ok(self.last_as_of())))
    }
}
