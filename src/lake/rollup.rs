//! The daily report roll-up: for each UTC day, one row per (customer found, state, pizza
//! type) with the day's order count, generated orders, units and gross sales, and the
//! exact set of its customers as a serialized Roaring bitmap (64-bit: `customer_id` may be
//! any positive 64-bit integer). It is what the nightly report core and the books read
//! instead of the orders of a whole day: a few hundred rows, about 2 bytes per order for
//! the customer sets, whose union gives unique customers exactly.
//!
//! A roll-up is written with the compacted file it summarises (`rollup-<stamp>.parquet`
//! for `compacted-<stamp>.parquet`) and is fresh only while that compacted file is the
//! day's only file: late orders or a re-landed batch make it stale, the next compaction
//! writes a new one, and a reader meanwhile rolls the day up from its orders. Its bytes
//! depend on the day's orders only, so rolling a day up twice gives the same file.

use super::parquet::write_parquet_with_metadata;
pub use super::paths::{LEGACY_ROLLUP_TABLE, ROLLUP_PREFIX, ROLLUP_TABLE};
use super::repeats::Repeats;
use super::LakeError;
use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryBuilder, BooleanBuilder, Decimal128Builder,
    Int64Builder, RecordBatch, StringBuilder,
};
use arrow::datatypes::{
    DataType, Decimal128Type, Field, Int32Type, Int64Type, Schema, SchemaRef,
    TimestampMicrosecondType,
};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use roaring::RoaringTreemap;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// The roll-up format, in each file's key-value metadata: a file of another format is
/// not read, and its day is rolled up again.
pub const ROLLUP_FORMAT_KEY: &str = "pizza_pipeline.rollup_format";
pub const ROLLUP_FORMAT: &str = "2";

/// The schema of every roll-up file.
pub fn rollup_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("customer_found", DataType::Boolean, false),
                Field::new("state", DataType::Utf8, true),
                Field::new("pizza_type", DataType::Utf8, false),
                Field::new("orders", DataType::Int64, false),
                Field::new("generated_orders", DataType::Int64, false),
                Field::new("pizzas", DataType::Int64, false),
                Field::new("gross", DataType::Decimal128(18, 2), false),
                Field::new("customers", DataType::Binary, false),
            ]))
        })
        .clone()
}

/// The group a roll-up row sums: orders of one pizza type whose customer was found in
/// one state, or whose customer was not found (`state` is then `None`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupKey {
    pub customer_found: bool,
    pub state: Option<String>,
    pub pizza_type: String,
}

/// A group's customers: still serialized as a roll-up file holds them (read only when a
/// count needs them), or built.
#[derive(Debug, Clone)]
pub enum CustomerSet {
    Serialized { column: BinaryArray, row: usize },
    Built(RoaringTreemap),
}

impl CustomerSet {
    /// The set itself; a serialized one is checked as it is read.
    pub fn to_treemap(&self) -> Result<RoaringTreemap, std::io::Error> {
        match self {
            CustomerSet::Serialized { column, row } => {
                RoaringTreemap::deserialize_from(column.value(*row))
            }
            CustomerSet::Built(set) => Ok(set.clone()),
        }
    }

    fn serialized(&self) -> Result<Vec<u8>, std::io::Error> {
        match self {
            CustomerSet::Serialized { column, row } => Ok(column.value(*row).to_vec()),
            CustomerSet::Built(set) => {
                let mut bytes = Vec::with_capacity(set.serialized_size());
                set.serialize_into(&mut bytes)?;
                Ok(bytes)
            }
        }
    }
}

/// Counts the customers of a union of customer sets, exactly, without building the
/// union: each set's containers are OR-ed into one dense bitset per 2^16 ids, read
/// straight from their serialized bytes (Roaring's portable format, as
/// `RoaringTreemap::serialize_into` writes it). A year of daily sets of a group holds tens
/// of thousands of small containers; deserializing each into its own allocation, then
/// merging, took most of a nightly build, where this reads each value once.
#[derive(Default)]
pub struct UnionCounter {
    /// The slot in `bitsets` of each 2^16-wide chunk of ids seen (by its upper 48 bits).
    slots: HashMap<u64, usize, foldhash::fast::RandomState>,
    bitsets: Vec<Box<[u64; 1024]>>,
}

/// Cookies of the portable format (the RoaringFormatSpec).
const SERIAL_COOKIE_NO_RUNCONTAINER: u32 = 12346;
const SERIAL_COOKIE: u32 = 12347;
const NO_OFFSET_THRESHOLD: usize = 4;
/// An array container holds at most this many values; a fuller one is a bitmap.
const ARRAY_LIMIT: usize = 4096;

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("not a serialized customer set: {what}"),
    )
}

/// A reader over serialized bytes that refuses to run past their end.
struct SetReader<'a>(&'a [u8]);

impl<'a> SetReader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], std::io::Error> {
        if self.0.len() < n {
            return Err(invalid("it ends early"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u16(&mut self) -> Result<u16, std::io::Error> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }

    fn u32(&mut self) -> Result<u32, std::io::Error> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn u64(&mut self) -> Result<u64, std::io::Error> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

impl UnionCounter {
    /// Starts a new union, keeping the memory of the last one.
    pub fn clear(&mut self) {
        for bitset in &mut self.bitsets[..self.slots.len()] {
            bitset.fill(0);
        }
        self.slots.clear();
    }

    fn chunk(&mut self, key: u64) -> &mut [u64; 1024] {
        let next = self.slots.len();
        let slot = *self.slots.entry(key).or_insert(next);
        if slot == self.bitsets.len() {
            self.bitsets.push(Box::new([0; 1024]));
        }
        &mut self.bitsets[slot]
    }

    /// Adds a set to the union.
    pub fn add(&mut self, set: &CustomerSet) -> Result<(), std::io::Error> {
        match set {
            CustomerSet::Serialized { column, row } => self.add_serialized(column.value(*row)),
            CustomerSet::Built(set) => {
                for id in set.iter() {
                    let chunk = self.chunk(id >> 16);
                    let low = (id & 0xFFFF) as usize;
                    chunk[low >> 6] |= 1 << (low & 63);
                }
                Ok(())
            }
        }
    }

    /// Adds a serialized `RoaringTreemap`: a count of bitmaps, then each one's upper 32
    /// bits and its portable serialization.
    fn add_serialized(&mut self, bytes: &[u8]) -> Result<(), std::io::Error> {
        let mut bytes = SetReader(bytes);
        let maps = bytes.u64()?;
        for _ in 0..maps {
            // The chunk key is the id's upper 48 bits, as for a built set.
            let high = u64::from(bytes.u32()?) << 16;
            self.add_bitmap(high, &mut bytes)?;
        }
        if !bytes.0.is_empty() {
            return Err(invalid("bytes left over"));
        }
        Ok(())
    }

    /// Adds one portable-format bitmap whose ids share the upper 32 bits (`high`: those
    /// bits, shifted to sit above a container's 16-bit key).
    fn add_bitmap(&mut self, high: u64, bytes: &mut SetReader<'_>) -> Result<(), std::io::Error> {
        let cookie = bytes.u32()?;
        let (size, runs) = if cookie & 0xFFFF == SERIAL_COOKIE {
            let size = (cookie >> 16) as usize + 1;
            (size, Some(bytes.take(size.div_ceil(8))?))
        } else if cookie == SERIAL_COOKIE_NO_RUNCONTAINER {
            (bytes.u32()? as usize, None)
        } else {
            return Err(invalid("unknown cookie"));
        };
        let header = bytes.take(size * 4)?;
        if runs.is_none() || size >= NO_OFFSET_THRESHOLD {
            bytes.take(size * 4)?; // offsets: the containers follow in order anyway
        }
        for (i, description) in header.chunks_exact(4).enumerate() {
            let key = u64::from(u16::from_le_bytes([description[0], description[1]]));
            let cardinality = usize::from(u16::from_le_bytes([description[2], description[3]])) + 1;
            let is_run = runs.is_some_and(|r| r[i / 8] & (1 << (i % 8)) != 0);
            let chunk = self.chunk(high | key);
            if is_run {
                let count = usize::from(bytes.u16()?);
                for run in bytes.take(count * 4)?.chunks_exact(4) {
                    let start = usize::from(u16::from_le_bytes([run[0], run[1]]));
                    let length = usize::from(u16::from_le_bytes([run[2], run[3]]));
                    for low in start..=start + length {
                        chunk[(low >> 6) & 1023] |= 1 << (low & 63);
                    }
                }
            } else if cardinality <= ARRAY_LIMIT {
                for value in bytes.take(cardinality * 2)?.chunks_exact(2) {
                    let low = usize::from(u16::from_le_bytes([value[0], value[1]]));
                    chunk[low >> 6] |= 1 << (low & 63);
                }
            } else {
                for (word, value) in chunk.iter_mut().zip(bytes.take(8192)?.chunks_exact(8)) {
                    *word |= u64::from_le_bytes(value.try_into().expect("8 bytes"));
                }
            }
        }
        Ok(())
    }

    /// How many customers the union holds.
    pub fn len(&self) -> u64 {
        self.bitsets[..self.slots.len()]
            .iter()
            .flat_map(|bitset| bitset.iter())
            .map(|word| u64::from(word.count_ones()))
            .sum()
    }

    /// The union as a set (for a month's roll-up, written once a month).
    pub fn to_treemap(&self) -> RoaringTreemap {
        let mut chunks: Vec<(u64, usize)> = self.slots.iter().map(|(k, s)| (*k, *s)).collect();
        chunks.sort_unstable();
        let mut ids = Vec::new();
        for (key, slot) in chunks {
            for (word, &bits) in self.bitsets[slot].iter().enumerate() {
                let mut bits = bits;
                while bits != 0 {
                    let bit = u64::from(bits.trailing_zeros());
                    ids.push((key << 16) | ((word as u64) << 6) | bit);
                    bits &= bits - 1;
                }
            }
        }
        RoaringTreemap::from_sorted_iter(ids).expect("ids come in ascending order")
    }

    /// Whether the union is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a roll-up row holds besides its key.
#[derive(Debug, Clone)]
pub struct GroupTotals {
    /// Orders (each `order_id` once).
    pub orders: i64,
    /// Of those, written straight into the lake by the generator (never through the door).
    pub generated_orders: i64,
    pub pizzas: i64,
    /// Gross sales in cents, exact.
    pub gross_cents: i128,
    pub customers: CustomerSet,
}

/// One day's roll-up (or the part of a day inside a report window): its groups, sorted.
#[derive(Debug, Clone, Default)]
pub struct DayRollup {
    pub groups: Vec<(GroupKey, GroupTotals)>,
    /// The day's copies of orders beyond the first (`super::repeats`): set by whoever
    /// de-duplicated the orders, kept in the file's metadata.
    pub repeats: Repeats,
}

/// The columns of `orders_enriched` a roll-up is made from.
pub const ROLLUP_SOURCE_COLUMNS: [&str; 8] = [
    "customer_id",
    "pizza_type",
    "qty",
    "retail_price",
    "order_ts",
    "customer_found",
    "state",
    "stream_partition",
];

/// Sums accumulated for one group while rolling orders up.
#[derive(Default)]
struct Accumulator {
    orders: i64,
    generated_orders: i64,
    pizzas: i64,
    gross_cents: i128,
    customers: Vec<u64>,
}

impl Accumulator {
    fn finish(mut self, found: bool) -> GroupTotals {
        let mut set = RoaringTreemap::new();
        if found {
            // Sorted and de-duplicated first: appending in order builds the set fastest.
            self.customers.sort_unstable();
            self.customers.dedup();
            set.append(self.customers)
                .expect("sorted customer ids append in order");
        }
        GroupTotals {
            orders: self.orders,
            generated_orders: self.generated_orders,
            pizzas: self.pizzas,
            gross_cents: self.gross_cents,
            customers: CustomerSet::Built(set),
        }
    }
}

fn format_error(path: &str, source: impl Into<super::BoxError>) -> LakeError {
    LakeError::format(path, source)
}

impl DayRollup {
    /// Rolls up a day's orders, each `order_id` once already (`orders_enriched` batches
    /// with at least [`ROLLUP_SOURCE_COLUMNS`]). With `inside`, only the orders whose
    /// `order_ts` lies in `[start, end)` count (a day a report window cuts).
    pub fn from_orders(
        orders: &[RecordBatch],
        inside: Option<Range<DateTime<Utc>>>,
    ) -> Result<DayRollup, LakeError> {
        let mut sums: HashMap<(bool, Option<&str>, &str), Accumulator> = HashMap::new();
        let bounds = inside.map(|r| (r.start.timestamp_micros(), r.end.timestamp_micros()));
        for batch in orders {
            let column = |name: &str| {
                batch
                    .column_by_name(name)
                    .ok_or_else(|| format_error("<roll-up>", format!("no column {name}")))
            };
            let found = column("customer_found")?.as_boolean();
            let states = column("state")?.as_string::<i32>();
            let types = column("pizza_type")?.as_string::<i32>();
            let customers = column("customer_id")?.as_primitive::<Int64Type>();
            let quantities = column("qty")?.as_primitive::<Int32Type>();
            let prices = column("retail_price")?.as_primitive::<Decimal128Type>();
            let partitions = column("stream_partition")?.as_string::<i32>();
            let times = match bounds {
                Some(_) => Some(column("order_ts")?.as_primitive::<TimestampMicrosecondType>()),
                None => None,
            };
            for i in 0..batch.num_rows() {
                if let (Some((start, end)), Some(times)) = (bounds, times) {
                    let at = times.value(i);
                    if at < start || at >= end {
                        continue;
                    }
                }
                let customer_found = found.value(i);
                let state = (customer_found && !states.is_null(i)).then(|| states.value(i));
                let sum = sums
                    .entry((customer_found, state, types.value(i)))
                    .or_default();
                sum.orders += 1;
                sum.generated_orders +=
                    i64::from(partitions.value(i) == super::GENERATED_PARTITION);
                sum.pizzas += i64::from(quantities.value(i));
                sum.gross_cents += prices.value(i);
                if customer_found {
                    // A bijection of i64 onto u64: distinct ids stay distinct.
                    sum.customers.push(customers.value(i) as u64);
                }
            }
        }
        let mut groups: Vec<(GroupKey, GroupTotals)> = sums
            .into_iter()
            .map(|((found, state, pizza_type), sum)| {
                let key = GroupKey {
                    customer_found: found,
                    state: state.map(str::to_string),
                    pizza_type: pizza_type.to_string(),
                };
                (key, sum.finish(found))
            })
            .collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(DayRollup {
            groups,
            repeats: Repeats::default(),
        })
    }

    /// Orders of the day.
    pub fn orders(&self) -> i64 {
        self.groups.iter().map(|(_, t)| t.orders).sum()
    }

    /// The roll-up as one batch of [`rollup_schema`].
    pub fn to_record_batch(&self) -> Result<RecordBatch, LakeError> {
        let n = self.groups.len();
        let mut found = BooleanBuilder::with_capacity(n);
        let mut state = StringBuilder::with_capacity(n, n * 2);
        let mut pizza_type = StringBuilder::with_capacity(n, n * 8);
        let mut orders = Int64Builder::with_capacity(n);
        let mut generated = Int64Builder::with_capacity(n);
        let mut pizzas = Int64Builder::with_capacity(n);
        let mut gross = Decimal128Builder::with_capacity(n)
            .with_precision_and_scale(18, 2)
            .map_err(|e| format_error("<roll-up>", e))?;
        let mut customers = BinaryBuilder::with_capacity(n, 1024 * n);
        for (key, totals) in &self.groups {
            found.append_value(key.customer_found);
            state.append_option(key.state.as_deref());
            pizza_type.append_value(&key.pizza_type);
            orders.append_value(totals.orders);
            generated.append_value(totals.generated_orders);
            pizzas.append_value(totals.pizzas);
            gross.append_value(totals.gross_cents);
            let bytes = totals
                .customers
                .serialized()
                .map_err(|e| format_error("<roll-up>", e))?;
            customers.append_value(bytes);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(found.finish()),
            Arc::new(state.finish()),
            Arc::new(pizza_type.finish()),
            Arc::new(orders.finish()),
            Arc::new(generated.finish()),
            Arc::new(pizzas.finish()),
            Arc::new(gross.finish()),
            Arc::new(customers.finish()),
        ];
        RecordBatch::try_new(rollup_schema(), columns).map_err(|e| format_error("<roll-up>", e))
    }

    /// The roll-up as a Parquet file, its format named in the file's metadata.
    pub fn to_parquet(&self) -> Result<Bytes, LakeError> {
        let [duplicates, conflicts] = self.repeats.metadata();
        write_parquet_with_metadata(
            &self.to_record_batch()?,
            &[
                (ROLLUP_FORMAT_KEY, ROLLUP_FORMAT),
                (duplicates.0, &duplicates.1),
                (conflicts.0, &conflicts.1),
            ],
            &["customers"],
        )
    }

    /// Reads a roll-up file. `Ok(None)`: a file of another roll-up format, which the
    /// caller treats as missing. The customer sets stay serialized until asked for.
    pub fn from_parquet(path: &str, bytes: Bytes) -> Result<Option<DayRollup>, LakeError> {
        let file = RollupFile::open(path, bytes)?;
        if file.value_of(ROLLUP_FORMAT_KEY) != Some(ROLLUP_FORMAT) {
            return Ok(None);
        }
        let repeats = Repeats::from_metadata(file.metadata());
        Ok(Some(DayRollup {
            groups: file.groups()?,
            repeats,
        }))
    }
}

/// A roll-up file (a day's or a month's) opened: its key-value metadata at hand, its rows
/// read when asked for.
pub(super) struct RollupFile {
    path: String,
    builder: ParquetRecordBatchReaderBuilder<Bytes>,
    metadata: Vec<(String, Option<String>)>,
}

impl RollupFile {
    pub(super) fn open(path: &str, bytes: Bytes) -> Result<RollupFile, LakeError> {
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| format_error(path, e))?;
        let metadata = builder
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .map(|pairs| {
                pairs
                    .iter()
                    .map(|kv| (kv.key.clone(), kv.value.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(RollupFile {
            path: path.to_string(),
            builder,
            metadata,
        })
    }

    /// The value of one metadata key.
    pub(super) fn value_of(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, value)| value.as_deref())
    }

    /// Every metadata key and its value.
    pub(super) fn metadata(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.metadata
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_deref()))
    }

    /// The file's rows.
    pub(super) fn groups(self) -> Result<Vec<(GroupKey, GroupTotals)>, LakeError> {
        let path = self.path;
        let reader = self.builder.build().map_err(|e| format_error(&path, e))?;
        let mut groups = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| format_error(&path, e))?;
            groups.extend(rows_of(&path, &batch)?);
        }
        Ok(groups)
    }
}

/// The rows of one roll-up batch.
fn rows_of(path: &str, batch: &RecordBatch) -> Result<Vec<(GroupKey, GroupTotals)>, LakeError> {
    if batch.schema().fields() != rollup_schema().fields() {
        return Err(format_error(path, "not the roll-up schema"));
    }
    let found = batch.column(0).as_boolean();
    let state = batch.column(1).as_string::<i32>();
    let pizza_type = batch.column(2).as_string::<i32>();
    let orders = batch.column(3).as_primitive::<Int64Type>();
    let generated = batch.column(4).as_primitive::<Int64Type>();
    let pizzas = batch.column(5).as_primitive::<Int64Type>();
    let gross = batch.column(6).as_primitive::<Decimal128Type>();
    let customers = batch.column(7).as_binary::<i32>().clone();
    Ok((0..batch.num_rows())
        .map(|row| {
            let key = GroupKey {
                customer_found: found.value(row),
                state: (!state.is_null(row)).then(|| state.value(row).to_string()),
                pizza_type: pizza_type.value(row).to_string(),
            };
            let totals = GroupTotals {
                orders: orders.value(row),
                generated_orders: generated.value(row),
                pizzas: pizzas.value(row),
                gross_cents: gross.value(row),
                customers: CustomerSet::Serialized {
                    column: customers.clone(),
                    row,
                },
            };
            (key, totals)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::Customer;
    use crate::enrich::EnrichedOrder;
    use crate::lake::parquet::to_record_batch;
    use crate::lake::LakePath;
    use crate::order::{OrderEvent, PizzaType};

    fn order(
        id: i64,
        customer: Option<(i64, &str)>,
        pizza: PizzaType,
        qty: i32,
        at: &str,
    ) -> EnrichedOrder {
        let at = at.parse().unwrap();
        EnrichedOrder {
            event: OrderEvent {
                order_id: id,
                customer_id: customer.map(|c| c.0).unwrap_or(999),
                pizza_type: pizza,
                qty,
                retail_price_cents: 1001 * i64::from(qty) + id,
                order_ts: at,
                received_at: at,
            },
            customer: customer.map(|(customer_id, state)| {
                Arc::new(Customer {
                    customer_id,
                    name: "N".into(),
                    address: "A".into(),
                    city: "C".into(),
                    state: state.into(),
                    zip_code: "00000".into(),
                })
            }),
            stream_partition: if id == 4 { "generated" } else { "0" }.into(),
            stream_seq: id,
            enriched_at: at,
        }
    }

    const MORNING: &str = "2026-01-10T09:00:00Z";
    const EVENING: &str = "2026-01-10T20:00:00Z";

    fn day() -> Vec<EnrichedOrder> {
        vec![
            order(1, Some((7, "TX")), PizzaType::Cheese, 2, MORNING),
            order(2, Some((7, "TX")), PizzaType::Cheese, 3, EVENING),
            order(3, Some((7, "TX")), PizzaType::Veggie, 1, MORNING),
            order(4, Some((8, "MN")), PizzaType::Cheese, 1, EVENING),
            order(5, None, PizzaType::Cheese, 9, MORNING),
            order(
                6,
                Some((u32::MAX as i64 + 9, "TX")),
                PizzaType::Cheese,
                1,
                MORNING,
            ),
        ]
    }

    fn summary(rollup: &DayRollup) -> Vec<(GroupKey, i64, i64, i64, i128, Vec<u64>)> {
        rollup
            .groups
            .iter()
            .map(|(k, t)| {
                let customers = t.customers.to_treemap().unwrap().iter().collect();
                let sums = (t.orders, t.generated_orders, t.pizzas, t.gross_cents);
                (k.clone(), sums.0, sums.1, sums.2, sums.3, customers)
            })
            .collect()
    }

    fn key(found: bool, state: Option<&str>, pizza: &str) -> GroupKey {
        GroupKey {
            customer_found: found,
            state: state.map(String::from),
            pizza_type: pizza.into(),
        }
    }

    #[test]
    fn sums_per_group_and_keeps_each_groups_customers_exactly() {
        let rows = day();
        let batch = to_record_batch(&rows.iter().collect::<Vec<_>>());
        let rolled = DayRollup::from_orders(&[batch], None).unwrap();
        let big = u32::MAX as u64 + 9;
        assert_eq!(
            summary(&rolled),
            vec![
                (key(false, None, "cheese"), 1, 0, 9, 9009 + 5, vec![]),
                (key(true, Some("MN"), "cheese"), 1, 1, 1, 1001 + 4, vec![8]),
                (
                    key(true, Some("TX"), "cheese"),
                    3,
                    0,
                    6,
                    2002 + 1 + 3003 + 2 + 1001 + 6,
                    vec![7, big]
                ),
                (key(true, Some("TX"), "veggie"), 1, 0, 1, 1001 + 3, vec![7]),
            ]
        );
        assert_eq!(rolled.orders(), 6);
    }

    #[test]
    fn a_window_that_cuts_the_day_counts_only_the_orders_inside_it() {
        let rows = day();
        let batch = to_record_batch(&rows.iter().collect::<Vec<_>>());
        let noon: DateTime<Utc> = "2026-01-10T12:00:00Z".parse().unwrap();
        let evening =
            DayRollup::from_orders(&[batch], Some(noon..noon + chrono::Days::new(1))).unwrap();
        assert_eq!(
            summary(&evening),
            vec![
                (key(true, Some("MN"), "cheese"), 1, 1, 1, 1001 + 4, vec![8]),
                (key(true, Some("TX"), "cheese"), 1, 0, 3, 3003 + 2, vec![7]),
            ]
        );
    }

    #[test]
    fn a_rollup_reads_back_as_written_and_the_same_orders_give_the_same_bytes() {
        let rows = day();
        let batch = to_record_batch(&rows.iter().collect::<Vec<_>>());
        let rolled = DayRollup::from_orders(std::slice::from_ref(&batch), None).unwrap();
        let bytes = rolled.to_parquet().unwrap();
        let again = DayRollup::from_orders(&[batch], None).unwrap();
        assert_eq!(bytes, again.to_parquet().unwrap(), "deterministic");
        let read = DayRollup::from_parquet("r", bytes)
            .unwrap()
            .expect("format 2");
        assert_eq!(summary(&read), summary(&rolled));
        // Read back, it writes the same bytes again.
        assert_eq!(read.to_parquet().unwrap(), again.to_parquet().unwrap());
    }

    #[test]
    fn a_file_of_another_format_is_not_read() {
        let rows = day();
        let batch = to_record_batch(&rows.iter().collect::<Vec<_>>());
        let rolled = DayRollup::from_orders(&[batch], None).unwrap();
        let unmarked = crate::lake::parquet::write_parquet(&rolled.to_record_batch().unwrap());
        assert!(DayRollup::from_parquet("r", unmarked.unwrap())
            .unwrap()
            .is_none());
    }

    /// A union counted (and built, for a month) from serialized sets equals roaring's own
    /// union, for sets of every container kind (sparse arrays, full bitmaps, runs) and
    /// ids above 2^32.
    #[test]
    fn the_union_is_counted_exactly_from_serialized_sets() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for round in 0..20 {
            let sets: Vec<RoaringTreemap> = (0..1 + round % 7)
                .map(|i| {
                    let mut set = RoaringTreemap::new();
                    match (round + i) % 4 {
                        0 => (0..rng.random_range(0..3000)).for_each(|_| {
                            set.insert(rng.random_range(0..10_000_000));
                        }),
                        1 => {
                            set.insert_range(
                                rng.random_range(0..70_000)..rng.random_range(70_000..300_000),
                            );
                        }
                        2 => (0..5000).for_each(|_| {
                            set.insert(u64::from(u32::MAX) + rng.random_range(0..100_000));
                        }),
                        _ => {
                            set.insert_range(1_000..9_000);
                            set.optimize(); // run containers
                        }
                    }
                    set
                })
                .collect();
            let union = roaring::MultiOps::union(sets.iter());
            let expected = union.len();
            let mut counter = UnionCounter::default();
            counter.clear();
            for (i, set) in sets.iter().enumerate() {
                let customers = if i % 2 == 0 {
                    CustomerSet::Built(set.clone())
                } else {
                    let mut bytes = Vec::new();
                    set.serialize_into(&mut bytes).unwrap();
                    let column = arrow::array::BinaryArray::from_vec(vec![&bytes[..]]);
                    CustomerSet::Serialized { column, row: 0 }
                };
                counter.add(&customers).unwrap();
            }
            assert_eq!(counter.len(), expected, "round {round}");
            assert_eq!(counter.to_treemap(), union, "round {round}: the set itself");
        }
    }

    /// The same ids above 2^32, once built and once serialized (a day read as orders and
    /// a day read from its roll-up), are one set of customers.
    #[test]
    fn built_and_serialized_sets_share_their_ids_above_two_to_the_32() {
        let set: RoaringTreemap = (0..3000u64).map(|i| (7 << 32) + i * 11).collect();
        let mut bytes = Vec::new();
        set.serialize_into(&mut bytes).unwrap();
        let column = arrow::array::BinaryArray::from_vec(vec![&bytes[..]]);
        let mut counter = UnionCounter::default();
        counter.add(&CustomerSet::Built(set.clone())).unwrap();
        counter
            .add(&CustomerSet::Serialized { column, row: 0 })
            .unwrap();
        assert_eq!(counter.len(), 3000);
        assert_eq!(counter.to_treemap(), set);
    }

    #[test]
    fn a_damaged_set_is_an_error_not_a_count() {
        let set: RoaringTreemap = (1..100).collect();
        let mut bytes = Vec::new();
        set.serialize_into(&mut bytes).unwrap();
        for damaged in [&bytes[..bytes.len() - 1], &bytes[..5], &[7u8; 16][..]] {
            let column = arrow::array::BinaryArray::from_vec(vec![damaged]);
            let customers = CustomerSet::Serialized { column, row: 0 };
            assert!(UnionCounter::default().add(&customers).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let column = arrow::array::BinaryArray::from_vec(vec![&longer[..]]);
        let customers = CustomerSet::Serialized { column, row: 0 };
        assert!(UnionCounter::default().add(&customers).is_err());
    }

    #[test]
    fn a_rollup_is_named_after_its_compacted_file() {
        assert_eq!(
            LakePath::rollup_for(
                "orders_enriched/order_date=2026-01-10/compacted-20260111T020000123456.parquet"
            )
            .as_deref(),
            Some("orders_daily/order_date=2026-01-10/rollup-20260111T020000123456.parquet")
        );
        assert_eq!(
            LakePath::rollup_for("orders_enriched/order_date=2026-01-10/p0-1-2.parquet"),
            None
        );
    }
}
