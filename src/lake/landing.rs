//! Landing: enriched rows → one Parquet file per order day, named from the stream range.

use super::{batch_file, parquet, LakeError, LakeStore, QUARANTINE};
use crate::enrich::{EnrichedOrder, PoisonEvent};
use bytes::Bytes;
use chrono::NaiveDate;
use std::collections::BTreeMap;

/// Lands enriched rows: one Parquet file per order day, named from the stream range
/// (`partition`, `first_seq`..=`last_seq`). Returns the files written.
pub async fn land_batch(
    lake: &dyn LakeStore,
    rows: &[EnrichedOrder],
    partition: &str,
    first_seq: i64,
    last_seq: i64,
) -> Result<Vec<String>, LakeError> {
    let mut by_day: BTreeMap<NaiveDate, Vec<&EnrichedOrder>> = Default::default();
    for row in rows {
        by_day
            .entry(row.event.order_ts.date_naive())
            .or_default()
            .push(row);
    }
    let mut written = Vec::with_capacity(by_day.len());
    for (day, day_rows) in by_day {
        let path = batch_file(day, partition, first_seq, last_seq);
        let batch = parquet::to_record_batch(&day_rows);
        let bytes = parquet::write_parquet_as(&batch, parquet::FileKind::Landed)?;
        lake.put(&path, bytes).await?;
        written.push(path);
    }
    Ok(written)
}

/// Sets poison events aside under `quarantine/enrich/`, named from the stream range.
pub async fn quarantine_poison(
    lake: &dyn LakeStore,
    poison: &[PoisonEvent],
    partition: &str,
    first_seq: i64,
    last_seq: i64,
) -> Result<Option<String>, LakeError> {
    if poison.is_empty() {
        return Ok(None);
    }
    let mut lines = String::new();
    for p in poison {
        lines.push_str(&serde_json::to_string(p).expect("poison serializes"));
        lines.push('\n');
    }
    let path = format!("{QUARANTINE}/enrich/p{partition}-{first_seq:020}-{last_seq:020}.jsonl");
    lake.put(&path, Bytes::from(lines)).await?;
    Ok(Some(path))
}
