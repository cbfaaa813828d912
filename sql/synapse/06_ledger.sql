-- dbo.ledger_between and dbo.ledger: per UTC order day, what landed in the lake and what of
-- it the report counts: the lake's half of the books (CONTRACT §10, docs/OPERATIONS.md). The
-- Synapse twin of sql/duckdb/ledger.sql, with the same columns and the same rules
-- (tests/synapse_summary_matches_duckdb.rs runs it in DuckDB against the embedded ledger).
--
-- Run in: pizza_warehouse, after 03 and 04. Two batches, no parameters, no placeholders.
-- 05_build_state_summary.sql switches dbo.ledger to each new report's window, in the same
-- run that switches dbo.state_top_pizzas; until the first build it counts against an empty
-- window (every landed order is then outside it).
--
-- The door's half of the books (accepted, duplicates, conflicts, not yet landed) is unknown
-- in Azure: Event Hubs keeps no door-side index of order_ids. Those columns are here, NULL,
-- so a report shows "unknown" and never 0.
--
-- landed = in_report + unknown_customer + no_population_row + outside_report_window, each
-- counted on its own with the report's rules (a found customer, in a state of the population
-- table, inside [window_start, window_end) on order_ts). generated: orders the generator
-- wrote straight into the lake (stream_partition 'generated'), which never passed the door.
--
-- Cost: the view reads all history (every day partition) each time it is queried; Power
-- BI's Import mode does that once per refresh.
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
GO
CREATE OR ALTER VIEW dbo.ledger AS
SELECT *
FROM dbo.ledger_between(CAST('1970-01-01T00:00:00.000000' AS DATETIME2(6)),
                        CAST('1970-01-01T00:00:00.000000' AS DATETIME2(6)));
