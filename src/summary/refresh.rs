//! The refresh use-case: compact the window's days (writing their roll-ups), compute the
//! report with the report core, optionally have the warehouse's own SQL recompute it and
//! compare, write it into the lake, have the warehouse publish it, record it, and say
//! what was done. Every way of asking for a report goes through here.

use super::build::{build_report, build_report_as_is, CoreReport};
use super::report::{first_difference, report_file};
use super::runs::{run_file, run_id, stale_run_files, RUNS_KEPT, RUN_TABLES};
use super::{BuiltReport, RefreshReport, ReportWarehouse, ReportWindow, SummaryError};
use crate::lake::{compact_lake, CompactionReport, LakeGate, LakeStore};
use crate::metrics::Metrics;
use crate::order::format_ts;
use crate::population::StatePopulation;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Instant;

pub struct Refresh {
    lake: Arc<dyn LakeStore>,
    gate: LakeGate,
    warehouse: Arc<dyn ReportWarehouse>,
    population: Arc<Vec<StatePopulation>>,
    metrics: Arc<Metrics>,
    /// One build at a time: a second request waits and then builds its own window.
    building: tokio::sync::Mutex<()>,
}

/// How a refresh is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefreshOptions {
    /// Have the warehouse recompute the report with its own SQL from the order rows, and
    /// publish only if both agree on every figure (`refresh --verify`).
    pub verify: bool,
}

impl Refresh {
    pub fn new(
        lake: Arc<dyn LakeStore>,
        gate: LakeGate,
        warehouse: Arc<dyn ReportWarehouse>,
        population: Arc<Vec<StatePopulation>>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Refresh {
            lake,
            gate,
            warehouse,
            population,
            metrics,
            building: tokio::sync::Mutex::new(()),
        }
    }

    pub fn gate(&self) -> &LakeGate {
        &self.gate
    }

    /// Builds `state_top_pizzas` for `window` and answers once the new report is what
    /// readers get. A failed build, or a verification that finds a difference, leaves the
    /// previous report in place.
    pub async fn refresh(
        &self,
        window: ReportWindow,
        options: RefreshOptions,
    ) -> Result<RefreshReport, SummaryError> {
        let _one_at_a_time = self.building.lock().await;
        let started = Instant::now();
        let warehouse = self.warehouse.name();
        tracing::info!(warehouse, as_of = %window.as_of, start = %window.start, end = %window.end, verify = options.verify, "building state_top_pizzas");
        let prepared = {
            let warehouse = self.warehouse.clone();
            tokio::spawn(async move { warehouse.prepare().await })
        };
        let refreshed_at = crate::order::truncate_to_micros(Utc::now());
        let core = self.compute(window, refreshed_at, options).await?;
        prepared.await.map_err(SummaryError::Worker)??;
        let built = self.write_run(window, refreshed_at, &core).await?;
        self.warehouse.publish(&built).await?;
        let report = refresh_report(&window, &built, &core, options, started);
        self.warehouse.record_build(&report).await?;
        self.remove_stale_runs().await;
        self.metrics.record_refresh(started.elapsed());
        tracing::info!(
            "state_top_pizzas refreshed for [{}, {}): {} rows from {} days ({} in {} month roll-ups, {} from day roll-ups, {} read as orders; {} days and {} months rolled up on the way){} in {} ms",
            report.window_start,
            report.window_end,
            report.report_rows,
            core.days.total(),
            core.days.from_month_rollups,
            core.days.months,
            core.days.from_rollups,
            core.days.as_orders,
            core.compaction.rollups_written,
            core.month_rollups_written,
            if options.verify { ", verified" } else { "" },
            report.duration_ms
        );
        Ok(report)
    }

    /// The core's report of `window`, the window's days brought up to date first; with
    /// `verify`, compared with the warehouse's own recount over the same orders. The
    /// compaction turn is held throughout, so no file either reads is removed under it.
    async fn compute(
        &self,
        window: ReportWindow,
        refreshed_at: DateTime<Utc>,
        options: RefreshOptions,
    ) -> Result<CoreReport, SummaryError> {
        let (lake, gate) = (self.lake.as_ref(), &self.gate);
        let turn = gate.compaction_turn().await;
        let core = build_report(lake, gate, &turn, &window, &self.population, refreshed_at).await?;
        if options.verify {
            self.compare(window, &core).await?;
        }
        Ok(core)
    }

    /// Has the warehouse recount the report from the orders `core` reflects.
    async fn compare(&self, window: ReportWindow, core: &CoreReport) -> Result<(), SummaryError> {
        let engine = self.warehouse.name();
        let recount = self.warehouse.recompute(window, &core.order_files).await?;
        match first_difference(&core.rows, &recount, engine) {
            Some(difference) => Err(SummaryError::Mismatch { engine, difference }),
            None => Ok(()),
        }
    }

    /// Writes the report into its run folder in the lake.
    async fn write_run(
        &self,
        window: ReportWindow,
        refreshed_at: DateTime<Utc>,
        core: &CoreReport,
    ) -> Result<BuiltReport, SummaryError> {
        let run_id = run_id(refreshed_at);
        let file = run_file(&run_id);
        self.lake.put(&file, report_file(&core.rows)?).await?;
        Ok(BuiltReport {
            window,
            refreshed_at,
            run_id,
            file,
            rows: core.rows.clone(),
            books: core.books.clone(),
        })
    }

    /// Deletes the files of old report runs. A failure here costs storage, not
    /// correctness: it is logged, and the next build tries again.
    async fn remove_stale_runs(&self) {
        let result = async {
            let mut removed = 0;
            for table in RUN_TABLES {
                let files = self.lake.list(table).await?;
                let stale = stale_run_files(table, &files, RUNS_KEPT);
                for file in &stale {
                    self.lake.delete(file).await?;
                }
                removed += stale.len();
            }
            Ok::<_, crate::lake::LakeError>(removed)
        }
        .await;
        match result {
            Ok(0) => {}
            Ok(removed) => tracing::info!(removed, "old report runs removed from the lake"),
            Err(e) => {
                tracing::warn!(error = %crate::errors::Chain(&e), "could not remove old report runs; the next build will")
            }
        }
    }

    /// Checks the report core against the warehouse's own SQL for `window`, with the lake
    /// as it is now, and publishes nothing (the scheduled verification in Azure). A
    /// difference is [`SummaryError::Mismatch`], naming the first one.
    pub async fn verify(&self, window: ReportWindow) -> Result<Verified, SummaryError> {
        let (lake, population) = (self.lake.as_ref(), &self.population);
        // The turn keeps compaction from removing what the core and the recount read.
        let _turn = self.gate.compaction_turn().await;
        let core = build_report_as_is(lake, &window, population, Utc::now()).await?;
        self.compare(window, &core).await?;
        Ok(Verified {
            window_start: format_ts(&window.start),
            window_end: format_ts(&window.end),
            report_rows: core.rows.len(),
            engine: self.warehouse.name(),
        })
    }

    /// Compacts and rolls up the days of `window`'s span that ended before `now`'s UTC
    /// day and need it, ahead of the next nightly build, which then finds them ready
    /// (the hourly ticks that build nothing, in Azure; the embedded host compacts on its
    /// own schedule). The day still receiving orders is left to the build.
    pub async fn compact_ahead(
        &self,
        window: &ReportWindow,
        now: DateTime<Utc>,
    ) -> Result<CompactionReport, SummaryError> {
        let Some(yesterday) = now.date_naive().pred_opt() else {
            return Ok(CompactionReport::default());
        };
        let first = *window.utc_days().start();
        if yesterday < first {
            return Ok(CompactionReport::default());
        }
        Ok(compact_lake(self.lake.as_ref(), &self.gate, Some(first..=yesterday)).await?)
    }

    /// The `as_of` of the last report built (`None`: never).
    pub async fn last_built_as_of(&self) -> Result<Option<DateTime<Utc>>, SummaryError> {
        self.warehouse.last_built_as_of().await
    }
}

/// A verification that found no difference.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verified {
    pub window_start: String,
    pub window_end: String,
    pub report_rows: usize,
    /// The warehouse whose SQL agreed with the core.
    pub engine: &'static str,
}

fn refresh_report(
    window: &ReportWindow,
    built: &BuiltReport,
    core: &CoreReport,
    options: RefreshOptions,
    started: Instant,
) -> RefreshReport {
    let compaction = &core.compaction;
    RefreshReport {
        as_of: format_ts(&window.as_of),
        window_start: format_ts(&window.start),
        window_end: format_ts(&window.end),
        refreshed_at: format_ts(&built.refreshed_at),
        report_rows: built.rows.len(),
        files_read: core.files_read,
        partitions_compacted: compaction.partitions_compacted,
        days_from_month_rollups: core.days.from_month_rollups,
        month_rollups_read: core.days.months,
        days_from_rollups: core.days.from_rollups,
        days_read_as_orders: core.days.as_orders,
        rollups_written: compaction.rollups_written,
        month_rollups_written: core.month_rollups_written,
        verified: options.verify,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}
