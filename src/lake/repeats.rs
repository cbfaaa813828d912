//! Orders the stream delivered more than once, told apart: each `order_id` is kept once
//! (the first received wins), and every other copy is one of
//!
//! - a **redelivery**: the same stream event again (same `stream_partition` and
//!   `stream_seq`), which at-least-once delivery allows; not counted, it was one order;
//! - a **duplicate**: another event with the same payload (a client's retry);
//! - a **conflict**: another event with a different payload under the same `order_id`.
//!   The first received stands.
//!
//! Duplicates and conflicts are the day's *superseded* orders, kept aside in
//! `orders_superseded/order_date=…/` with what each one is, where an operator finds them;
//! each compaction reads them again with the day's orders, so the counts stay exact
//! whatever arrives later or however often a day is compacted.
//!
//! Embedded, the order log refuses repeats at the door, so only redeliveries reach the
//! lake. In Azure, Event Hubs appends every copy, and these counts are the books' only
//! source of duplicates and conflicts (CONTRACT §10).

use arrow::array::{make_comparator, AsArray, BooleanArray, RecordBatch, StringArray};
use arrow::compute::{
    filter_record_batch, lexsort_to_indices, take_record_batch, SortColumn, SortOptions,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use arrow::error::ArrowError;
use std::cmp::Ordering;
use std::sync::Arc;

pub use super::paths::SUPERSEDED_TABLE;
/// File metadata keys of the counts, on a day's roll-up.
pub const DUPLICATES_KEY: &str = "pizza_pipeline.duplicates";
pub const CONFLICTS_KEY: &str = "pizza_pipeline.conflicts";

/// The column of a superseded file that says what each copy is: `duplicate` (same
/// payload as the order kept) or `conflict` (another payload).
pub const COPY_KIND_COLUMN: &str = "copy_kind";

/// The columns that tell one order's copies apart: its identity and stream position.
pub const IDENTITY_COLUMNS: [&str; 4] =
    ["order_id", "received_at", "stream_partition", "stream_seq"];
/// The columns a duplicate must equal (what the client sent).
pub const PAYLOAD_COLUMNS: [&str; 5] = [
    "customer_id",
    "pizza_type",
    "qty",
    "retail_price",
    "order_ts",
];

/// Copies of orders beyond the first, by kind, for one day or more.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Repeats {
    pub duplicates: i64,
    pub conflicts: i64,
}

impl Repeats {
    pub fn add(&mut self, other: Repeats) {
        self.duplicates += other.duplicates;
        self.conflicts += other.conflicts;
    }

    /// The counts as file metadata.
    pub fn metadata(&self) -> [(&'static str, String); 2] {
        [
            (DUPLICATES_KEY, self.duplicates.to_string()),
            (CONFLICTS_KEY, self.conflicts.to_string()),
        ]
    }

    /// The counts a file's metadata records (none recorded: zero).
    pub fn from_metadata<'a>(
        pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    ) -> Repeats {
        let mut repeats = Repeats::default();
        for (key, value) in pairs {
            let count = value.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
            match key {
                DUPLICATES_KEY => repeats.duplicates = count,
                CONFLICTS_KEY => repeats.conflicts = count,
                _ => {}
            }
        }
        repeats
    }
}

/// A day's orders with each `order_id` once.
#[derive(Debug)]
pub struct Deduplicated {
    /// The first received copy of each order, sorted by `order_id`.
    pub unique: RecordBatch,
    /// The copies dropped that were not redeliveries.
    pub repeats: Repeats,
    /// The copies that were not redeliveries, with a last column [`COPY_KIND_COLUMN`]
    /// (`duplicate` or `conflict`); `None` when there were none.
    pub superseded: Option<RecordBatch>,
}

/// Keeps each order's first received row of `batch` (sorted by `order_id`, `received_at`,
/// `stream_seq`) and counts and sets aside the other copies. `batch` needs the
/// [`IDENTITY_COLUMNS`] and [`PAYLOAD_COLUMNS`].
pub fn deduplicate(batch: &RecordBatch) -> Result<Deduplicated, ArrowError> {
    let column = |name: &str| {
        batch
            .column_by_name(name)
            .cloned()
            .ok_or_else(|| ArrowError::SchemaError(format!("no column {name} to de-duplicate by")))
    };
    let keys = ["order_id", "received_at", "stream_seq"]
        .map(|name| {
            column(name).map(|values| SortColumn {
                values,
                options: None,
            })
        })
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    let sorted = take_record_batch(batch, &lexsort_to_indices(&keys, None)?)?;
    let kinds = classify(&sorted)?;
    let keep: BooleanArray = kinds.iter().map(|k| Some(*k == CopyKind::First)).collect();
    let repeats = Repeats {
        duplicates: kinds.iter().filter(|k| **k == CopyKind::Duplicate).count() as i64,
        conflicts: kinds.iter().filter(|k| **k == CopyKind::Conflict).count() as i64,
    };
    let superseded = if repeats == Repeats::default() {
        None
    } else {
        Some(with_copy_kinds(&sorted, &kinds)?)
    };
    Ok(Deduplicated {
        unique: filter_record_batch(&sorted, &keep)?,
        repeats,
        superseded,
    })
}

/// The duplicate and conflicting rows of `sorted`, each with what it is.
fn with_copy_kinds(sorted: &RecordBatch, kinds: &[CopyKind]) -> Result<RecordBatch, ArrowError> {
    let repeated: BooleanArray = kinds
        .iter()
        .map(|k| Some(matches!(k, CopyKind::Duplicate | CopyKind::Conflict)))
        .collect();
    let rows = filter_record_batch(sorted, &repeated)?;
    let names: StringArray = kinds
        .iter()
        .filter_map(|k| match k {
            CopyKind::Duplicate => Some(Some("duplicate")),
            CopyKind::Conflict => Some(Some("conflict")),
            _ => None,
        })
        .collect();
    let mut fields: Vec<Field> = rows
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(COPY_KIND_COLUMN, DataType::Utf8, false));
    let mut columns = rows.columns().to_vec();
    columns.push(Arc::new(names));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyKind {
    First,
    Redelivery,
    Duplicate,
    Conflict,
}

/// What each row of `sorted` (sorted by `order_id` first) is.
fn classify(sorted: &RecordBatch) -> Result<Vec<CopyKind>, ArrowError> {
    let column = |name: &str| {
        sorted.column_by_name(name).ok_or_else(|| {
            ArrowError::SchemaError(format!("no column {name} to compare copies by"))
        })
    };
    let ids = column("order_id")?.as_primitive::<Int64Type>();
    let partitions = column("stream_partition")?.as_string::<i32>();
    let seqs = column("stream_seq")?.as_primitive::<Int64Type>();
    // One comparator per payload column, of the column with itself: equal values and
    // equal nulls compare Equal, whatever the type.
    let payload = PAYLOAD_COLUMNS
        .iter()
        .map(|name| {
            let values = column(name)?;
            make_comparator(values.as_ref(), values.as_ref(), SortOptions::default())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let same_payload = |a: usize, b: usize| {
        payload
            .iter()
            .all(|compare| compare(a, b) == Ordering::Equal)
    };
    let mut kinds = Vec::with_capacity(sorted.num_rows());
    let mut first = 0;
    for row in 0..sorted.num_rows() {
        if row == 0 || ids.value(row) != ids.value(row - 1) {
            first = row;
            kinds.push(CopyKind::First);
            continue;
        }
        let position = (partitions.value(row), seqs.value(row));
        let delivered_before = (first..row)
            .any(|earlier| (partitions.value(earlier), seqs.value(earlier)) == position);
        kinds.push(if delivered_before {
            CopyKind::Redelivery
        } else if same_payload(first, row) {
            CopyKind::Duplicate
        } else {
            CopyKind::Conflict
        });
    }
    Ok(kinds)
}

/// The files of `day`'s superseded orders.
pub async fn superseded_files(
    lake: &dyn super::LakeStore,
    day: chrono::NaiveDate,
) -> Result<Vec<String>, super::LakeError> {
    let mut files = super::without_folders(lake.list(&super::LakePath::superseded_dir(day)).await?);
    files.retain(|f| f.ends_with(".parquet"));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::EnrichedOrder;
    use crate::lake::parquet::to_record_batch;

    fn copy(
        order_id: i64,
        qty: i32,
        partition: &str,
        seq: i64,
        received_second: u32,
    ) -> EnrichedOrder {
        let event = crate::order::OrderEvent::from_json(&format!(
            r#"{{"order_id":{order_id},"customer_id":1,"type":"cheese","qty":{qty},"retail_price_cents":999,"order_ts":"2026-03-01T12:00:00Z","received_at":"2026-03-01T12:00:{received_second:02}Z"}}"#
        ))
        .unwrap();
        EnrichedOrder {
            enriched_at: event.received_at,
            event,
            customer: None,
            stream_partition: partition.into(),
            stream_seq: seq,
        }
    }

    #[test]
    fn copies_are_told_apart_and_the_first_received_stands() {
        let rows = [
            copy(1, 1, "0", 10, 1),
            copy(1, 1, "0", 10, 1), // the same event again: a redelivery
            copy(1, 1, "0", 11, 2), // the client's retry: a duplicate
            copy(1, 5, "0", 12, 3), // another payload: a conflict
            copy(2, 2, "1", 4, 9),  // a later copy of order 2 arrives first in the input
            copy(2, 3, "1", 3, 8),  // received first: it stands, the other conflicts
            copy(3, 1, "2", 1, 1),
        ];
        let batch = to_record_batch(&rows.iter().collect::<Vec<_>>());
        let deduplicated = deduplicate(&batch).unwrap();
        assert_eq!(
            deduplicated.repeats,
            Repeats {
                duplicates: 1,
                conflicts: 2
            }
        );
        let unique = &deduplicated.unique;
        let ids = unique
            .column_by_name("order_id")
            .unwrap()
            .as_primitive::<Int64Type>();
        let qty = unique
            .column_by_name("qty")
            .unwrap()
            .as_primitive::<arrow::datatypes::Int32Type>();
        assert_eq!(ids.values().to_vec(), [1, 2, 3]);
        assert_eq!(
            qty.values().to_vec(),
            [1, 3, 1],
            "the first received payloads"
        );
        let superseded = deduplicated.superseded.unwrap();
        let qty = superseded
            .column_by_name("qty")
            .unwrap()
            .as_primitive::<arrow::datatypes::Int32Type>();
        let kinds = superseded
            .column_by_name(COPY_KIND_COLUMN)
            .unwrap()
            .as_string::<i32>();
        assert_eq!(qty.values().to_vec(), [1, 5, 2], "the copies, kept");
        assert_eq!(
            kinds.iter().flatten().collect::<Vec<_>>(),
            ["duplicate", "conflict", "conflict"]
        );
    }

    #[test]
    fn a_day_without_repeats_has_nothing_superseded() {
        let rows = [
            copy(1, 1, "0", 1, 1),
            copy(1, 1, "0", 1, 1),
            copy(2, 1, "0", 2, 2),
        ];
        let deduplicated = deduplicate(&to_record_batch(&rows.iter().collect::<Vec<_>>())).unwrap();
        assert_eq!(deduplicated.repeats, Repeats::default());
        assert!(deduplicated.superseded.is_none());
        assert_eq!(deduplicated.unique.num_rows(), 2);
    }

    #[test]
    fn counts_round_trip_through_file_metadata() {
        let repeats = Repeats {
            duplicates: 4,
            conflicts: 2,
        };
        let pairs = repeats.metadata();
        let read = Repeats::from_metadata(pairs.iter().map(|(k, v)| (*k, Some(v.as_str()))));
        assert_eq!(read, repeats);
        assert_eq!(
            Repeats::from_metadata([]),
            Repeats::default(),
            "none recorded"
        );
    }
}
