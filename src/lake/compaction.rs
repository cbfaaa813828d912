//! Compaction: a day's many small batch files become one file, deduplicated (each
//! `order_id` once, the first received wins) and sorted by `order_id`.
//!
//! Safe alongside readers: the new file is written before any old one is removed, and
//! the warehouse counts each `order_id` once, so a reader that sees both counts no row
//! twice; the old files are removed under the [`LakeGate`] write lock, so no reader has
//! them open. A crash between the two steps leaves duplicates the next run removes.

use super::parquet::{read_parquet, schema, write_parquet};
use super::{
    day_of, partition_dir, LakeError, LakeGate, LakeStore, COMPACTED_PREFIX, ORDERS_TABLE,
};
use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::compute::{
    concat_batches, filter_record_batch, lexsort_to_indices, take_record_batch, SortColumn,
};
use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use chrono::{NaiveDate, Utc};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CompactionReport {
    pub partitions_compacted: usize,
    pub files_removed: usize,
    pub rows_written: usize,
    pub duplicates_dropped: usize,
}

/// Compacts every partition of `days` (all days when `None`) that has more than one file
/// or an uncompacted one.
pub async fn compact_lake(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    days: Option<RangeInclusive<NaiveDate>>,
) -> Result<CompactionReport, LakeError> {
    let _one_at_a_time = gate.compaction_turn().await;
    let mut by_day: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
    for path in lake.list(ORDERS_TABLE).await? {
        if !path.ends_with(".parquet") {
            continue;
        }
        if let Some(day) = day_of(&path) {
            if days.as_ref().is_none_or(|range| range.contains(&day)) {
                by_day.entry(day).or_default().push(path);
            }
        }
    }
    let mut report = CompactionReport::default();
    for (day, files) in by_day {
        let already_compact =
            files.len() == 1 && file_name(&files[0]).starts_with(COMPACTED_PREFIX);
        if already_compact {
            continue;
        }
        let (rows, dropped) = compact_partition(lake, gate, day, &files).await?;
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

async fn compact_partition(
    lake: &dyn LakeStore,
    gate: &LakeGate,
    day: NaiveDate,
    files: &[String],
) -> Result<(usize, usize), LakeError> {
    let mut batches = Vec::new();
    for path in files {
        batches.extend(read_parquet(path, lake.get(path).await?)?);
    }
    let format = |message: String| LakeError::Format {
        path: partition_dir(day),
        message,
    };
    let merged = concat_batches(&schema(), &batches).map_err(|e| format(e.to_string()))?;
    let unique = first_received_per_order(&merged).map_err(|e| format(e.to_string()))?;
    let dropped = merged.num_rows() - unique.num_rows();
    let target = format!(
        "{}/{COMPACTED_PREFIX}{}.parquet",
        partition_dir(day),
        Utc::now().format("%Y%m%dT%H%M%S%6f")
    );
    lake.put(&target, write_parquet(&unique)?).await?;
    let _exclusive = gate.write().await;
    for path in files.iter().filter(|p| **p != target) {
        lake.delete(path).await?;
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

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
