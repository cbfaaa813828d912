//! Landing: enriched rows → one Parquet file per order day, named from the stream range.

use super::{parquet, LakeError, LakePath, LakeStore, QUARANTINE};
use crate::enrich::{EnrichedOrder, PoisonEvent};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
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
        let path = LakePath::batch(day, partition, first_seq, last_seq);
        let batch = parquet::to_record_batch(&day_rows);
        let bytes = parquet::write_parquet_as(&batch, parquet::FileKind::Landed)?;
        lake.put(&path, bytes).await?;
        written.push(path.into());
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
    let path: String = LakePath::quarantined_events(partition, first_seq, last_seq).into();
    lake.put(&path, Bytes::from(lines)).await?;
    Ok(Some(path))
}

/// Keeps an invocation that could not be read at all: its bytes as they came, and beside
/// them (`….reason.json`) why it was refused and when. Returns the body's path.
pub async fn quarantine_invocation(
    lake: &dyn LakeStore,
    function: &str,
    body: Bytes,
    reason: &str,
    received_at: DateTime<Utc>,
) -> Result<String, LakeError> {
    let path = LakePath::quarantined_invocation(function, received_at.date_naive(), &body);
    let note = serde_json::json!({
        "function": function,
        "reason": reason,
        "received_at": crate::order::format_ts(&received_at),
        "bytes": body.len(),
    });
    lake.put(&path, body).await?;
    let note_path = format!("{}.reason.json", path.trim_end_matches(".body"));
    lake.put(&note_path, Bytes::from(note.to_string())).await?;
    Ok(path.into())
}

/// An event set aside at enrichment, as `quarantine/enrich/*.jsonl` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct QuarantinedEvent {
    pub partition: String,
    pub seq: i64,
    pub reason: String,
}

/// Every event set aside at enrichment (`quarantine/enrich/`), all time, and the reason
/// of every invocation kept raw (`quarantine/invocations/`). A retried batch rewrites its
/// own file, so each event is listed once.
pub async fn read_quarantine(
    lake: &dyn LakeStore,
) -> Result<(Vec<QuarantinedEvent>, Vec<String>), LakeError> {
    let mut events = Vec::new();
    let mut invocations = Vec::new();
    for path in super::without_folders(lake.list(QUARANTINE).await?) {
        let unreadable = |e: serde_json::Error| LakeError::format(&path, e);
        if path.starts_with(&LakePath::quarantined_events_dir().folder())
            && path.ends_with(".jsonl")
        {
            let bytes = lake.get(&path).await?;
            for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let event: QuarantinedEvent = serde_json::from_slice(line).map_err(unreadable)?;
                events.push(event);
            }
        } else if path.ends_with(".reason.json") {
            #[derive(serde::Deserialize)]
            struct Note {
                reason: String,
            }
            let note: Note = serde_json::from_slice(&lake.get(&path).await?).map_err(unreadable)?;
            invocations.push(note.reason);
        }
    }
    Ok((events, invocations))
}
