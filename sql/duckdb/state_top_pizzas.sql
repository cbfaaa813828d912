-- state_top_pizzas: per US state, the top 3 pizza types of the report window (CONTRACT §6).
--
-- Parameters: $1 window_start, $2 window_end (UTC, the window is [start, end)),
--             $3 refreshed_at.
-- The Parquet files of the day partitions that overlap the window are the only files
-- read, so the cost follows the window, not all history. They come in four lists:
-- {{rollup_files}}: for compacted days that lie wholly inside the window, their daily
--   customer roll-up (lake/orders_daily_customers/, written with the compacted file):
--   one row per (state, type, found customer) with the day's units and gross;
-- {{whole_day_files}}: compacted days that lie wholly inside the window but have no
--   roll-up (yet). Compaction
--   already kept one row per order_id, and a day folder holds only orders of its own UTC
--   day (landing and compaction partition by order_ts), so every row counts: neither
--   de-duplication nor the time filter is needed, and order_ts is not even read;
-- {{edge_day_files}}: compacted days the window cuts (its first and last UTC day, when
--   the window's ends are not UTC midnights) — filtered on order_ts;
-- {{mixed_files}}: days with several files (batches landed since) — de-duplicated and
--   filtered here.
-- Each order_id lives in the partition of its own order day, so de-duplicating within
-- a day is de-duplicating the whole lake.
--
-- One statement: CREATE OR REPLACE is atomic, readers see the old table or the new one.
CREATE OR REPLACE TABLE state_top_pizzas AS
WITH whole_days AS (
    SELECT customer_id, pizza_type, qty, retail_price, customer_found, state
    FROM read_parquet({{whole_day_files}})
),

edge_days AS (
    SELECT customer_id, pizza_type, qty, retail_price, customer_found, state
    FROM read_parquet({{edge_day_files}})
    WHERE order_ts >= $1::TIMESTAMPTZ
      AND order_ts <  $2::TIMESTAMPTZ
),

mixed_days AS (
    -- each order_id once, the first version received (first_received, defined with the
    -- orders_enriched view); then the half-open window
    SELECT customer_id, pizza_type, qty, retail_price, customer_found, state
    FROM first_received({{mixed_files}})
    WHERE order_ts >= $1::TIMESTAMPTZ
      AND order_ts <  $2::TIMESTAMPTZ
),

window_orders AS (
    -- only orders whose customer was found count
    SELECT * FROM (
        SELECT * FROM whole_days
        UNION ALL
        SELECT * FROM edge_days
        UNION ALL
        SELECT * FROM mixed_days
    )
    WHERE customer_found
),

customer_sales AS (
    -- one row per (state, type, customer) first: counting those rows below gives the
    -- unique customers, which is cheaper than count(DISTINCT) over every order; the
    -- roll-ups are already sums per (state, type, customer) and day
    SELECT state,
           pizza_type,
           customer_id,
           sum(pizzas) AS pizzas,
           sum(gross)  AS gross
    FROM (
        SELECT state, pizza_type, customer_id, pizzas, gross
        FROM read_parquet({{rollup_files}})
        UNION ALL
        SELECT state, pizza_type, customer_id, qty AS pizzas, retail_price AS gross
        FROM window_orders
    )
    GROUP BY state, pizza_type, customer_id
),

state_pizza_sales AS (
    -- inner join: states outside the population table are not reported
    SELECT c.state,
           c.pizza_type,
           sum(c.pizzas)::BIGINT AS pizzas_sold,
           sum(c.gross)          AS gross_sales_usd,
           count(*)              AS unique_customers
    FROM customer_sales AS c
    JOIN adult_population AS p ON p.state_code = c.state
    GROUP BY c.state, c.pizza_type
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
