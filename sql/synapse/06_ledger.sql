-- dbo.ledger_between: per UTC order day, what landed in the lake and what of it a report
-- of [@window_start, @window_end) counts: the SQL definition of the lake's half of the
-- books (CONTRACT §10, docs/OPERATIONS.md). The Synapse twin of sql/duckdb/ledger.sql, with
-- the same columns and the same rules (tests/it/synapse_summary_matches_duckdb.rs runs it in
-- DuckDB against the embedded books and the report core's).
--
-- Run in: pizza_warehouse, after 03 and 04. One batch, no parameters, no placeholders.
-- What Power BI reads is dbo.ledger, the books each nightly build publishes
-- (05_publish_state_summary.sql): this function is the operators' check of them, e.g.
--   SELECT * FROM dbo.ledger_between('2025-11-25', '2026-11-25') EXCEPT
--   SELECT order_date, accepted, duplicates, conflicts, not_yet_landed, landed, ... FROM dbo.ledger
-- on the lake's columns (docs/OPERATIONS.md, "The books in Azure"). Only the admin and the
-- Function App can run it: it reads the lake with OPENROWSET.
--
-- The door's columns (accepted, duplicates, conflicts, not yet landed) are NULL here: a
-- query over the lake sees each order once (dbo.orders_enriched keeps the first received),
-- so only compaction, which reads every copy, counts repeats (dbo.ledger has them).
--
-- landed = in_report + unknown_customer + no_population_row + outside_report_window, each
-- counted on its own with the report's rules (a found customer, in a state of the population
-- table, inside [window_start, window_end) on order_ts). generated: orders the generator
-- wrote straight into the lake (stream_partition 'generated'), which never passed the door.
--
-- Cost: it reads all history (every day partition) each time it is queried.
CREATE OR ALTER FUNCTION dbo.ledger_between(@window_start DATETIME2(6), @window_end DATETIME2(6))
RETURNS TABLE
AS
RETURN (
    SELECT o.order_date,
           CAST(NULL AS BIGINT) AS accepted,
           CAST(NULL AS BIGINT) AS duplicates,
           CAST(NULL AS BIGINT) AS conflicts,
           CAST(NULL AS BIGINT) AS not_yet_landed,
           CAST(COUNT(*) AS BIGINT) AS landed,
           CAST(SUM(CASE WHEN o.stream_partition = 'generated' THEN 1 ELSE 0 END) AS BIGINT)
               AS generated,
           CAST(SUM(CASE WHEN o.customer_found = 0 THEN 1 ELSE 0 END) AS BIGINT)
               AS unknown_customer,
           CAST(SUM(CASE WHEN o.customer_found = 1 AND p.state_code IS NULL THEN 1 ELSE 0 END)
                AS BIGINT) AS no_population_row,
           CAST(SUM(CASE WHEN o.customer_found = 1 AND p.state_code IS NOT NULL
                          AND (o.order_ts < @window_start OR o.order_ts >= @window_end)
                         THEN 1 ELSE 0 END) AS BIGINT) AS outside_report_window,
           CAST(SUM(CASE WHEN o.customer_found = 1 AND p.state_code IS NOT NULL
                          AND o.order_ts >= @window_start AND o.order_ts < @window_end
                         THEN 1 ELSE 0 END) AS BIGINT) AS in_report
    FROM dbo.orders_enriched AS o
    LEFT JOIN dbo.adult_population AS p ON p.state_code = o.state
    GROUP BY o.order_date
);
