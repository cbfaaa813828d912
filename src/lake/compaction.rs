//! Compaction: a day's many small batch files become one file, deduplicated (each
//! `order_id` once, the first received wins) and sorted by `order_id`, with the day's
//! roll-up (`super::rollup`) beside it, and the day's duplicates and conflicts counted
//! and kept aside (`super::repeats`).
//!
//! Safe alongside readers: the new file and its roll-up are written before any old file
//! is removed, and every reader counts each `order_id` once, so a reader that sees both
//! counts no row twice; old files are removed under the [`LakeGate`] write lock, so no
//! reader has them open. A crash in between leaves a day of several files, which readers
//! de-duplicate and the next run compacts again.

use super::parquet::{read_parquet_columns, schema, write_parquet};
use super::repeats::{
    deduplicate, superseded_files, Deduplicated, Repeats, IDENTITY_COLUMNS, SUPERSEDED_TABLE,
};
use super::rollup::{DayRollup, LEGACY_ROLLUP_TABLE, ROLLUP_SOURCE_COLUMNS, ROLLUP_TABLE};
use super::{day_partitions, CompactionTurn, DayFiles, LakeError, LakeGate, LakePath, LakeStore};
use arrow::compute::concat_batches;
use bytes::Bytes;
use chrono::{NaiveDate, Utc};
use futures::{StreamExt, TryStreamExt};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::BTreeSet;
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct CompactionReport {
    pub partitions_compacted: usize,
    pub files_removed: usize,
    pub rows_written: usize,
    pub duplicates_dropped: usize,
    /// Of the rows dropped, the copies that were not redeliveries, over the compacted days
    /// (each day's count is of all its copies so far, superseded ones included).
    pub repeats: Repeats,
    /// Daily roll-ups written: with each compacted day, and for compacted days of `days`
    /// that had none.
    pub rollups_written: usize,
    /// Time spent rolling days up (part of the whole), for the cost roll-ups add.
    pub rollup_seconds: f64,
}

impl CompactionReport {
    fn add(&mut self, day: DayCompaction) {
        self.partitions_compacted += usize::from(day.compacted);
        self.files_removed += day.files_removed;
        self.rows_written += day.rows_written;
        self.duplicates_dropped += day.duplicates_dropped;
        self.repeats.add(day.repeats);
        self.rollups_written += 1;
        self.rollup_seconds += day.rollup_time.as_secs_f64();
    }
}

/// What compaction did to one day.
#[derive(Debug, Default)]
struct DayCompaction {
    compacted: bool,
    files_removed: usize,
    rows_written: usize,
    duplicates_dropped: usize,
    repeats: Repeats,
    rollup_time: Duration,
}

/// Days compacted at once: lake reads and writes overlap, and the CPU work of each day
/// runs on a blocking thread, so every core is used.
fn concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Compacts every partition of `days` (all days when `None`) that has more than one file
/// or an uncompacted one, writing each compacted day's roll-up. For the days named in
/// `days` it also rolls up compacted days whose roll-up is missing or stale (a lake
/// written by another tool or an older version, or a crash between two writes); with
/// `None` it leaves those alone, so a routine pass never reads all history.
pub async fn compact_lake(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    days: Option<RangeInclusive<NaiveDate>>,
) -> Result<CompactionReport, LakeError> {
    let turn = gate.compaction_turn().await;
    let backfill = days.is_some();
    let rollups: BTreeSet<String> = lake.list(ROLLUP_TABLE).await?.into_iter().collect();
    let work: Vec<DayFiles> = day_partitions(lake, days.as_ref())
        .await?
        .into_iter()
        .filter(|day| !day.is_compacted() || (backfill && !has_fresh_rollup(day, &rollups)))
        .collect();
    compact_days(lake, gate, &turn, &work).await
}

/// Whether `day` needs compacting, or its roll-up (re)writing, before it can be read
/// from a roll-up: it has several files or an uncompacted one, or no fresh roll-up among
/// `rollups` (the lake's roll-up files).
pub fn needs_compaction(day: &DayFiles, rollups: &BTreeSet<String>) -> bool {
    !day.is_compacted() || !has_fresh_rollup(day, rollups)
}

/// Compacts each of `days` that has several files or an uncompacted one, and writes the
/// roll-up of each (of a day compacted earlier, from its compacted file). The caller
/// holds the compaction turn, and chose the days ([`needs_compaction`]).
pub async fn compact_days(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    _turn: &CompactionTurn<'_>,
    work: &[DayFiles],
) -> Result<CompactionReport, LakeError> {
    if work.is_empty() {
        return Ok(CompactionReport::default());
    }
    let rollups: BTreeSet<String> = lake.list(ROLLUP_TABLE).await?.into_iter().collect();
    let legacy: Vec<String> = lake.list(LEGACY_ROLLUP_TABLE).await?;
    let context = Context {
        lake,
        gate,
        rollups: &rollups,
        legacy: &legacy,
    };
    // The futures are made first, then driven: a stream mapping each day to a future
    // borrowing it would not be `Send` for every lifetime, as the handlers need.
    let days: Vec<_> = work.iter().map(|day| context.compact_day(day)).collect();
    let done: Vec<DayCompaction> = futures::stream::iter(days)
        .buffer_unordered(concurrency())
        .try_collect()
        .await?;
    let mut report = CompactionReport::default();
    for day in done {
        report.add(day);
    }
    if report.rollups_written > 0 {
        tracing::info!(?report, "lake compacted");
    }
    Ok(report)
}

fn has_fresh_rollup(day: &DayFiles, rollups: &BTreeSet<String>) -> bool {
    day.is_compacted()
        && LakePath::rollup_for(&day.files[0]).is_some_and(|r| rollups.contains(&r[..]))
}

/// What every day's compaction shares.
struct Context<'a> {
    lake: &'a dyn LakeStore,
    gate: &'a LakeGate,
    /// The roll-up files as listed when the run began.
    rollups: &'a BTreeSet<String>,
    /// Roll-up files of an earlier format, removed day by day.
    legacy: &'a [String],
}

impl Context<'_> {
    async fn compact_day(&self, day: &DayFiles) -> Result<DayCompaction, LakeError> {
        if day.is_compacted() {
            return self.roll_up_compacted(day).await;
        }
        let superseded = superseded_files(self.lake, day.day).await?;
        let mut files = Vec::with_capacity(day.files.len() + superseded.len());
        for path in day.files.iter().chain(&superseded) {
            files.push((path.clone(), self.lake.get(path).await?));
        }
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%6f").to_string();
        let target: String = LakePath::compacted(day.day, &stamp).into();
        let partition = LakePath::day(day.day);
        let folder = partition.clone();
        let merged = run_blocking(&partition, move || merge_day(&folder, files)).await?;
        self.lake.put(&target, merged.compacted).await?;
        let kept_aside = match merged.superseded {
            Some(bytes) => {
                let path: String = LakePath::superseded(day.day, &stamp).into();
                self.lake.put(&path, bytes).await?;
                Some(path)
            }
            None => None,
        };
        self.write_rollup(day.day, &target, merged.rollup).await?;
        {
            // The new files hold every row of the old ones, so readers lose nothing.
            let _exclusive = self.gate.write().await;
            let old = day.files.iter().chain(&superseded);
            for path in old.filter(|p| **p != target && Some(*p) != kept_aside.as_ref()) {
                self.lake.delete(path).await?;
            }
        }
        if merged.repeats != Repeats::default() {
            tracing::warn!(
                day = %day.day,
                duplicates = merged.repeats.duplicates,
                conflicts = merged.repeats.conflicts,
                kept_in = kept_aside.as_deref().unwrap_or_default(),
                "orders repeated in the stream: the first received of each stands"
            );
        }
        Ok(DayCompaction {
            compacted: true,
            files_removed: day.files.len(),
            rows_written: merged.rows,
            duplicates_dropped: merged.dropped,
            repeats: merged.repeats,
            rollup_time: merged.rollup_time,
        })
    }

    /// Rolls up a day compacted earlier, read with only the columns a roll-up needs (and,
    /// when the day has superseded orders, those that tell copies apart, to count them).
    async fn roll_up_compacted(&self, day: &DayFiles) -> Result<DayCompaction, LakeError> {
        let compacted = day.files[0].clone();
        let superseded = superseded_files(self.lake, day.day).await?;
        let mut files = vec![(compacted.clone(), self.lake.get(&compacted).await?)];
        for path in &superseded {
            files.push((path.clone(), self.lake.get(path).await?));
        }
        let path = compacted.clone();
        let (rollup, rollup_time) = run_blocking(&compacted, move || {
            let (orders, repeats) = if files.len() == 1 {
                let (path, bytes) = files.pop().expect("one file");
                let orders = read_parquet_columns(&path, bytes, &ROLLUP_SOURCE_COLUMNS)?;
                (orders, Repeats::default())
            } else {
                let columns = rollup_and_identity_columns();
                let deduplicated = read_deduplicated(&path, files, &columns)?;
                (vec![deduplicated.unique], deduplicated.repeats)
            };
            let started = Instant::now();
            let mut rollup = DayRollup::from_orders(&orders, None)?;
            rollup.repeats = repeats;
            Ok((rollup.to_parquet()?, started.elapsed()))
        })
        .await?;
        self.write_rollup(day.day, &compacted, rollup).await?;
        Ok(DayCompaction {
            rollup_time,
            ..Default::default()
        })
    }

    /// Writes the roll-up of `compacted`, then removes the day's other roll-ups (older
    /// ones, and those of an earlier format).
    async fn write_rollup(
        &self,
        day: NaiveDate,
        compacted: &str,
        rollup: Bytes,
    ) -> Result<(), LakeError> {
        let Some(path) = LakePath::rollup_for(compacted) else {
            return Ok(());
        };
        self.lake.put(&path, rollup).await?;
        let (current, legacy) = (LakePath::rollup_dir(day), LakePath::legacy_rollup_dir(day));
        let in_folder = |folder: &str, file: &str| {
            file.strip_prefix(folder)
                .is_some_and(|rest| rest.starts_with('/') && file.ends_with(".parquet"))
        };
        let stale: Vec<&String> = self
            .rollups
            .iter()
            .filter(|p| p.as_str() != &*path && in_folder(&current, p))
            .chain(self.legacy.iter().filter(|p| in_folder(&legacy, p)))
            .collect();
        if !stale.is_empty() {
            let _exclusive = self.gate.write().await;
            for old in stale {
                self.lake.delete(old).await?;
            }
        }
        Ok(())
    }
}

/// A compacted day, ready to be written.
struct MergedDay {
    compacted: Bytes,
    /// The day's superseded orders, all of them so far (`None`: none).
    superseded: Option<Bytes>,
    rollup: Bytes,
    rows: usize,
    dropped: usize,
    repeats: Repeats,
    rollup_time: Duration,
}

/// The columns of a roll-up, and those that tell an order's copies apart.
pub fn rollup_and_identity_columns() -> Vec<&'static str> {
    let mut columns = ROLLUP_SOURCE_COLUMNS.to_vec();
    for column in IDENTITY_COLUMNS {
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    columns
}

/// Decodes `columns` of a day's files (its order files and its superseded orders) and
/// keeps each order's first received row.
pub fn read_deduplicated(
    day: &str,
    files: Vec<(String, Bytes)>,
    columns: &[&str],
) -> Result<Deduplicated, LakeError> {
    let format = |e: arrow::error::ArrowError| LakeError::format(day, e);
    let mut batches = Vec::new();
    for (path, bytes) in files {
        batches.extend(read_parquet_columns(&path, bytes, columns)?);
    }
    let projected = match batches.first() {
        Some(first) => first.schema(),
        None => {
            let lake = schema();
            let indices = columns
                .iter()
                .map(|c| lake.index_of(c).map_err(&format))
                .collect::<Result<Vec<_>, _>>()?;
            std::sync::Arc::new(lake.project(&indices).map_err(&format)?)
        }
    };
    let merged = concat_batches(&projected, &batches).map_err(&format)?;
    deduplicate(&merged).map_err(format)
}

/// The rows of a Parquet file, from its footer.
fn rows_in(path: &str, bytes: &Bytes) -> Result<usize, LakeError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes.clone())
        .map_err(|e| LakeError::format(path, e))?;
    Ok(builder.metadata().file_metadata().num_rows().max(0) as usize)
}

/// Decodes a day's files, keeps each order's first received row, and encodes the
/// compacted file, the superseded orders and the roll-up.
fn merge_day(partition: &str, files: Vec<(String, Bytes)>) -> Result<MergedDay, LakeError> {
    let lake_schema = schema();
    let all: Vec<&str> = lake_schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let order_rows: usize = files
        .iter()
        .filter(|(path, _)| !path.starts_with(SUPERSEDED_TABLE))
        .map(|(path, bytes)| rows_in(path, bytes))
        .sum::<Result<usize, LakeError>>()?;
    let deduplicated = read_deduplicated(partition, files, &all)?;
    let Deduplicated {
        unique,
        repeats,
        superseded,
    } = deduplicated;
    let compacted = write_parquet(&unique)?;
    let superseded = superseded.as_ref().map(write_parquet).transpose()?;
    let started = Instant::now();
    let mut rollup = DayRollup::from_orders(std::slice::from_ref(&unique), None)?;
    rollup.repeats = repeats;
    Ok(MergedDay {
        compacted,
        superseded,
        rollup: rollup.to_parquet()?,
        rows: unique.num_rows(),
        dropped: order_rows.saturating_sub(unique.num_rows()),
        repeats,
        rollup_time: started.elapsed(),
    })
}

/// Runs CPU work on a blocking thread.
async fn run_blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> Result<T, LakeError> + Send + 'static,
) -> Result<T, LakeError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(LakeError::task("compaction", what))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::EnrichedOrder;
    use crate::lake::hns::HnsListing;
    use crate::lake::COMPACTED_PREFIX;
    use crate::lake::{file_name, land_batch, LocalLake, ORDERS_TABLE};

    fn landed_row(order_id: i64, seq: i64) -> EnrichedOrder {
        landed_copy(order_id, 1, seq)
    }

    /// A copy of an order with `qty` as its payload, delivered as stream event `seq`.
    fn landed_copy(order_id: i64, qty: i32, seq: i64) -> EnrichedOrder {
        let event = crate::order::OrderEvent::from_json(&format!(
            r#"{{"order_id":{order_id},"customer_id":1,"type":"cheese","qty":{qty},"retail_price_cents":999,"order_ts":"2026-03-01T12:00:00Z","received_at":"2026-03-01T12:00:{:02}Z"}}"#,
            seq % 60
        ))
        .unwrap();
        EnrichedOrder {
            enriched_at: event.received_at,
            event,
            customer: None,
            stream_partition: "0".into(),
            stream_seq: seq,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn compaction_reads_files_only_from_a_listing_with_folder_entries() {
        let dir = tempfile::tempdir().unwrap();
        let lake = HnsListing(LocalLake::new(dir.path()));
        land_batch(&lake, &[landed_row(1, 1)], "0", 1, 1)
            .await
            .unwrap();
        land_batch(&lake, &[landed_row(2, 2), landed_row(1, 3)], "0", 2, 3)
            .await
            .unwrap();
        let day = "orders_enriched/order_date=2026-03-01";
        assert!(lake
            .list(ORDERS_TABLE)
            .await
            .unwrap()
            .contains(&day.to_string()));

        let report = compact_lake(&lake, &LakeGate::default(), None)
            .await
            .expect("folder entries are neither read nor deleted");
        assert_eq!(report.partitions_compacted, 1);
        assert_eq!(report.rollups_written, 1);
        assert_eq!(report.duplicates_dropped, 1, "order 1 came twice");
        let files = lake.0.list(ORDERS_TABLE).await.unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        assert!(
            file_name(&files[0]).starts_with(COMPACTED_PREFIX),
            "{files:?}"
        );
        let rollups = lake.0.list(ROLLUP_TABLE).await.unwrap();
        assert_eq!(
            rollups,
            [String::from(LakePath::rollup_for(&files[0]).unwrap())]
        );
        // A second run over the compacted day (and its roll-up folder) changes nothing.
        let again = compact_lake(&lake, &LakeGate::default(), None)
            .await
            .unwrap();
        assert_eq!(again, CompactionReport::default());
    }

    async fn rollup_repeats(lake: &LocalLake) -> Repeats {
        let rollup = lake.list(ROLLUP_TABLE).await.unwrap().remove(0);
        let bytes = lake.get(&rollup).await.unwrap();
        DayRollup::from_parquet(&rollup, bytes)
            .unwrap()
            .unwrap()
            .repeats
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn repeats_are_counted_once_however_often_a_day_is_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let lake = LocalLake::new(dir.path());
        let gate = LakeGate::default();
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        land_batch(
            &lake,
            &[landed_copy(1, 1, 1), landed_copy(2, 2, 2)],
            "0",
            1,
            2,
        )
        .await
        .unwrap();
        let retries = [
            landed_copy(1, 1, 1), // order 1's event again: a redelivery
            landed_copy(1, 1, 3), // order 1 sent again: a duplicate
            landed_copy(2, 9, 4), // order 2 with another payload: a conflict
        ];
        land_batch(&lake, &retries, "0", 3, 4).await.unwrap();
        let first = compact_lake(&lake, &gate, None).await.unwrap();
        let expected = Repeats {
            duplicates: 1,
            conflicts: 1,
        };
        assert_eq!(first.repeats, expected);
        assert_eq!(
            first.duplicates_dropped, 3,
            "three copies dropped from the day"
        );
        assert_eq!(rollup_repeats(&lake).await, expected);
        let kept = superseded_files(&lake, day).await.unwrap();
        assert_eq!(kept.len(), 1, "{kept:?}");

        // Later: the retries' batch is delivered again, and one more conflict arrives.
        land_batch(&lake, &retries, "0", 3, 4).await.unwrap();
        land_batch(&lake, &[landed_copy(2, 5, 5)], "0", 5, 5)
            .await
            .unwrap();
        compact_lake(&lake, &gate, None).await.unwrap();
        let expected = Repeats {
            duplicates: 1,
            conflicts: 2,
        };
        assert_eq!(rollup_repeats(&lake).await, expected, "counted once each");
        let kept = superseded_files(&lake, day).await.unwrap();
        assert_eq!(
            kept.len(),
            1,
            "one file of the day's superseded orders: {kept:?}"
        );
        let superseded =
            read_parquet_columns(&kept[0], lake.get(&kept[0]).await.unwrap(), &["qty"]).unwrap();
        assert_eq!(superseded.iter().map(|b| b.num_rows()).sum::<usize>(), 3);

        // A crash after the new superseded file was written but before the old one was
        // removed leaves both; the counts stay exact.
        let copy = LakePath::superseded(day, "crash");
        lake.put(&copy, lake.get(&kept[0]).await.unwrap())
            .await
            .unwrap();
        let rollup = lake.list(ROLLUP_TABLE).await.unwrap().remove(0);
        lake.delete(&rollup).await.unwrap();
        compact_lake(&lake, &gate, Some(day..=day)).await.unwrap();
        assert_eq!(
            rollup_repeats(&lake).await,
            expected,
            "no copy counted twice"
        );
        let (orders, repeats) = crate::lake::day_summary::read_orders(
            &lake,
            &crate::lake::day_files(&lake, day).await.unwrap().unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(repeats, expected, "a day read as orders counts the same");
        assert_eq!(orders.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_compacted_day_without_a_fresh_rollup_is_rolled_up_when_named() {
        let dir = tempfile::tempdir().unwrap();
        let lake = LocalLake::new(dir.path());
        land_batch(&lake, &[landed_row(1, 1), landed_row(2, 2)], "0", 1, 2)
            .await
            .unwrap();
        let gate = LakeGate::default();
        compact_lake(&lake, &gate, None).await.unwrap();
        let rollup = lake.list(ROLLUP_TABLE).await.unwrap().remove(0);
        let written = lake.get(&rollup).await.unwrap();
        // An older version's roll-up sits beside it, and the current one is lost.
        let legacy = "orders_daily_customers/order_date=2026-03-01/rollup-1.parquet";
        lake.put(legacy, Bytes::from_static(b"old")).await.unwrap();
        lake.delete(&rollup).await.unwrap();

        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let routine = compact_lake(&lake, &gate, None).await.unwrap();
        assert_eq!(
            routine.rollups_written, 0,
            "a routine pass reads no history"
        );
        let named = compact_lake(&lake, &gate, Some(day..=day)).await.unwrap();
        assert_eq!((named.partitions_compacted, named.rollups_written), (0, 1));
        assert_eq!(lake.get(&rollup).await.unwrap(), written, "the same bytes");
        assert!(lake.list(LEGACY_ROLLUP_TABLE).await.unwrap().is_empty());
    }
}
