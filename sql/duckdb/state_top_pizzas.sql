-- state_top_pizzas: per US state, the top 3 pizza types of the report window (SPEC §6).
--
-- Parameters: $1 window_start, $2 window_end (UTC, the window is [start, end)),
--             $3 refreshed_at.
-- The Parquet files of the day partitions that overlap the window are the only files
-- read, so the cost follows the window, not all history. They come in two lists:
-- {{compacted_files}}: days whose only file is a compacted one — compaction already
--   kept one row per order_id, so these need no de-duplication (the common case: the
--   refresh compacts the window first);
-- {{mixed_files}}: days with several files (batches landed since) — de-duplicated here.
-- Each order_id lives in the partition of its own order day, so de-duplicating within
-- a day is de-duplicating the whole lake.
--
-- One statement: CREATE OR REPLACE is atomic, readers see the old table or the new one.
CREATE OR REPLACE TABLE state_top_pizzas AS
WITH compacted_days AS (
    SELECT customer_id, pizza_type, qty, retail_price, order_ts, customer_found, state
    FROM read_parquet({{compacted_files}})
),

mixed_days AS (
    -- each order_id once: the first version received wins
    SELECT customer_id, pizza_type, qty, retail_price, order_ts, customer_found, state
    FROM read_parquet({{mixed_files}})
    QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY received_at, stream_seq) = 1
),

first_received AS (
    SELECT * FROM compacted_days
    UNION ALL
    SELECT * FROM mixed_days
),

window_orders AS (
    -- half-open window; only orders whose customer was found count
    SELECT *
    FROM first_received
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
       r.rank::INTEGER                                   AS rank,
       r.pizza_type,
       r.pizzas_sold,
       r.gross_sales_usd::DECIMAL(18, 2)                 AS gross_sales_usd,
       -- exact to the micro-dollar, rounded half up (every value is >= 0):
       -- round(cents * 10^4 / adults) = floor((2 * cents * 10^4 + adults) / (2 * adults))
       ((((r.gross_sales_usd * 100)::HUGEINT * 20000 + p.adult_population)
            // (2 * p.adult_population))::DECIMAL(18, 0) * 0.000001)::DECIMAL(18, 6)
                                                         AS gross_sales_per_capita_usd,
       r.unique_customers,
       p.adult_population,
       $1::TIMESTAMPTZ                                   AS window_start,
       $2::TIMESTAMPTZ                                   AS window_end,
       $3::TIMESTAMPTZ                                   AS refreshed_at
FROM ranked AS r
JOIN adult_population AS p ON p.state_code = r.state
WHERE r.rank <= 3
ORDER BY r.state, r.rank;
