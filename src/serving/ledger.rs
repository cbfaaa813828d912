//! The embedded pipeline's books (`crate::ledger`): the door's half from the order log,
//! the lake's half from the warehouse, the quarantine from the lake. `GET /api/ledger`
//! and `pizza-pipeline ledger` both read them here.

use crate::lake::{read_quarantine, LakeError, LakeStore};
use crate::ledger::{
    assemble, count_reasons, lake_days, LakeDay, Ledger, LedgerParts, ReportWindowBounds,
};
use crate::population::StatePopulation;
use crate::stream::{door_ledger, order_days_of, LogError};
use crate::warehouse::{Warehouse, WarehouseError};
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Warehouse(#[from] WarehouseError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error("a worker reading the books failed")]
    Task(#[from] tokio::task::JoinError),
}

/// Where the embedded books are read from.
#[derive(Clone)]
pub struct EmbeddedBooks {
    pub log_path: PathBuf,
    /// The dispatcher's consumer: its checkpoint says what has landed.
    pub consumer: &'static str,
    pub warehouse: Arc<Warehouse>,
    pub lake: Arc<dyn LakeStore>,
    pub population: Arc<Vec<StatePopulation>>,
}

impl EmbeddedBooks {
    /// The books of `days`.
    pub async fn ledger(&self, days: RangeInclusive<NaiveDate>) -> Result<Ledger, LedgerError> {
        let report = self.report_window()?;
        let (log_path, consumer, range) = (self.log_path.clone(), self.consumer, days.clone());
        let door =
            tokio::task::spawn_blocking(move || door_ledger(&log_path, consumer, &range)).await??;
        let lake = lake_days(self.lake.as_ref(), &days, report, &self.population).await?;
        let (events, invocations) = read_quarantine(self.lake.as_ref()).await?;
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        let log_path = self.log_path.clone();
        let event_days =
            tokio::task::spawn_blocking(move || order_days_of(&log_path, &seqs)).await??;
        let mut quarantined: BTreeMap<NaiveDate, i64> = BTreeMap::new();
        for day in event_days.into_iter().flatten() {
            *quarantined.entry(day).or_default() += 1;
        }
        let parts = LedgerParts {
            door: Some(door),
            lake,
            quarantined,
            quarantine_reasons: count_reasons(events.iter().map(|e| e.reason.as_str())),
            unreadable_invocations: invocations.len() as i64,
            report,
        };
        Ok(assemble(days, parts))
    }

    /// The lake's half of the books of `days` by their SQL definition
    /// (`sql/duckdb/ledger.sql`), for `ledger --verify` to compare with the roll-ups'.
    pub async fn lake_days_by_sql(
        &self,
        days: RangeInclusive<NaiveDate>,
    ) -> Result<Vec<LakeDay>, LedgerError> {
        let window = self
            .report_window()?
            .map(|r| (r.window_start, r.window_end))
            .unwrap_or((DateTime::<Utc>::UNIX_EPOCH, DateTime::<Utc>::UNIX_EPOCH));
        let warehouse = self.warehouse.clone();
        Ok(tokio::task::spawn_blocking(move || warehouse.lake_ledger(&days, window)).await??)
    }

    /// The window of the report served now (`None`: no report, or one without rows).
    pub fn report_window(&self) -> Result<Option<ReportWindowBounds>, WarehouseError> {
        let served = self.warehouse.served_report()?;
        Ok(served.rows.first().map(|row| {
            let window = row.window_info();
            ReportWindowBounds {
                window_start: window.window_start,
                window_end: window.window_end,
            }
        }))
    }
}

/// The days the ledger covers when none are asked for: those of the report served now,
/// else the 366 days up to today.
pub fn default_days(
    report: Option<ReportWindowBounds>,
    today: NaiveDate,
) -> RangeInclusive<NaiveDate> {
    match report {
        Some(r) if r.window_end > r.window_start => {
            let last = (r.window_end - chrono::Duration::microseconds(1)).date_naive();
            r.window_start.date_naive()..=last
        }
        _ => today - chrono::Duration::days(365)..=today,
    }
}
