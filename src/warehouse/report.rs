//! Reading the warehouse back: report rows and single orders, as the API serves them.
//!
//! Money leaves DuckDB as integers (cents, micro-dollars) so nothing is lost in
//! transit; it becomes a JSON number only at the very edge (`summary::ReportRow`).

use super::{db_error, WarehouseError};
use crate::summary::ReportRow;
use chrono::{DateTime, Utc};
use duckdb::{params, Connection};

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
