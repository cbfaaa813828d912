//! Daily customer roll-ups: for each compacted day, one row per (state, pizza type,
//! customer) with the units and gross sales of that customer's orders that day (found
//! customers only). The embedded summary reads them, instead of every order row, for the
//! days wholly inside its window. They are exact: sums stay sums, and the set of
//! customers per (state, type) is kept, so unique customers are still counted exactly.
//! How much smaller they are depends on repeat orders: a customer ordering the same type
//! several times a day becomes one row.
//!
//! A roll-up is named after the compacted file it summarises (`rollup-<stamp>.parquet`
//! for `compacted-<stamp>.parquet`). A reader uses it only while that compacted file is
//! the day's only file, so a crash between the two writes, or batches landed since,
//! fall back to the orders themselves.

use super::parquet::write_parquet;
use super::{day_of, LakeError, COMPACTED_PREFIX};
use arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Builder, Int64Builder, RecordBatch, StringBuilder,
};
use arrow::datatypes::{DataType, Decimal128Type, Field, Int32Type, Int64Type, Schema, SchemaRef};
use bytes::Bytes;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Folder of the roll-up table.
pub const ROLLUP_TABLE: &str = "orders_daily_customers";
/// Prefix of roll-up files; the rest of the name is the compacted file's.
pub const ROLLUP_PREFIX: &str = "rollup-";

/// The schema of every roll-up file.
pub fn rollup_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("state", DataType::Utf8, false),
                Field::new("pizza_type", DataType::Utf8, false),
                Field::new("customer_id", DataType::Int64, false),
                Field::new("pizzas", DataType::Int64, false),
                Field::new("gross", DataType::Decimal128(18, 2), false),
            ]))
        })
        .clone()
}

/// Folder of one day's roll-up.
pub fn rollup_dir(day: NaiveDate) -> String {
    format!("{ROLLUP_TABLE}/order_date={}", day.format("%Y-%m-%d"))
}

/// The roll-up path that belongs to `compacted` (a lake path of a compacted file).
pub fn rollup_path_for(compacted: &str) -> Option<String> {
    let day = day_of(compacted)?;
    let name = compacted.rsplit('/').next()?;
    let stamp = name.strip_prefix(COMPACTED_PREFIX)?;
    Some(format!("{}/{ROLLUP_PREFIX}{stamp}", rollup_dir(day)))
}

/// Sums a day's de-duplicated orders (an `orders_enriched` batch) per (state, type,
/// customer), skipping orders whose customer was not found. Rows come out sorted.
pub fn roll_up(orders: &RecordBatch) -> Result<RecordBatch, LakeError> {
    let format = |message: String| LakeError::Format {
        path: "<roll-up>".into(),
        message,
    };
    let column = |name: &str| {
        orders
            .column_by_name(name)
            .ok_or_else(|| format(format!("no column {name}")))
    };
    let found = column("customer_found")?.as_boolean();
    let states = column("state")?.as_string::<i32>();
    let types = column("pizza_type")?.as_string::<i32>();
    let customers = column("customer_id")?.as_primitive::<Int64Type>();
    let quantities = column("qty")?.as_primitive::<Int32Type>();
    let prices = column("retail_price")?.as_primitive::<Decimal128Type>();

    let mut sums: HashMap<(&str, &str, i64), (i64, i128)> = HashMap::new();
    for i in 0..orders.num_rows() {
        if !found.value(i) || states.is_null(i) {
            continue;
        }
        let key = (states.value(i), types.value(i), customers.value(i));
        let entry = sums.entry(key).or_default();
        entry.0 += i64::from(quantities.value(i));
        entry.1 += prices.value(i);
    }
    let mut rows: Vec<_> = sums.into_iter().collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));

    let n = rows.len();
    let mut state = StringBuilder::with_capacity(n, n * 2);
    let mut pizza_type = StringBuilder::with_capacity(n, n * 8);
    let mut customer_id = Int64Builder::with_capacity(n);
    let mut pizzas = Int64Builder::with_capacity(n);
    let mut gross = Decimal128Builder::with_capacity(n)
        .with_precision_and_scale(18, 2)
        .map_err(|e| format(e.to_string()))?;
    for ((s, t, c), (units, cents)) in rows {
        state.append_value(s);
        pizza_type.append_value(t);
        customer_id.append_value(c);
        pizzas.append_value(units);
        gross.append_value(cents);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(state.finish()),
        Arc::new(pizza_type.finish()),
        Arc::new(customer_id.finish()),
        Arc::new(pizzas.finish()),
        Arc::new(gross.finish()),
    ];
    RecordBatch::try_new(rollup_schema(), columns).map_err(|e| format(e.to_string()))
}

/// The roll-up of `orders` as a Parquet file.
pub fn rollup_file(orders: &RecordBatch) -> Result<Bytes, LakeError> {
    write_parquet(&roll_up(orders)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customers::Customer;
    use crate::enrich::EnrichedOrder;
    use crate::lake::parquet::to_record_batch;
    use crate::order::{OrderEvent, PizzaType};

    fn order(id: i64, customer: Option<(i64, &str)>, pizza: PizzaType, qty: i32) -> EnrichedOrder {
        let at = "2026-01-10T10:00:00Z".parse().unwrap();
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
            stream_partition: "0".into(),
            stream_seq: id,
            enriched_at: at,
        }
    }

    #[test]
    fn sums_per_state_type_and_customer_and_skips_unknown_customers() {
        let rows = [
            order(1, Some((7, "TX")), PizzaType::Cheese, 2),
            order(2, Some((7, "TX")), PizzaType::Cheese, 3),
            order(3, Some((7, "TX")), PizzaType::Veggie, 1),
            order(4, Some((8, "MN")), PizzaType::Cheese, 1),
            order(5, None, PizzaType::Cheese, 9),
        ];
        let refs: Vec<&EnrichedOrder> = rows.iter().collect();
        let rolled = roll_up(&to_record_batch(&refs)).unwrap();
        let states = rolled.column(0).as_string::<i32>();
        let types = rolled.column(1).as_string::<i32>();
        let customers = rolled.column(2).as_primitive::<Int64Type>();
        let pizzas = rolled.column(3).as_primitive::<Int64Type>();
        let gross = rolled.column(4).as_primitive::<Decimal128Type>();
        let got: Vec<_> = (0..rolled.num_rows())
            .map(|i| {
                (
                    states.value(i).to_string(),
                    types.value(i).to_string(),
                    customers.value(i),
                    pizzas.value(i),
                    gross.value(i),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("MN".into(), "cheese".into(), 8, 1, 1001 + 4),
                ("TX".into(), "cheese".into(), 7, 5, 2002 + 1 + 3003 + 2),
                ("TX".into(), "veggie".into(), 7, 1, 1001 + 3),
            ]
        );
    }

    #[test]
    fn a_rollup_is_named_after_its_compacted_file() {
        assert_eq!(
            rollup_path_for(
                "orders_enriched/order_date=2026-01-10/compacted-20260111T020000123456.parquet"
            )
            .as_deref(),
            Some(
                "orders_daily_customers/order_date=2026-01-10/rollup-20260111T020000123456.parquet"
            )
        );
        assert_eq!(
            rollup_path_for("orders_enriched/order_date=2026-01-10/p0-1-2.parquet"),
            None
        );
    }
}
