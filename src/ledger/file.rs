//! The books as a file: what the nightly build publishes in Azure beside the report, one
//! row per UTC order day of the report's window, as `dbo.ledger`
//! (`sql/synapse/05_publish_state_summary.sql`). Embedded, the books are read live
//! (`GET /api/ledger`), so no file is written there.
//!
//! In Azure the door keeps no index of order_ids, so each figure comes from what the
//! stream delivered: `duplicates` and `conflicts` from compaction, which sees every copy
//! of an order (`crate::lake::repeats`), and `stream_backlog` from Event Hubs (events its
//! consumer has not yet checkpointed, for the whole hub: an event's order day is unknown
//! until it is read). `accepted` and `not_yet_landed` per day stay `NULL`: nothing keeps
//! them per day without reading the stream.

use super::LakeDay;
use crate::lake::repeats::Repeats;
use crate::lake::LakeError;
use arrow::array::{
    ArrayRef, Date32Builder, Int64Builder, RecordBatch, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::{Arc, OnceLock};

/// One UTC order day of the books, as the stream and the lake show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamBooksDay {
    pub lake: LakeDay,
    pub repeats: Repeats,
}

/// What a books file says besides its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BooksContext {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Events the stream's consumer has not checkpointed yet (`None`: unknown).
    pub stream_backlog: Option<u64>,
    pub written_at: DateTime<Utc>,
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The columns of the books file, which `dbo.ledger` declares in the same order.
pub fn books_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let count = |name: &str, nullable: bool| Field::new(name, DataType::Int64, nullable);
            Arc::new(Schema::new(vec![
                Field::new("order_date", DataType::Date32, false),
                count("accepted", true),
                count("duplicates", false),
                count("conflicts", false),
                count("not_yet_landed", true),
                count("landed", false),
                count("generated", false),
                count("unknown_customer", false),
                count("no_population_row", false),
                count("outside_report_window", false),
                count("in_report", false),
                count("stream_backlog", true),
                Field::new("window_start", utc_micros(), false),
                Field::new("window_end", utc_micros(), false),
                Field::new("written_at", utc_micros(), false),
            ]))
        })
        .clone()
}

fn days_since_epoch(day: NaiveDate) -> i32 {
    (day - NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch")).num_days() as i32
}

/// The books of `days` as one Parquet file of [`books_schema`].
pub fn books_file(days: &[StreamBooksDay], context: BooksContext) -> Result<Bytes, LakeError> {
    let n = days.len();
    let mut order_date = Date32Builder::with_capacity(n);
    let counts = || Int64Builder::with_capacity(n);
    let (mut accepted, mut duplicates, mut conflicts, mut waiting) =
        (counts(), counts(), counts(), counts());
    let (mut landed, mut generated, mut unknown, mut no_population) =
        (counts(), counts(), counts(), counts());
    let (mut outside, mut in_report, mut backlog) = (counts(), counts(), counts());
    let timestamps = || TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let (mut start, mut end, mut written) = (timestamps(), timestamps(), timestamps());
    for day in days {
        let lake = &day.lake;
        order_date.append_value(days_since_epoch(lake.day));
        accepted.append_null();
        duplicates.append_value(day.repeats.duplicates);
        conflicts.append_value(day.repeats.conflicts);
        waiting.append_null();
        landed.append_value(lake.landed);
        generated.append_value(lake.generated);
        unknown.append_value(lake.unknown_customer);
        no_population.append_value(lake.no_population_row);
        outside.append_value(lake.outside_report_window);
        in_report.append_value(lake.in_report);
        backlog.append_option(
            context
                .stream_backlog
                .map(|b| b.min(i64::MAX as u64) as i64),
        );
        start.append_value(context.window_start.timestamp_micros());
        end.append_value(context.window_end.timestamp_micros());
        written.append_value(context.written_at.timestamp_micros());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(order_date.finish()),
        Arc::new(accepted.finish()),
        Arc::new(duplicates.finish()),
        Arc::new(conflicts.finish()),
        Arc::new(waiting.finish()),
        Arc::new(landed.finish()),
        Arc::new(generated.finish()),
        Arc::new(unknown.finish()),
        Arc::new(no_population.finish()),
        Arc::new(outside.finish()),
        Arc::new(in_report.finish()),
        Arc::new(backlog.finish()),
        Arc::new(start.finish()),
        Arc::new(end.finish()),
        Arc::new(written.finish()),
    ];
    let batch = RecordBatch::try_new(books_schema(), columns)
        .map_err(|e| LakeError::format("<books>", e))?;
    crate::lake::parquet::write_parquet(&batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int64Type;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    #[test]
    fn the_books_file_has_one_row_per_day_and_nulls_where_azure_cannot_know() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let books = [StreamBooksDay {
            lake: LakeDay {
                day,
                landed: 10,
                generated: 0,
                unknown_customer: 1,
                no_population_row: 0,
                outside_report_window: 2,
                in_report: 7,
            },
            repeats: Repeats {
                duplicates: 3,
                conflicts: 1,
            },
        }];
        let context = BooksContext {
            window_start: at("2025-03-01T00:00:00Z"),
            window_end: at("2026-03-02T00:00:00Z"),
            stream_backlog: Some(42),
            written_at: at("2026-03-02T02:00:00Z"),
        };
        let bytes = books_file(&books, context).unwrap();
        let batch = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .build()
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(batch.schema().fields(), books_schema().fields());
        let count = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_primitive::<Int64Type>()
                .clone()
        };
        assert!(count("accepted").is_null(0) && count("not_yet_landed").is_null(0));
        assert_eq!(count("duplicates").value(0), 3);
        assert_eq!(count("conflicts").value(0), 1);
        assert_eq!(count("in_report").value(0), 7);
        assert_eq!(count("stream_backlog").value(0), 42);
    }
}
