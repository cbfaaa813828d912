-- state_top_pizzas: per US state, the top 3 pizza types of the report window (CONTRACT §6).
-- The Synapse twin of sql/duckdb/state_top_pizzas.sql; the report SELECT below is that
-- file's CTE chain in T-SQL (tests/synapse_summary_matches_duckdb.rs runs it in DuckDB
-- against the embedded build and requires identical rows).
--
-- Run in: pizza_warehouse, after 02-04 and 06, once per refresh (e.g. nightly at 02:00).
-- Four batches, split on lines that contain only GO, run in order on one connection:
--   1. CETAS: compute the report into a new external table dbo.state_top_pizzas_<run_id>,
--      whose Parquet files go to <lake>/reports/state_top_pizzas/run=<run_id>/.
--   2. CREATE OR ALTER VIEW dbo.state_top_pizzas over that table: the switch is one
--      metadata change, so a dashboard (SELECT ... FROM dbo.state_top_pizzas WHERE
--      state = 'TX') sees the previous run or this one, never a mix or an empty table.
--   3. CREATE OR ALTER VIEW dbo.ledger: the books (06_ledger.sql) count against this
--      report's window from now on.
--   4. DROP EXTERNAL TABLE for older runs. That removes metadata only: their Parquet files
--      stay in the lake (a storage lifecycle rule or the adapter deletes old run= folders;
--      nothing reads them any more).
-- If batch 1 fails nothing changed; if 2 fails the old report is still served; if 3 fails
-- the books count against the previous window until the next build; a failure in 4 leaves
-- an extra table behind for the next run to drop. Refreshes must not overlap (the
-- Functions timer runs as a singleton; an on-demand refresh must take the same lock). A
-- retry needs a new run_id: CETAS refuses an existing table or a non-empty folder. If
-- compaction replaces a file while batch 1 reads it, the batch fails and can be retried.
--
-- Placeholders (replaced by the adapter; each value is validated before substitution and
-- none can contain a quote):
--   {{run_id}}        the run's UTC start, YYYYMMDDTHHMMSS[ffffff]Z, e.g.
--                     20261125T020000123456Z: only [0-9A-Z], so it is a valid bare
--                     identifier suffix and path segment; one fixed width per deployment,
--                     so names sort by time (batch 4 relies on it).
--   {{window_start}}  window start, UTC, as YYYY-MM-DDTHH:MM:SS.ffffff (exactly 6 decimals)
--   {{window_end}}    window end (exclusive), UTC, same format; the window is
--                     [window_start, window_end) on order_ts.
--   {{refreshed_at}}  when this build started, UTC, same format (stored in every row).
--   {{first_day}}     first UTC day (YYYY-MM-DD) whose partition overlaps the window
--   {{last_day}}      last such day (ReportWindow::utc_days()); first_day > last_day for an
--                     empty window, which then reads no file.
--
-- Why literals and not @P1..@P3: the adapter's parameters would reach the server through
-- sp_executesql, and nothing in the Synapse documentation says that CREATE EXTERNAL TABLE AS
-- SELECT accepts variables or parameters: its documented grammar is
-- AS [WITH <common_table_expression>] SELECT <select_criteria>, and every example of it in
-- the serverless pages uses literals (learn.microsoft.com: "CETAS with Synapse SQL",
-- azure/synapse-analytics/sql/develop-tables-cetas, and "CREATE EXTERNAL TABLE AS SELECT
-- (Transact-SQL)"). Literals also keep the filepath() filter the plain comparison with
-- constants that the docs show for choosing partitions. So the adapter substitutes
-- validated ISO-8601 literals; CAST('...' AS DATETIME2(6)) reads that format the same under
-- any language or DATEFORMAT setting. The serverless CETAS page has also said that the
-- SELECT of a CETAS does not support ORDER BY: readers order (ORDER BY state, rank).
--
-- Cost follows the window: only the day partitions of [first_day, last_day] are listed and
-- read (the filepath(1) filter of dbo.orders_first_received, called with literal days), and
-- de-duplication happens among those rows only. That is
-- exact because every copy of an order_id lives in the partition of its own order day (the
-- same assumption as the DuckDB build).
--
-- Money: gross_sales_usd is the exact DECIMAL(18, 2) sum; gross_sales_per_capita_usd is
-- exact to the micro-dollar, rounded half up with integer arithmetic (all values >= 0):
-- round(cents * 10^4 / adults) = (2 * cents * 10^4 + adults) / (2 * adults), where / on
-- BIGINT operands is integer division in T-SQL. BIGINT holds it up to 4.6 * 10^14 cents
-- per state and type.
CREATE EXTERNAL TABLE dbo.state_top_pizzas_{{run_id}}
WITH (
    LOCATION = 'reports/state_top_pizzas/run={{run_id}}/',
    DATA_SOURCE = pizza_lake,
    FILE_FORMAT = parquet_snappy
)
AS
WITH first_received AS (
    -- each order_id once, the first version received (dbo.orders_first_received, 03), read
    -- from the day partitions that overlap the window, nothing else
    SELECT customer_id, pizza_type, qty, retail_price, order_ts, customer_found, state
    FROM dbo.orders_first_received('{{first_day}}', '{{last_day}}')
),

window_orders AS (
    -- half-open window; only orders whose customer was found count
    SELECT *
    FROM first_received
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
       CAST(r.rank AS INT)                              AS rank,
       r.pizza_type,
       r.pizzas_sold,
       CAST(r.gross_sales_usd AS DECIMAL(18, 2))        AS gross_sales_usd,
       CAST(CAST((CAST(r.gross_sales_usd * 100 AS BIGINT) * 20000 + p.adult_population)
                 / (2 * p.adult_population) AS DECIMAL(18, 0)) * 0.000001 AS DECIMAL(18, 6))
                                                        AS gross_sales_per_capita_usd,
       r.unique_customers,
       p.adult_population,
       CAST('{{window_start}}' AS DATETIME2(6))         AS window_start,
       CAST('{{window_end}}' AS DATETIME2(6))           AS window_end,
       CAST('{{refreshed_at}}' AS DATETIME2(6))         AS refreshed_at
FROM ranked AS r
JOIN dbo.adult_population AS p ON p.state_code = r.state
WHERE r.rank <= 3;
GO
CREATE OR ALTER VIEW dbo.state_top_pizzas AS
SELECT state, state_name, rank, pizza_type, pizzas_sold, gross_sales_usd,
       gross_sales_per_capita_usd, unique_customers, adult_population,
       window_start, window_end, refreshed_at
FROM dbo.state_top_pizzas_{{run_id}};
GO
-- The books count against this report's window (sql/synapse/06_ledger.sql).
CREATE OR ALTER VIEW dbo.ledger AS
SELECT *
FROM dbo.ledger_between(CAST('{{window_start}}' AS DATETIME2(6)),
                        CAST('{{window_end}}' AS DATETIME2(6)));
GO
-- Older runs only (their names sort before this run's): a run never drops a newer one.
DECLARE @drop_older_runs NVARCHAR(MAX);
SELECT @drop_older_runs = STRING_AGG(
           CAST(N'DROP EXTERNAL TABLE dbo.' + QUOTENAME(t.name) AS NVARCHAR(MAX)), N'; ')
FROM sys.external_tables AS t
WHERE t.schema_id = SCHEMA_ID(N'dbo')
  AND t.name LIKE N'state[_]top[_]pizzas[_]%'
  AND t.name < N'state_top_pizzas_{{run_id}}';
IF @drop_older_runs IS NOT NULL
    EXEC sp_executesql @drop_older_runs;
