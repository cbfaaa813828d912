//! Reading the warehouse back: report rows and single orders, as the API serves them.
//!
//! Money leaves DuckDB as integers (cents, micro-dollars) so nothing is lost in
//! transit; it becomes a JSON number only at the very edge, where the shortest
//! round-trip form of `cents / 100` is exactly the decimal with two places.

use super::{db_error, WarehouseError};
use chrono::{DateTime, Utc};
use duckdb::{params, Connection};
use serde::Serialize;
use serde_json::value::RawValue;

/// One row of `state_top_pizzas`. Its serde form (integers only) is the warehouse's
/// served copy; the API's form, with decimal money, is `to_json`.
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

/// The window and build time of the current report table.
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
}

fn ts(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// One report row from a query selecting, in this order: state, state_name, rank,
/// pizza_type, pizzas_sold, gross sales in cents, per-adult sales in micro-dollars,
/// unique_customers, adult_population, and window start, window end and refreshed at as
/// epoch microseconds.
pub fn report_row(r: &duckdb::Row<'_>) -> duckdb::Result<ReportRow> {
    Ok(ReportRow {
        state: r.get(0)?,
        state_name: r.get(1)?,
        rank: r.get(2)?,
        pizza_type: r.get(3)?,
        pizzas_sold: r.get(4)?,
        gross_sales_cents: r.get(5)?,
        per_capita_micro_usd: r.get(6)?,
        unique_customers: r.get(7)?,
        adult_population: r.get(8)?,
        window_start: ts(r.get(9)?),
        window_end: ts(r.get(10)?),
        refreshed_at: ts(r.get(11)?),
    })
}

pub(super) fn read_report(
    conn: &Connection,
    state: Option<&str>,
) -> Result<Vec<ReportRow>, WarehouseError> {
    let sql = "SELECT state, state_name, rank, pizza_type, pizzas_sold,
                      (gross_sales_usd * 100)::BIGINT,
                      (gross_sales_per_capita_usd * 1000000)::BIGINT,
                      unique_customers, adult_population,
                      epoch_us(window_start::TIMESTAMP), epoch_us(window_end::TIMESTAMP),
                      epoch_us(refreshed_at::TIMESTAMP)
               FROM state_top_pizzas
               WHERE $1::VARCHAR IS NULL OR state = $1::VARCHAR
               ORDER BY state, rank";
    let mut stmt = conn.prepare(sql).map_err(db_error("prepare report read"))?;
    let rows = stmt
        .query_map(params![state], report_row)
        .map_err(db_error("read report"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(db_error("read report row"))
}

/// One order from `source` (a relation with the `orders_enriched` columns) as JSON.
pub(super) fn order_as_json(
    conn: &Connection,
    source: &str,
    order_id: i64,
) -> Result<Option<serde_json::Value>, WarehouseError> {
    let sql = format!(
        "SELECT order_id, customer_id, pizza_type, qty, (retail_price * 100)::BIGINT,
                epoch_us(order_ts::TIMESTAMP), customer_found, customer_name, address, city, state,
                zip_code, epoch_us(received_at::TIMESTAMP), epoch_us(enriched_at::TIMESTAMP)
         FROM {source} WHERE order_id = $1"
    );
    let mut stmt = conn
        .prepare(&sql)
        .map_err(db_error("prepare order lookup"))?;
    let mut rows = stmt
        .query(params![order_id])
        .map_err(db_error("look up order"))?;
    let Some(r) = rows.next().map_err(db_error("read order"))? else {
        return Ok(None);
    };
    let get_ts =
        |i: usize| -> Result<String, duckdb::Error> { Ok(crate::order::format_ts(&ts(r.get(i)?))) };
    let read = || -> Result<serde_json::Value, duckdb::Error> {
        Ok(serde_json::json!({
            "order_id": r.get::<_, i64>(0)?,
            "customer_id": r.get::<_, i64>(1)?,
            "pizza_type": r.get::<_, String>(2)?,
            "qty": r.get::<_, i32>(3)?,
            "retail_price": r.get::<_, i64>(4)? as f64 / 100.0,
            "order_ts": get_ts(5)?,
            "customer_found": r.get::<_, bool>(6)?,
            "customer_name": r.get::<_, Option<String>>(7)?,
            "address": r.get::<_, Option<String>>(8)?,
            "city": r.get::<_, Option<String>>(9)?,
            "state": r.get::<_, Option<String>>(10)?,
            "zip_code": r.get::<_, Option<String>>(11)?,
            "received_at": get_ts(12)?,
            "enriched_at": get_ts(13)?,
        }))
    };
    read().map(Some).map_err(db_error("decode order"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_written_with_fixed_places_never_as_a_float() {
        assert_eq!(decimal(2598, 2).get(), "25.98");
        assert_eq!(decimal(1050, 2).get(), "10.50");
        assert_eq!(decimal(6, 6).get(), "0.000006");
        assert_eq!(decimal(0, 2).get(), "0.00");
        let row = ReportRow {
            state: "MN".into(),
            state_name: "Minnesota".into(),
            rank: 1,
            pizza_type: "pepperoni".into(),
            pizzas_sold: 2,
            gross_sales_cents: 2598,
            per_capita_micro_usd: 6,
            unique_customers: 1,
            adult_population: 4_494_094,
            window_start: DateTime::UNIX_EPOCH,
            window_end: DateTime::UNIX_EPOCH,
            refreshed_at: DateTime::UNIX_EPOCH,
        };
        let json = serde_json::to_string(&row.to_json()).unwrap();
        assert!(
            json.contains(r#""gross_sales_usd":25.98,"gross_sales_per_capita_usd":0.000006,"#),
            "{json}"
        );
    }
}
