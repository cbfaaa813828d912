//! The report table `state_top_pizzas` (CONTRACT §6) as the report core makes it: its
//! rows, exact in integers, the one Parquet file each build writes into the lake for the
//! warehouses to publish, and the comparison `--verify` makes with a warehouse's own SQL.
//!
//! Money stays in integers (cents, micro-dollars) from the roll-ups to the edge; it
//! becomes a decimal only in Parquet (`DECIMAL(18,2)`, `DECIMAL(18,6)`) and in JSON,
//! where the shortest round-trip form of `cents / 100` is exactly the decimal with two
//! places.

use crate::lake::parquet::write_parquet;
use crate::lake::LakeError;
use arrow::array::{
    ArrayRef, Decimal128Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::{Arc, OnceLock};

/// One row of `state_top_pizzas`. Its serde form (integers only) is the embedded
/// warehouse's served copy; the API's form, with decimal money, is [`ReportRow::to_json`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportRow {
    pub state: String,
    pub state_name: String,
    pub rank: i32,
    pub pizza_type: String,
    pub pizzas_sold: i64,
    pub gross_sales_cents: i64,
    /// `gross_sales_per_capita_usd` in millionths of a dollar.
    pub per_capita_micro_usd: i64,
    pub unique_customers: i64,
    pub adult_population: i64,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub refreshed_at: DateTime<Utc>,
}

/// The window and build time of a report table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportWindowInfo {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub refreshed_at: DateTime<Utc>,
}

/// Money as an exact JSON number with a fixed number of places (`25.98`, `0.000006`):
/// written from integers, never through a float.
fn decimal(units: i64, places: u32) -> Box<RawValue> {
    let scale = 10i64.pow(places);
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    let text = format!(
        "{sign}{}.{:0width$}",
        abs / scale as u64,
        abs % scale as u64,
        width = places as usize
    );
    RawValue::from_string(text).expect("a decimal literal is valid JSON")
}

/// A report row as the API and the CLI print it.
#[derive(Serialize)]
pub struct ReportRowJson<'a> {
    state: &'a str,
    state_name: &'a str,
    rank: i32,
    pizza_type: &'a str,
    pizzas_sold: i64,
    gross_sales_usd: Box<RawValue>,
    gross_sales_per_capita_usd: Box<RawValue>,
    unique_customers: i64,
    adult_population: i64,
    window_start: String,
    window_end: String,
    refreshed_at: String,
}

impl ReportRow {
    pub fn to_json(&self) -> ReportRowJson<'_> {
        ReportRowJson {
            state: &self.state,
            state_name: &self.state_name,
            rank: self.rank,
            pizza_type: &self.pizza_type,
            pizzas_sold: self.pizzas_sold,
            gross_sales_usd: decimal(self.gross_sales_cents, 2),
            gross_sales_per_capita_usd: decimal(self.per_capita_micro_usd, 6),
            unique_customers: self.unique_customers,
            adult_population: self.adult_population,
            window_start: crate::order::format_ts(&self.window_start),
            window_end: crate::order::format_ts(&self.window_end),
            refreshed_at: crate::order::format_ts(&self.refreshed_at),
        }
    }

    pub fn window_info(&self) -> ReportWindowInfo {
        ReportWindowInfo {
            window_start: self.window_start,
            window_end: self.window_end,
            refreshed_at: self.refreshed_at,
        }
    }

    /// The row's figures as a reader would quote them, for messages.
    fn describe(&self) -> String {
        format!(
            "{} rank {}: {}, {} pizzas, ${}, ${} per adult, {} unique customers, {} adults",
            self.state,
            self.rank,
            self.pizza_type,
            self.pizzas_sold,
            decimal(self.gross_sales_cents, 2),
            decimal(self.per_capita_micro_usd, 6),
            self.unique_customers,
            self.adult_population
        )
    }

    /// Every figure but the build time (which two builds of one report never share), by
    /// column name, as text.
    fn figures(&self) -> [(&'static str, String); 11] {
        [
            ("state", self.state.clone()),
            ("state_name", self.state_name.clone()),
            ("rank", self.rank.to_string()),
            ("pizza_type", self.pizza_type.clone()),
            ("pizzas_sold", self.pizzas_sold.to_string()),
            (
                "gross_sales_usd",
                decimal(self.gross_sales_cents, 2).to_string(),
            ),
            (
                "gross_sales_per_capita_usd",
                decimal(self.per_capita_micro_usd, 6).to_string(),
            ),
            ("unique_customers", self.unique_customers.to_string()),
            ("adult_population", self.adult_population.to_string()),
            ("window_start", crate::order::format_ts(&self.window_start)),
            ("window_end", crate::order::format_ts(&self.window_end)),
        ]
    }
}

/// The first difference between the report core's rows and another computation's, both
/// ordered by state and rank, in words; `None` when they agree on every figure.
pub fn first_difference(
    core: &[ReportRow],
    other: &[ReportRow],
    other_name: &str,
) -> Option<String> {
    for (i, (ours, theirs)) in core.iter().zip(other).enumerate() {
        let differing: Vec<String> = ours
            .figures()
            .into_iter()
            .zip(theirs.figures())
            .filter(|((_, a), (_, b))| a != b)
            .map(|((name, a), (_, b))| {
                format!("{name} {a} by the report core, {b} by {other_name}")
            })
            .collect();
        if !differing.is_empty() {
            return Some(format!(
                "row {} ({} rank {}): {}; the report core has {}; {other_name} has {}",
                i + 1,
                ours.state,
                ours.rank,
                differing.join(", "),
                ours.describe(),
                theirs.describe()
            ));
        }
    }
    match core.len().cmp(&other.len()) {
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Greater => Some(format!(
            "the report core has {} rows and {other_name} {}; the first missing there: {}",
            core.len(),
            other.len(),
            core[other.len()].describe()
        )),
        std::cmp::Ordering::Less => Some(format!(
            "the report core has {} rows and {other_name} {}; the first extra there: {}",
            core.len(),
            other.len(),
            other[core.len()].describe()
        )),
    }
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// The schema of the report file: the columns of CONTRACT §6, typed as the warehouses
/// declare them (`DECIMAL(18,2)`, `DECIMAL(18,6)`, UTC microsecond timestamps).
pub fn report_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("state", DataType::Utf8, false),
                Field::new("state_name", DataType::Utf8, false),
                Field::new("rank", DataType::Int32, false),
                Field::new("pizza_type", DataType::Utf8, false),
                Field::new("pizzas_sold", DataType::Int64, false),
                Field::new("gross_sales_usd", DataType::Decimal128(18, 2), false),
                Field::new(
                    "gross_sales_per_capita_usd",
                    DataType::Decimal128(18, 6),
                    false,
                ),
                Field::new("unique_customers", DataType::Int64, false),
                Field::new("adult_population", DataType::Int64, false),
                Field::new("window_start", utc_micros(), false),
                Field::new("window_end", utc_micros(), false),
                Field::new("refreshed_at", utc_micros(), false),
            ]))
        })
        .clone()
}

/// The rows as one Parquet file of [`report_schema`], ordered by state and rank.
pub fn report_file(rows: &[ReportRow]) -> Result<Bytes, LakeError> {
    let n = rows.len();
    let mut state = StringBuilder::with_capacity(n, n * 2);
    let mut state_name = StringBuilder::with_capacity(n, n * 12);
    let mut rank = Int32Builder::with_capacity(n);
    let mut pizza_type = StringBuilder::with_capacity(n, n * 8);
    let mut pizzas = Int64Builder::with_capacity(n);
    let decimals = |scale: i8| {
        Decimal128Builder::with_capacity(n)
            .with_precision_and_scale(18, scale)
            .expect("a valid decimal type")
    };
    let (mut gross, mut per_capita) = (decimals(2), decimals(6));
    let mut customers = Int64Builder::with_capacity(n);
    let mut adults = Int64Builder::with_capacity(n);
    let timestamps = || TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC");
    let (mut start, mut end, mut refreshed) = (timestamps(), timestamps(), timestamps());
    for row in rows {
        state.append_value(&row.state);
        state_name.append_value(&row.state_name);
        rank.append_value(row.rank);
        pizza_type.append_value(&row.pizza_type);
        pizzas.append_value(row.pizzas_sold);
        gross.append_value(i128::from(row.gross_sales_cents));
        per_capita.append_value(i128::from(row.per_capita_micro_usd));
        customers.append_value(row.unique_customers);
        adults.append_value(row.adult_population);
        start.append_value(row.window_start.timestamp_micros());
        end.append_value(row.window_end.timestamp_micros());
        refreshed.append_value(row.refreshed_at.timestamp_micros());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(state.finish()),
        Arc::new(state_name.finish()),
        Arc::new(rank.finish()),
        Arc::new(pizza_type.finish()),
        Arc::new(pizzas.finish()),
        Arc::new(gross.finish()),
        Arc::new(per_capita.finish()),
        Arc::new(customers.finish()),
        Arc::new(adults.finish()),
        Arc::new(start.finish()),
        Arc::new(end.finish()),
        Arc::new(refreshed.finish()),
    ];
    let batch = RecordBatch::try_new(report_schema(), columns)
        .map_err(|e| LakeError::format("<report>", e))?;
    write_parquet(&batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: &str, rank: i32, customers: i64) -> ReportRow {
        ReportRow {
            state: state.into(),
            state_name: "Minnesota".into(),
            rank,
            pizza_type: "pepperoni".into(),
            pizzas_sold: 2,
            gross_sales_cents: 2598,
            per_capita_micro_usd: 6,
            unique_customers: customers,
            adult_population: 4_494_094,
            window_start: DateTime::UNIX_EPOCH,
            window_end: DateTime::UNIX_EPOCH,
            refreshed_at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn money_is_written_with_fixed_places_never_as_a_float() {
        assert_eq!(decimal(2598, 2).get(), "25.98");
        assert_eq!(decimal(1050, 2).get(), "10.50");
        assert_eq!(decimal(6, 6).get(), "0.000006");
        assert_eq!(decimal(0, 2).get(), "0.00");
        let json = serde_json::to_string(&row("MN", 1, 1).to_json()).unwrap();
        assert!(
            json.contains(r#""gross_sales_usd":25.98,"gross_sales_per_capita_usd":0.000006,"#),
            "{json}"
        );
    }

    #[test]
    fn the_first_difference_is_named_and_the_build_time_is_not_one() {
        let core = vec![row("MN", 1, 3), row("MN", 2, 4)];
        let mut other = core.clone();
        other[0].refreshed_at = Utc::now();
        assert_eq!(first_difference(&core, &other, "DuckDB"), None);
        other[1].unique_customers = 5;
        let said = first_difference(&core, &other, "DuckDB").unwrap();
        assert!(
            said.starts_with(
                "row 2 (MN rank 2): unique_customers 4 by the report core, 5 by DuckDB; \
                 the report core has MN rank 2: pepperoni, 2 pizzas, $25.98"
            ),
            "{said}"
        );
        assert!(
            said.ends_with("5 unique customers, 4494094 adults"),
            "{said}"
        );
        let short = first_difference(&core, &core[..1], "Synapse").unwrap();
        assert!(short.contains("has 2 rows and Synapse 1"), "{short}");
        assert!(short.contains("first missing there: MN rank 2"), "{short}");
    }
}
