//! The `orders_enriched` file format: one Arrow schema, written as Parquet.
//!
//! Money is `DECIMAL(18,2)` (exact cents), timestamps are UTC microseconds. The day
//! partition column `order_date` lives in the folder name (Hive style), not in the file.

use super::BoxError;
use super::LakeError;
use crate::enrich::EnrichedOrder;
use arrow::array::{
    ArrayRef, BooleanBuilder, Decimal128Builder, Int32Builder, Int64Builder, RecordBatch,
    StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::sync::{Arc, OnceLock};

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The schema of every `orders_enriched` file.
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("order_id", DataType::Int64, false),
                Field::new("customer_id", DataType::Int64, false),
                Field::new("pizza_type", DataType::Utf8, false),
                Field::new("qty", DataType::Int32, false),
                Field::new("retail_price", DataType::Decimal128(18, 2), false),
                Field::new("order_ts", utc_micros(), false),
                Field::new("customer_found", DataType::Boolean, false),
                Field::new("customer_name", DataType::Utf8, true),
                Field::new("address", DataType::Utf8, true),
                Field::new("city", DataType::Utf8, true),
                Field::new("state", DataType::Utf8, true),
                Field::new("zip_code", DataType::Utf8, true),
                Field::new("received_at", utc_micros(), false),
                Field::new("enriched_at", utc_micros(), false),
                Field::new("stream_partition", DataType::Utf8, false),
                Field::new("stream_seq", DataType::Int64, false),
            ]))
        })
        .clone()
}

/// Column-major copy of enriched rows.
pub fn to_record_batch(rows: &[&EnrichedOrder]) -> RecordBatch {
    let n = rows.len();
    let mut order_id = Int64Builder::with_capacity(n);
    let mut customer_id = Int64Builder::with_capacity(n);
    let mut pizza_type = StringBuilder::with_capacity(n, n * 8);
    let mut qty = Int32Builder::with_capacity(n);
    let mut price = Decimal128Builder::with_capacity(n)
        .with_precision_and_scale(18, 2)
        .expect("valid decimal");
    let mut order_ts = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut found = BooleanBuilder::with_capacity(n);
    let mut name = StringBuilder::with_capacity(n, n * 12);
    let mut address = StringBuilder::with_capacity(n, n * 16);
    let mut city = StringBuilder::with_capacity(n, n * 10);
    let mut state = StringBuilder::with_capacity(n, n * 2);
    let mut zip = StringBuilder::with_capacity(n, n * 5);
    let mut received_at = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut enriched_at = TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut partition = StringBuilder::with_capacity(n, n);
    let mut seq = Int64Builder::with_capacity(n);
    for row in rows {
        let e = &row.event;
        order_id.append_value(e.order_id);
        customer_id.append_value(e.customer_id);
        pizza_type.append_value(e.pizza_type.as_str());
        qty.append_value(e.qty);
        price.append_value(i128::from(e.retail_price_cents));
        order_ts.append_value(e.order_ts.timestamp_micros());
        found.append_value(row.customer.is_some());
        match &row.customer {
            Some(c) => {
                name.append_value(&c.name);
                address.append_value(&c.address);
                city.append_value(&c.city);
                state.append_value(&c.state);
                zip.append_value(&c.zip_code);
            }
            None => {
                for column in [&mut name, &mut address, &mut city, &mut state, &mut zip] {
                    column.append_null();
                }
            }
        }
        received_at.append_value(e.received_at.timestamp_micros());
        enriched_at.append_value(row.enriched_at.timestamp_micros());
        partition.append_value(&row.stream_partition);
        seq.append_value(row.stream_seq);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(order_id.finish()),
        Arc::new(customer_id.finish()),
        Arc::new(pizza_type.finish()),
        Arc::new(qty.finish()),
        Arc::new(price.finish()),
        Arc::new(order_ts.finish()),
        Arc::new(found.finish()),
        Arc::new(name.finish()),
        Arc::new(address.finish()),
        Arc::new(city.finish()),
        Arc::new(state.finish()),
        Arc::new(zip.finish()),
        Arc::new(received_at.finish()),
        Arc::new(enriched_at.finish()),
        Arc::new(partition.finish()),
        Arc::new(seq.finish()),
    ];
    RecordBatch::try_new(schema(), columns).expect("columns match the schema")
}

/// Columns whose values (almost) never repeat within a file.
const UNIQUE_PER_ORDER: &[&str] = &[
    "order_id",
    "order_ts",
    "received_at",
    "enriched_at",
    "stream_seq",
];

/// Text and flag columns: nothing filters on their min/max, and computing those per value
/// (a string compare each) was a fifth of the time to write a landed file.
const WITHOUT_STATISTICS_WHEN_LANDED: &[&str] = &[
    "pizza_type",
    "customer_found",
    "customer_name",
    "address",
    "city",
    "state",
    "zip_code",
    "stream_partition",
];

/// What a file is for, which decides how much work its writer spends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A micro-batch landed by the trigger: on the hot path, and rewritten by compaction
    /// within a day, so it skips the statistics nothing reads, and dictionaries. A dictionary
    /// hashes every value into a table built afresh for each small file; without them a
    /// landed file is 8–14 % larger and enrich + land 6–18 % faster (bench/NOTES.md,
    /// fifth enrich + land pass).
    Landed,
    /// Kept for the lake's history (compacted days, roll-ups): full statistics, and
    /// dictionaries for the columns whose values repeat.
    Kept,
}

fn writer_properties(kind: FileKind) -> WriterProperties {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(1 << 20));
    // Columns unique to each order gain nothing from a dictionary: the writer would
    // intern every value only to fall back to plain encoding (a fifth of the write time).
    for column in UNIQUE_PER_ORDER {
        props = props.set_column_dictionary_enabled(ColumnPath::from(*column), false);
    }
    if kind == FileKind::Landed {
        props = props.set_dictionary_enabled(false);
        for column in WITHOUT_STATISTICS_WHEN_LANDED {
            props = props
                .set_column_statistics_enabled(ColumnPath::from(*column), EnabledStatistics::None);
        }
    }
    props.build()
}

/// Encodes one batch as a Parquet file to keep (compacted days, roll-ups).
pub fn write_parquet(batch: &RecordBatch) -> Result<Bytes, LakeError> {
    write_parquet_as(batch, FileKind::Kept)
}

/// Encodes one batch as a Parquet file of the given kind.
pub fn write_parquet_as(batch: &RecordBatch, kind: FileKind) -> Result<Bytes, LakeError> {
    write_with(batch, writer_properties(kind))
}

/// Encodes one batch as a Parquet file to keep, with `metadata` as the file's key-value
/// metadata (what a reader checks before it trusts the file's layout). `opaque` columns
/// hold bytes no reader filters on and no codec shrinks (serialized sets): no dictionary,
/// no statistics, no compression.
pub fn write_parquet_with_metadata(
    batch: &RecordBatch,
    metadata: &[(&str, &str)],
    opaque: &[&str],
) -> Result<Bytes, LakeError> {
    let pairs = metadata
        .iter()
        .map(|(key, value)| KeyValue::new(key.to_string(), value.to_string()))
        .collect();
    let mut props = writer_properties(FileKind::Kept)
        .into_builder()
        .set_key_value_metadata(Some(pairs));
    for column in opaque {
        props = props
            .set_column_dictionary_enabled(ColumnPath::from(*column), false)
            .set_column_statistics_enabled(ColumnPath::from(*column), EnabledStatistics::None)
            .set_column_compression(ColumnPath::from(*column), Compression::UNCOMPRESSED);
    }
    write_with(batch, props.build())
}

fn write_with(batch: &RecordBatch, props: WriterProperties) -> Result<Bytes, LakeError> {
    let mut buffer = Vec::with_capacity(batch.get_array_memory_size() / 3 + 1024);
    let format = |e: parquet::errors::ParquetError| LakeError::format("<new file>", e);
    let mut writer =
        ArrowWriter::try_new(&mut buffer, batch.schema(), Some(props)).map_err(format)?;
    writer.write(batch).map_err(format)?;
    writer.close().map_err(format)?;
    Ok(Bytes::from(buffer))
}

/// Decodes a Parquet file of the `orders_enriched` schema.
pub fn read_parquet(path: &str, bytes: Bytes) -> Result<Vec<RecordBatch>, LakeError> {
    let format = |source: BoxError| LakeError::format(path, source);
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .map_err(|e| format(e.into()))?
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| format(e.into()))?;
    reader
        .map(|batch| batch.map_err(|e| format(e.into())))
        .collect()
}

/// Decodes only `columns` of a Parquet file of the `orders_enriched` schema, each as the
/// lake schema types it: a file written by another tool with a wider decimal, another
/// timestamp unit or another column order reads the same.
pub fn read_parquet_columns(
    path: &str,
    bytes: Bytes,
    columns: &[&str],
) -> Result<Vec<RecordBatch>, LakeError> {
    let format = |source: BoxError| LakeError::format(path, source);
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| format(e.into()))?;
    let file_schema = builder.schema().clone();
    for column in columns {
        if file_schema.column_with_name(column).is_none() {
            return Err(format(format!("no column {column}").into()));
        }
    }
    let mask = ProjectionMask::columns(builder.parquet_schema(), columns.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(64 * 1024)
        .build()
        .map_err(|e| format(e.into()))?;
    let lake = schema();
    let target: SchemaRef = Arc::new(Schema::new(
        columns
            .iter()
            .map(|name| {
                lake.field_with_name(name)
                    .cloned()
                    .map_err(|e| format(e.into()))
            })
            .collect::<Result<Vec<Field>, _>>()?,
    ));
    reader
        .map(|batch| {
            let batch = batch.map_err(|e| format(e.into()))?;
            conform(&batch, &target).map_err(|e| format(e.into()))
        })
        .collect()
}

/// `batch` with the columns of `target`, in its order and with its types.
fn conform(
    batch: &RecordBatch,
    target: &SchemaRef,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    let columns = target
        .fields()
        .iter()
        .map(|field| {
            let column = batch.column_by_name(field.name()).ok_or_else(|| {
                arrow::error::ArrowError::SchemaError(format!("no column {}", field.name()))
            })?;
            if column.data_type() == field.data_type() {
                Ok(column.clone())
            } else {
                arrow::compute::cast(column, field.data_type())
            }
        })
        .collect::<Result<Vec<ArrayRef>, _>>()?;
    RecordBatch::try_new(target.clone(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::Customer;
    use crate::order::{OrderEvent, PizzaType};
    use parquet::file::metadata::ColumnChunkMetaData;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn rows() -> Vec<EnrichedOrder> {
        let customer = Arc::new(Customer {
            customer_id: 7,
            name: "Ada".into(),
            address: "1 Main St".into(),
            city: "Austin".into(),
            state: "TX".into(),
            zip_code: "73301".into(),
        });
        (1..=3)
            .map(|id| EnrichedOrder {
                event: OrderEvent {
                    order_id: id,
                    customer_id: 7,
                    pizza_type: PizzaType::Veggie,
                    qty: 1,
                    retail_price_cents: 1000 + id,
                    order_ts: "2026-03-01T18:30:00Z".parse().unwrap(),
                    received_at: "2026-03-01T18:30:01Z".parse().unwrap(),
                },
                customer: (id != 2).then(|| customer.clone()),
                stream_partition: "0".into(),
                stream_seq: id,
                enriched_at: "2026-03-01T18:30:02Z".parse().unwrap(),
            })
            .collect()
    }

    /// The columns of the file's one row group whose chunk metadata passes `test`.
    fn columns_where(bytes: Bytes, test: impl Fn(&ColumnChunkMetaData) -> bool) -> Vec<String> {
        let reader = SerializedFileReader::new(bytes).unwrap();
        let group = reader.metadata().row_group(0);
        group
            .columns()
            .iter()
            .filter(|c| test(c))
            .map(|c| c.column_path().string())
            .collect()
    }

    /// Which columns carry min/max statistics.
    fn columns_with_statistics(bytes: Bytes) -> Vec<String> {
        columns_where(bytes, |c| {
            c.statistics().is_some_and(|s| s.min_bytes_opt().is_some())
        })
    }

    /// Which columns start with a dictionary page.
    fn columns_with_dictionary(bytes: Bytes) -> Vec<String> {
        columns_where(bytes, |c| c.dictionary_page_offset().is_some())
    }

    /// `columns` holds every one of `present` and none of `absent`.
    fn assert_membership(columns: &[String], present: &[&str], absent: &[&str]) {
        for column in present {
            assert!(columns.iter().any(|c| c == column), "{column}: {columns:?}");
        }
        for column in absent {
            assert!(
                !columns.iter().any(|c| c == column),
                "{column}: {columns:?}"
            );
        }
    }

    #[test]
    fn landed_files_skip_text_statistics_and_dictionaries_and_keep_the_rest() {
        let rows = rows();
        let batch = to_record_batch(&rows.iter().collect::<Vec<_>>());
        let landed = write_parquet_as(&batch, FileKind::Landed).unwrap();
        let kept = write_parquet(&batch).unwrap();

        let landed_stats = columns_with_statistics(landed.clone());
        let numeric = [
            "order_id",
            "customer_id",
            "order_ts",
            "retail_price",
            "stream_seq",
        ];
        assert_membership(&landed_stats, &numeric, WITHOUT_STATISTICS_WHEN_LANDED);
        let kept_stats = columns_with_statistics(kept.clone());
        assert_eq!(kept_stats.len(), schema().fields().len(), "{kept_stats:?}");

        assert_eq!(
            columns_with_dictionary(landed.clone()),
            Vec::<String>::new()
        );
        let kept_dictionaries = columns_with_dictionary(kept.clone());
        let repeated = ["pizza_type", "customer_name", "state"];
        assert_membership(&kept_dictionaries, &repeated, UNIQUE_PER_ORDER);

        // Both read back as the same rows.
        for bytes in [landed, kept] {
            assert_eq!(read_parquet("f", bytes).unwrap(), vec![batch.clone()]);
        }
    }
}
