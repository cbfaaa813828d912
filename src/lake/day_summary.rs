//! A day of the lake in its cheapest exact form: its roll-up when that is fresh, else its
//! orders rolled up on the way (each `order_id` once, the first received). A day that a
//! time range cuts (the first and last day of a report window in a time zone other than
//! UTC) is always read as orders, so the part inside the range can be told apart.
//!
//! The report core and the books read days through here; compaction writes the roll-ups
//! it prefers (`super::compaction`).

use super::compaction::{read_deduplicated, rollup_and_identity_columns};
use super::parquet::read_parquet_columns;
use super::repeats::{superseded_files, Repeats};
use super::rollup::{DayRollup, ROLLUP_SOURCE_COLUMNS, ROLLUP_TABLE};
use super::LakePath;
use super::{lists_day_by_day, DayFiles, LakeError, LakeStore};
use arrow::array::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt};
use std::collections::BTreeSet;
use std::ops::{Range, RangeInclusive};

/// How a day was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DaySource {
    /// From its fresh roll-up.
    Rollup,
    /// From its orders: no fresh roll-up, or a range cuts it.
    Orders,
    /// From its month's roll-up (`super::month_rollup`): its sums are the day's, its
    /// customers are in the month's sets.
    MonthRollup,
}

/// One UTC day of the lake, summarised.
#[derive(Debug, Clone)]
pub struct DaySummary {
    pub day: NaiveDate,
    pub source: DaySource,
    /// Every order of the day.
    pub whole: DayRollup,
    /// The orders inside the range, when one was given and it cuts this day.
    pub inside: Option<DayRollup>,
    /// The day's order files this summary reflects (for a roll-up, its compacted file).
    pub order_files: Vec<String>,
    /// Lake files read for it.
    pub files_read: usize,
}

impl DaySummary {
    /// The orders of the day inside the range the days were read for.
    pub fn in_range(&self) -> &DayRollup {
        self.inside.as_ref().unwrap_or(&self.whole)
    }
}

/// Days read at once: lake reads overlap, and the rolling up uses every core.
fn concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2) * 2)
}

/// The roll-up files of the lake, for [`summarise_days`].
pub async fn rollup_files(lake: &dyn LakeStore) -> Result<BTreeSet<String>, LakeError> {
    Ok(lake.list(ROLLUP_TABLE).await?.into_iter().collect())
}

/// The roll-up files of the days of `days` (at least: a lake that lists its folders
/// one request at a time lists them all).
pub async fn rollup_files_of(
    lake: &dyn LakeStore,
    days: &RangeInclusive<NaiveDate>,
) -> Result<BTreeSet<String>, LakeError> {
    if !lists_day_by_day(lake, days) {
        return rollup_files(lake).await;
    }
    let mut files = BTreeSet::new();
    for day in days.start().iter_days().take_while(|day| day <= days.end()) {
        files.extend(lake.list(&LakePath::rollup_dir(day).folder()).await?);
    }
    Ok(files)
}

/// Summarises `days` (partitions of `orders_enriched`), in their order. `cut`: a range
/// of order times; a day it covers only in part is read as orders and gets `inside`.
pub async fn summarise_days(
    lake: &dyn LakeStore,
    days: &[DayFiles],
    rollups: &BTreeSet<String>,
    cut: Option<Range<DateTime<Utc>>>,
) -> Result<Vec<DaySummary>, LakeError> {
    // The futures are made first, then driven (see `compaction::compact_lake`).
    let days: Vec<_> = days
        .iter()
        .map(|day| summarise_day(lake, day, rollups, cut.clone()))
        .collect();
    futures::stream::iter(days)
        .buffered(concurrency())
        .try_collect()
        .await
}

/// Whether `range` covers part of UTC day `day`, but not all of it.
pub fn cuts(range: &Range<DateTime<Utc>>, day: NaiveDate) -> bool {
    let start = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let end = start + chrono::Duration::days(1);
    let overlaps = range.start < end && start < range.end;
    let covers = range.start <= start && end <= range.end;
    overlaps && !covers
}

async fn summarise_day(
    lake: &dyn LakeStore,
    day: &DayFiles,
    rollups: &BTreeSet<String>,
    cut: Option<Range<DateTime<Utc>>>,
) -> Result<DaySummary, LakeError> {
    let cut = cut.filter(|range| cuts(range, day.day));
    if cut.is_none() {
        if let Some(summary) = from_rollup(lake, day, rollups).await? {
            return Ok(summary);
        }
    }
    let (orders, repeats) = read_orders(lake, day).await?;
    let files_read = day.files.len();
    let (whole, inside) = tokio::task::spawn_blocking(move || {
        let mut whole = DayRollup::from_orders(&orders, None)?;
        whole.repeats = repeats;
        let inside = cut
            .map(|range| DayRollup::from_orders(&orders, Some(range)))
            .transpose()?;
        Ok::<_, LakeError>((whole, inside))
    })
    .await
    .map_err(LakeError::task(
        "rolling the day up",
        day.files.first().cloned().unwrap_or_default(),
    ))??;
    Ok(DaySummary {
        day: day.day,
        source: DaySource::Orders,
        whole,
        inside,
        order_files: day.files.clone(),
        files_read,
    })
}

/// The day from its roll-up, when it has a fresh one in the current format.
async fn from_rollup(
    lake: &dyn LakeStore,
    day: &DayFiles,
    rollups: &BTreeSet<String>,
) -> Result<Option<DaySummary>, LakeError> {
    if !day.is_compacted() {
        return Ok(None);
    }
    let Some(path) = LakePath::rollup_for(&day.files[0]).filter(|p| rollups.contains(&p[..]))
    else {
        return Ok(None);
    };
    let bytes = lake.get(&path).await?;
    let read = tokio::task::spawn_blocking(move || DayRollup::from_parquet(&path, bytes));
    let Some(whole) = read
        .await
        .map_err(LakeError::task("reading the roll-up", day.files[0].clone()))??
    else {
        return Ok(None);
    };
    Ok(Some(DaySummary {
        day: day.day,
        source: DaySource::Rollup,
        whole,
        inside: None,
        order_files: day.files.clone(),
        files_read: 1,
    }))
}

/// A day's orders, each `order_id` once (the first received), with the columns a roll-up
/// is made from, and the day's copies beyond the first. A compacted day without
/// superseded orders is read as it is: compaction de-duplicated it.
pub async fn read_orders(
    lake: &dyn LakeStore,
    day: &DayFiles,
) -> Result<(Vec<RecordBatch>, Repeats), LakeError> {
    let superseded = superseded_files(lake, day.day).await?;
    if day.is_compacted() && superseded.is_empty() {
        let path = &day.files[0];
        let orders = read_parquet_columns(path, lake.get(path).await?, &ROLLUP_SOURCE_COLUMNS)?;
        return Ok((orders, Repeats::default()));
    }
    let mut files = Vec::with_capacity(day.files.len() + superseded.len());
    for path in day.files.iter().chain(&superseded) {
        files.push((path.clone(), lake.get(path).await?));
    }
    if files.is_empty() {
        return Ok((Vec::new(), Repeats::default()));
    }
    let folder = day.files.first().cloned().unwrap_or_default();
    let deduplicated = tokio::task::spawn_blocking(move || {
        read_deduplicated(&folder, files, &rollup_and_identity_columns())
    })
    .await
    .map_err(LakeError::task(
        "de-duplicating the day",
        day.files.first().cloned().unwrap_or_default(),
    ))??;
    Ok((vec![deduplicated.unique], deduplicated.repeats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_cuts_a_day_it_covers_only_in_part() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 8).unwrap();
        let chicago_window = at("2025-03-08T06:00:00Z")..at("2026-03-08T06:00:00Z");
        assert!(cuts(&chicago_window, day), "the last day, up to 06:00 UTC");
        assert!(!cuts(&chicago_window, day.pred_opt().unwrap()), "covered");
        assert!(!cuts(&chicago_window, day.succ_opt().unwrap()), "outside");
        let utc_window = at("2025-03-08T00:00:00Z")..at("2026-03-08T00:00:00Z");
        assert!(!cuts(&utc_window, day), "a UTC window cuts no day");
        assert!(!cuts(&utc_window, day.pred_opt().unwrap()));
    }
}
