//! Compaction: a day's many small batch files become one file, deduplicated (each
//! `order_id` once, the first received wins) and sorted by `order_id`.
//!
//! Safe alongside readers: the new file is written before any old one is removed, and
//! the warehouse counts each `order_id` once, so a reader that sees both counts no row
//! twice; the old files are removed under the [`LakeGate`] write lock, so no reader has
//! them open. A crash between the two steps leaves duplicates the next run removes.

use super::parquet::{read_parquet, schema, write_parquet};
use super::rollup::{rollup_dir, rollup_file, rollup_path_for, ROLLUP_TABLE};
use super::{day_partitions, partition_dir, LakeError, LakeGate, LakeStore, COMPACTED_PREFIX};
use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::compute::{
    concat_batches, filter_record_batch, lexsort_to_indices, take_record_batch, SortColumn,
};
use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use chrono::{NaiveDate, Utc};
use std::collections::BTreeSet;
use std::ops::RangeInclusive;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CompactionReport {
    pub partitions_compacted: usize,
    pub files_removed: usize,
    pub rows_written: usize,
    pub duplicates_dropped: usize,
    /// Daily customer roll-ups written (with compaction, or for compacted days without one).
    pub rollups_written: usize,
}

/// Compacts every partition of `days` (all days when `None`) that has more than one file
/// or an uncompacted one.
pub async fn compact_lake(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    days: Option<RangeInclusive<NaiveDate>>,
) -> Result<CompactionReport, LakeError> {
    compact(lake, gate, days, false).await
}

/// As [`compact_lake`], and writes the daily customer roll-up (`super::rollup`) of every
/// day it compacts, which the embedded summary reads. For the days named in `days` it
/// also writes the roll-ups missing from days compacted earlier (a lake from an older
/// version, or a crash between the two writes); with `None` it leaves those alone, so a
/// routine pass never reads all history.
pub async fn compact_lake_and_roll_up(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    days: Option<RangeInclusive<NaiveDate>>,
) -> Result<CompactionReport, LakeError> {
    compact(lake, gate, days, true).await
}

async fn compact(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    days: Option<RangeInclusive<NaiveDate>>,
    with_rollups: bool,
) -> Result<CompactionReport, LakeError> {
    let _one_at_a_time = gate.compaction_turn().await;
    let backfill = with_rollups && days.is_some();
    let rollups: BTreeSet<String> = if backfill {
        lake.list(ROLLUP_TABLE).await?.into_iter().collect()
    } else {
        BTreeSet::new()
    };
    let mut report = CompactionReport::default();
    for partition in day_partitions(lake, days.as_ref()).await? {
        let (day, files) = (partition.day, &partition.files);
        if partition.is_compacted() {
            let wanted = rollup_path_for(&files[0]);
            if backfill && wanted.as_ref().is_some_and(|path| !rollups.contains(path)) {
                let orders = read_day(lake, day, files).await?;
                write_rollup(lake, gate, day, &files[0], &orders).await?;
                report.rollups_written += 1;
            }
            continue;
        }
        let (rows, dropped) = compact_partition(lake, gate, day, files, with_rollups).await?;
        report.rollups_written += usize::from(with_rollups);
        report.partitions_compacted += 1;
        report.files_removed += files.len();
        report.rows_written += rows;
        report.duplicates_dropped += dropped;
    }
    if report.partitions_compacted > 0 {
        tracing::info!(?report, "lake compacted");
    }
    Ok(report)
}

/// All rows of a day's files, as one batch.
async fn read_day(
    lake: &dyn LakeStore,
    day: NaiveDate,
    files: &[String],
) -> Result<RecordBatch, LakeError> {
    let mut batches = Vec::new();
    for path in files {
        batches.extend(read_parquet(path, lake.get(path).await?)?);
    }
    concat_batches(&schema(), &batches).map_err(|e| LakeError::Format {
        path: partition_dir(day),
        message: e.to_string(),
    })
}

/// Writes the roll-up of `compacted` (whose rows are `orders`), then removes the day's
/// older roll-ups.
async fn write_rollup(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    day: NaiveDate,
    compacted: &str,
    orders: &RecordBatch,
) -> Result<(), LakeError> {
    let Some(path) = rollup_path_for(compacted) else {
        return Ok(());
    };
    lake.put(&path, rollup_file(orders)?).await?;
    let stale: Vec<String> = lake
        .list(&rollup_dir(day))
        .await?
        .into_iter()
        .filter(|p| *p != path && p.ends_with(".parquet"))
        .collect();
    if !stale.is_empty() {
        let _exclusive = gate.write().await;
        for old in stale {
            lake.delete(&old).await?;
        }
    }
    Ok(())
}

async fn compact_partition(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    day: NaiveDate,
    files: &[String],
    with_rollup: bool,
) -> Result<(usize, usize), LakeError> {
    let format = |message: String| LakeError::Format {
        path: partition_dir(day),
        message,
    };
    let merged = read_day(lake, day, files).await?;
    let unique = first_received_per_order(&merged).map_err(|e| format(e.to_string()))?;
    let dropped = merged.num_rows() - unique.num_rows();
    let target = format!(
        "{}/{COMPACTED_PREFIX}{}.parquet",
        partition_dir(day),
        Utc::now().format("%Y%m%dT%H%M%S%6f")
    );
    lake.put(&target, write_parquet(&unique)?).await?;
    {
        let _exclusive = gate.write().await;
        for path in files.iter().filter(|p| **p != target) {
            lake.delete(path).await?;
        }
    }
    if with_rollup {
        write_rollup(lake, gate, day, &target, &unique).await?;
    }
    Ok((unique.num_rows(), dropped))
}

/// Sorts by (`order_id`, `received_at`, `stream_seq`) and keeps each order's first row.
pub fn first_received_per_order(
    batch: &RecordBatch,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .expect("orders_enriched column")
            .clone()
    };
    let keys = ["order_id", "received_at", "stream_seq"].map(|name| SortColumn {
        values: column(name),
        options: None,
    });
    let sorted = take_record_batch(batch, &lexsort_to_indices(&keys, None)?)?;
    let ids = sorted
        .column_by_name("order_id")
        .unwrap()
        .as_primitive::<Int64Type>();
    let keep: BooleanArray = (0..ids.len())
        .map(|i| Some(i == 0 || ids.value(i) != ids.value(i - 1)))
        .collect();
    // Keep the type checks honest: received_at must be what the sort assumed.
    debug_assert!(sorted
        .column_by_name("received_at")
        .unwrap()
        .as_primitive_opt::<TimestampMicrosecondType>()
        .is_some());
    filter_record_batch(&sorted, &keep)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::EnrichedOrder;
    use crate::lake::hns::HnsListing;
    use crate::lake::{file_name, land_batch, LocalLake, ORDERS_TABLE};

    fn landed_row(order_id: i64, seq: i64) -> EnrichedOrder {
        let event = crate::order::OrderEvent::from_json(&format!(
            r#"{{"order_id":{order_id},"customer_id":1,"type":"cheese","qty":1,"retail_price_cents":999,"order_ts":"2026-03-01T12:00:00Z","received_at":"2026-03-01T12:00:01Z"}}"#
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

        let report = compact_lake_and_roll_up(&lake, &LakeGate::default(), None)
            .await
            .expect("folder entries are neither read nor deleted");
        assert_eq!(report.partitions_compacted, 1);
        assert_eq!(report.duplicates_dropped, 1, "order 1 came twice");
        let files = lake.0.list(ORDERS_TABLE).await.unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        assert!(
            file_name(&files[0]).starts_with(COMPACTED_PREFIX),
            "{files:?}"
        );
        // A second run over the compacted day (and its roll-up folder) changes nothing.
        let again = compact_lake_and_roll_up(&lake, &LakeGate::default(), None)
            .await
            .unwrap();
        assert_eq!(again.partitions_compacted, 0);
    }
}
