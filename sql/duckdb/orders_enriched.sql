-- orders_enriched: every order ever landed in the lake, each order_id once.
--
-- Landing is at-least-once (a retried batch may land twice), so the view keeps, per
-- order_id, the first version received (CONTRACT §5). It reads the lake directly: an order
-- is queryable here the moment its Parquet file is renamed into place.
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
FROM read_parquet({{lake_glob}}, hive_partitioning = true, hive_types = {'order_date': DATE})
QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY received_at, stream_seq) = 1;
