-- state_top_pizzas, recomputed: the report's SQL definition in T-SQL (CONTRACT §6,
-- docs/REPORT.md), straight from the order rows, as the independent check of the report
-- core (src/summary/build.rs), which computes the published report from the daily
-- roll-ups. The Synapse twin of sql/duckdb/state_top_pizzas_check.sql; the weekly
-- verification (functions/verify_state_summary) runs it and compares every figure
-- (tests/it/synapse_summary_matches_duckdb.rs runs it in DuckDB against the core).
--
-- Run in: pizza_warehouse, after 02-04. One batch: a SELECT, nothing is written.
-- Columns, in this order: state, state_name, rank, pizza_type, pizzas_sold, gross sales
-- in cents, per-adult sales in micro-dollars (integers, exact), unique_customers,
-- adult_population.
--
-- Placeholders (replaced by the adapter; each value is validated before substitution and
-- none can contain a quote):
--   {{window_start}}  window start, UTC, as YYYY-MM-DDTHH:MM:SS.ffffff (exactly 6 decimals)
--   {{window_end}}    window end (exclusive), UTC, same format; the window is
--                     [window_start, window_end) on order_ts.
--   {{first_day}}     first UTC day (YYYY-MM-DD) whose partition overlaps the window
--   {{last_day}}      last such day (ReportWindow::utc_days()); first_day > last_day for an
--                     empty window, which then reads no file.
--
-- Cost follows the window: only the day partitions of [first_day, last_day] are listed and
-- read (the filepath(1) filter of dbo.orders_first_received, called with literal days), and
-- de-duplication happens among those rows only. That is exact because every copy of an
-- order_id lives in the partition of its own order day.
--
-- Money: gross sales are the exact DECIMAL(18, 2) sum, returned in cents; per-adult sales
-- are exact to the micro-dollar, rounded half up with integer arithmetic (all values >= 0):
-- round(cents * 10^4 / adults) = (2 * cents * 10^4 + adults) / (2 * adults), where / on
-- BIGINT operands is integer division in T-SQL.
WITH window_orders AS (
    -- each order_id once, the first version received (dbo.orders_first_received, 03);
    -- half-open window; only orders whose customer was found count
    SELECT customer_id, pizza_type, qty, retail_price, state
    FROM dbo.orders_first_received('{{first_day}}', '{{last_day}}')
    WHERE order_ts >= CAST('{{window_start}}' AS DATETIME2(6))
      AND order_ts <  CAST('{{window_end}}' AS DATETIME2(6))
      AND customer_found = 1
),

state_pizza_sales AS (
    -- inner join: states outside the population table are not reported
    SELECT o.state,
           o.pizza_type,
           CAST(SUM(CAST(o.qty AS BIGINT)) AS BIGINT)      AS pizzas_sold,
           CAST(SUM(o.retail_price) AS DECIMAL(18, 2))    AS gross_sales_usd,
           CAST(COUNT(DISTINCT o.customer_id) AS BIGINT)  AS unique_customers
    FROM window_orders AS o
    JOIN dbo.adult_population AS p ON p.state_code = o.state
    GROUP BY o.state, o.pizza_type
),

ranked AS (
    SELECT *,
           ROW_NUMBER() OVER (
               PARTITION BY state
               ORDER BY pizzas_sold DESC, gross_sales_usd DESC, pizza_type ASC
           ) AS rank
    FROM state_pizza_sales
)

SELECT r.state,
       p.state_name,
       CAST(r.rank AS INT)                                AS rank,
       r.pizza_type,
       r.pizzas_sold,
       CAST(r.gross_sales_usd * 100 AS BIGINT)            AS gross_sales_cents,
       (CAST(r.gross_sales_usd * 100 AS BIGINT) * 20000 + p.adult_population)
           / (2 * p.adult_population)                     AS per_capita_micro_usd,
       r.unique_customers,
       p.adult_population
FROM ranked AS r
JOIN dbo.adult_population AS p ON p.state_code = r.state
WHERE r.rank <= 3
ORDER BY r.state, r.rank;
