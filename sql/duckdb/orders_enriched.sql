-- orders_enriched: every order ever landed in the lake, each order_id once.
--
-- first_received(files) is the one home in DuckDB of the rule of CONTRACT §5: landing is
-- at-least-once (a retried batch may land twice), so per order_id the first version
-- received wins, by received_at and then stream_seq. The view below and the report
-- (state_top_pizzas.sql, for days not yet compacted) both read through it; compaction
-- applies the same rule in Rust (src/lake/compaction.rs, first_received_per_order), and
-- Synapse in sql/synapse/03_orders_enriched.sql. `files` is a path, a glob or a list of
-- them, under order_date=YYYY-MM-DD folders.
CREATE OR REPLACE MACRO first_received(files) AS TABLE
SELECT *
FROM read_parquet(files, hive_partitioning = true, hive_types = {'order_date': DATE})
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY received_at, stream_seq) = 1;

-- The view reads the lake directly: an order is queryable here the moment its Parquet
-- file is renamed into place.
--
-- {{lake_glob}}: the lake's orders_enriched/*/*.parquet pattern (or, before the first
-- order lands, a zero-row file of the same schema).
CREATE OR REPLACE VIEW orders_enriched AS
SELECT
    order_id,
    customer_id,
    pizza_type,
    qty,
    retail_price,
    order_ts,
    customer_found,
    customer_name,
    address,
    city,
    state,
    zip_code,
    received_at,
    enriched_at,
    order_date,
    stream_partition,
    stream_seq
FROM first_received({{lake_glob}});
