-- ledger_lake: per UTC order day, what landed in the lake and what of it the report
-- counts: the lake's half of the ledger (src/ledger; the door's half is
-- sql/sqlite/ledger_door.sql, and the Synapse twin of this query is dbo.ledger in
-- sql/synapse/06_ledger.sql).
--
-- Parameters: $1 window_start, $2 window_end of the report served now ([start, end) on
-- order_ts; the same instant twice when there is no report).
-- {{day_files}}: the Parquet files of the days asked for. Each order_id counts once, the
-- first version received (first_received, sql/duckdb/orders_enriched.sql).
--
-- generated: orders the generator wrote straight into the lake (stream_partition
-- 'generated': generate-lake, dev --demo-history); they never passed the door.
--
-- landed = in_report + unknown_customer + no_population_row + outside_report_window. Each
-- is counted on its own, with the report's own rules (a found customer in a state of the
-- population table, inside the window), so an order in none of them, or in two,
-- unbalances its day instead of vanishing into a difference.
SELECT o.order_date,
       count(*) AS landed,
       count(*) FILTER (WHERE o.stream_partition = 'generated') AS generated,
       count(*) FILTER (WHERE NOT o.customer_found) AS unknown_customer,
       count(*) FILTER (WHERE o.customer_found AND p.state_code IS NULL) AS no_population_row,
       count(*) FILTER (WHERE o.customer_found AND p.state_code IS NOT NULL
                          AND (o.order_ts < $1::TIMESTAMPTZ OR o.order_ts >= $2::TIMESTAMPTZ))
           AS outside_report_window,
       count(*) FILTER (WHERE o.customer_found AND p.state_code IS NOT NULL
                          AND o.order_ts >= $1::TIMESTAMPTZ AND o.order_ts < $2::TIMESTAMPTZ)
           AS in_report
FROM first_received({{day_files}}) AS o
LEFT JOIN adult_population AS p ON p.state_code = o.state
GROUP BY o.order_date
ORDER BY o.order_date;
