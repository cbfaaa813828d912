-- state_top_pizzas, recomputed: the report's SQL definition (CONTRACT §6, docs/REPORT.md),
-- straight from the order rows, as the independent check of the report core
-- (src/summary/build.rs), which computes the published report from the daily roll-ups.
-- `refresh --verify` runs it over the very files the core's report reflects and compares
-- every figure; the Synapse twin is sql/synapse/07_verify_state_summary.sql.
--
-- Parameters: $1 window_start, $2 window_end (UTC, the window is [start, end)).
-- {{day_files}}: the order files of the window's days. Each order_id counts once, the
-- first version received (first_received, sql/duckdb/orders_enriched.sql).
-- Columns, in this order: state, state_name, rank, pizza_type, pizzas_sold, gross sales in
-- cents, per-adult sales in micro-dollars (integers, exact), unique_customers,
-- adult_population.
WITH window_orders AS (
    -- the half-open window; only orders whose customer was found count
    SELECT customer_id, pizza_type, qty, retail_price, state
    FROM first_received({{day_files}})
    WHERE order_ts >= $1::TIMESTAMPTZ
      AND order_ts <  $2::TIMESTAMPTZ
      AND customer_found
),

state_pizza_sales AS (
    -- inner join: states outside the population table are not reported
    SELECT o.state,
           o.pizza_type,
           sum(o.qty)::BIGINT              AS pizzas_sold,
           sum(o.retail_price)             AS gross_sales_usd,
           count(DISTINCT o.customer_id)   AS unique_customers
    FROM window_orders AS o
    JOIN adult_population AS p ON p.state_code = o.state
    GROUP BY o.state, o.pizza_type
),

ranked AS (
    SELECT *,
           row_number() OVER (
               PARTITION BY state
               ORDER BY pizzas_sold DESC, gross_sales_usd DESC, pizza_type ASC
           ) AS rank
    FROM state_pizza_sales
)

SELECT r.state,
       p.state_name,
       r.rank::INTEGER                                        AS rank,
       r.pizza_type,
       r.pizzas_sold,
       (r.gross_sales_usd * 100)::BIGINT                      AS gross_sales_cents,
       -- exact to the micro-dollar, rounded half up (every value is >= 0):
       -- round(cents * 10^4 / adults) = floor((2 * cents * 10^4 + adults) / (2 * adults))
       (((r.gross_sales_usd * 100)::HUGEINT * 20000 + p.adult_population)
            // (2 * p.adult_population))::BIGINT              AS per_capita_micro_usd,
       r.unique_customers::BIGINT                             AS unique_customers,
       p.adult_population
FROM ranked AS r
JOIN adult_population AS p ON p.state_code = r.state
WHERE r.rank <= 3
ORDER BY r.state, r.rank;
