//! The refresh use-case: compact the window's partitions, have the engine build the
//! report, record it, and say what was done. Every way of asking for a report goes
//! through here.

use super::{EngineBuild, RefreshReport, ReportEngine, ReportWindow, SummaryError};
use crate::lake::{compact_lake, compact_lake_and_roll_up, LakeGate, LakeStore};
use crate::metrics::Metrics;
use crate::order::format_ts;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Refresh {
    lake: Arc<dyn LakeStore>,
    gate: LakeGate,
    engine: Arc<dyn ReportEngine>,
    metrics: Arc<Metrics>,
    /// One build at a time: a second request waits and then builds its own window.
    building: tokio::sync::Mutex<()>,
}

impl Refresh {
    pub fn new(
        lake: Arc<dyn LakeStore>,
        gate: LakeGate,
        engine: Arc<dyn ReportEngine>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Refresh {
            lake,
            gate,
            engine,
            metrics,
            building: tokio::sync::Mutex::new(()),
        }
    }

    pub fn gate(&self) -> &LakeGate {
        &self.gate
    }

    /// Compacts the window's partitions, builds `state_top_pizzas` for `window`, and
    /// answers once the new report is what readers get.
    pub async fn refresh(&self, window: ReportWindow) -> Result<RefreshReport, SummaryError> {
        let _one_at_a_time = self.building.lock().await;
        let started = Instant::now();
        let engine = self.engine.name();
        tracing::info!(engine, as_of = %window.as_of, start = %window.start, end = %window.end, "building state_top_pizzas");
        let days = Some(window.utc_days());
        let lake = self.lake.as_ref();
        let compaction = if self.engine.reads_rollups() {
            compact_lake_and_roll_up(lake, &self.gate, days).await?
        } else {
            compact_lake(lake, &self.gate, days).await?
        };
        let built = self.engine.build(window).await?;
        let report = refresh_report(
            &window,
            &built,
            compaction.partitions_compacted,
            started.elapsed(),
        );
        self.engine.record_build(&report).await?;
        self.metrics.record_refresh(started.elapsed());
        tracing::info!(engine, ?report, "state_top_pizzas refreshed");
        Ok(report)
    }

    /// The `as_of` of the last report built (`None`: never).
    pub async fn last_built_as_of(&self) -> Result<Option<DateTime<Utc>>, SummaryError> {
        self.engine.last_built_as_of().await
    }
}

fn refresh_report(
    window: &ReportWindow,
    built: &EngineBuild,
    partitions_compacted: usize,
    took: Duration,
) -> RefreshReport {
    RefreshReport {
        as_of: format_ts(&window.as_of),
        window_start: format_ts(&window.start),
        window_end: format_ts(&window.end),
        refreshed_at: format_ts(&built.refreshed_at),
        report_rows: built.report_rows,
        files_read: built.files_read,
        partitions_compacted,
        duration_ms: took.as_millis() as u64,
    }
}
