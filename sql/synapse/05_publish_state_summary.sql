-- state_top_pizzas: publishes one build of the report to Power BI (CONTRACT §6). The
-- report core (src/summary/build.rs) computes the report from the daily roll-ups and
-- writes it as one Parquet file, reports/state_top_pizzas/run={{run_id}}/state_top_pizzas.parquet;
-- this script only makes Synapse show it. The report's own SQL definition in T-SQL is
-- 07_verify_state_summary.sql, which the scheduled verification compares with the core.
--
-- Run in: pizza_warehouse, after 02-04 and 06, once per build, by the Function App.
-- Four batches, split on lines that contain only GO, run in order on one connection:
--   1. CREATE EXTERNAL TABLE dbo.state_top_pizzas_<run_id> over the run's folder. It
--      reads no data: it declares the file's columns (src/summary/report.rs,
--      report_schema: Parquet columns bind by name).
--   2. CREATE OR ALTER VIEW dbo.state_top_pizzas over that table: the switch is one
--      metadata change, so a dashboard (SELECT ... FROM dbo.state_top_pizzas WHERE
--      state = 'TX') sees the previous run or this one, never a mix or an empty table.
--   3. CREATE OR ALTER VIEW dbo.ledger: the books (06_ledger.sql) count against this
--      report's window from now on.
--   4. DROP EXTERNAL TABLE for older runs: metadata only. The Function App removes the
--      files of runs older than the previous one.
-- If batch 1 fails nothing changed; if 2 fails the old report is still served; if 3 fails
-- the books count against the previous window until the next build; a failure in 4 leaves
-- an extra table behind for the next run to drop. Builds do not overlap (one at a time in
-- the Function App). A retry needs a new run_id: the table name is taken.
--
-- Placeholders (replaced by the adapter; each value is validated before substitution and
-- none can contain a quote):
--   {{run_id}}        the run's UTC build time, YYYYMMDDTHHMMSSffffffZ, e.g.
--                     20261125T020000123456Z: only [0-9A-Z], so it is a valid bare
--                     identifier suffix and path segment; one fixed width, so names sort by
--                     time (batch 4 relies on it).
--   {{window_start}}  window start, UTC, as YYYY-MM-DDTHH:MM:SS.ffffff (exactly 6 decimals)
--   {{window_end}}    window end (exclusive), UTC, same format.
--
-- Readers of the view need SELECT on it only: the view and the external table belong to
-- dbo, so SQL checks no permission on the table (ownership chaining), and the table reads
-- storage with the data source's credential (docs/POWERBI.md).
CREATE EXTERNAL TABLE dbo.state_top_pizzas_{{run_id}} (
    state                      VARCHAR(2),
    state_name                 VARCHAR(64),
    rank                       INT,
    pizza_type                 VARCHAR(16),
    pizzas_sold                BIGINT,
    gross_sales_usd            DECIMAL(18, 2),
    gross_sales_per_capita_usd DECIMAL(18, 6),
    unique_customers           BIGINT,
    adult_population           BIGINT,
    window_start               DATETIME2(6),
    window_end                 DATETIME2(6),
    refreshed_at               DATETIME2(6)
)
WITH (
    LOCATION = 'reports/state_top_pizzas/run={{run_id}}/',
    DATA_SOURCE = pizza_lake,
    FILE_FORMAT = parquet_snappy
);
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
