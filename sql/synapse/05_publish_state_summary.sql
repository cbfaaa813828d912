-- state_top_pizzas and ledger: publish one build of the report, and its books, to Power
-- BI (CONTRACT §6, §10). The report core (src/summary/build.rs) computes the report from
-- the daily roll-ups and writes it as one Parquet file,
-- reports/state_top_pizzas/run={{run_id}}/state_top_pizzas.parquet, and the books of the
-- window's days as another, reports/ledger/run={{run_id}}/ledger.parquet
-- (src/ledger/file.rs); this script only makes Synapse show them. The report's own SQL
-- definition in T-SQL is 07_verify_state_summary.sql, which the scheduled verification
-- compares with the core; the books' lake half has its definition in 06_ledger.sql.
--
-- Run in: pizza_warehouse, after 02-04 and 06, once per build, by the Function App.
-- Five batches, split on lines that contain only GO, run in order on one connection:
--   1. CREATE EXTERNAL TABLE dbo.state_top_pizzas_<run_id> over the report's run folder.
--      It reads no data: it declares the file's columns (src/summary/report.rs,
--      report_schema: Parquet columns bind by name).
--   2. CREATE EXTERNAL TABLE dbo.ledger_<run_id> over the books' run folder
--      (src/ledger/file.rs, books_schema).
--   3. CREATE OR ALTER VIEW dbo.state_top_pizzas over the report's table: the switch is
--      one metadata change, so a dashboard (SELECT ... FROM dbo.state_top_pizzas WHERE
--      state = 'TX') sees the previous run or this one, never a mix or an empty table.
--   4. CREATE OR ALTER VIEW dbo.ledger over the books' table, the same way.
--   5. DROP EXTERNAL TABLE for older runs of both: metadata only. The Function App removes
--      the files of runs older than the previous one.
-- If batch 1 or 2 fails nothing changed; if 3 fails the old report is still served; if 4
-- fails the books are the previous build's until the next one; a failure in 5 leaves
-- extra tables behind for the next run to drop. Builds do not overlap (one at a time in
-- the Function App). A retry needs a new run_id: the table names are taken.
--
-- Placeholders (replaced by the adapter; each value is validated before substitution and
-- none can contain a quote):
--   {{run_id}}        the run's UTC build time, YYYYMMDDTHHMMSSffffffZ, e.g.
--                     20261125T020000123456Z: only [0-9A-Z], so it is a valid bare
--                     identifier suffix and path segment; one fixed width, so names sort by
--                     time (batch 5 relies on it).
--
-- Readers of the views need SELECT on them only: the views and the external tables belong
-- to dbo, so SQL checks no permission on the tables (ownership chaining), and the tables
-- read storage with the data source's credential (docs/POWERBI.md). Readers need no
-- ADMINISTER DATABASE BULK OPERATIONS and no REFERENCES on the credential, which would let
-- them read the lake around the views with OPENROWSET.
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
CREATE EXTERNAL TABLE dbo.ledger_{{run_id}} (
    order_date            DATE,
    accepted              BIGINT,
    duplicates            BIGINT,
    conflicts             BIGINT,
    not_yet_landed        BIGINT,
    landed                BIGINT,
    generated             BIGINT,
    unknown_customer      BIGINT,
    no_population_row     BIGINT,
    outside_report_window BIGINT,
    in_report             BIGINT,
    stream_backlog        BIGINT,
    window_start          DATETIME2(6),
    window_end            DATETIME2(6),
    written_at            DATETIME2(6)
)
WITH (
    LOCATION = 'reports/ledger/run={{run_id}}/',
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
CREATE OR ALTER VIEW dbo.ledger AS
SELECT order_date, accepted, duplicates, conflicts, not_yet_landed, landed, generated,
       unknown_customer, no_population_row, outside_report_window, in_report,
       stream_backlog, window_start, window_end, written_at
FROM dbo.ledger_{{run_id}};
GO
-- Older runs only (their names sort before this run's): a run never drops a newer one.
DECLARE @drop_older_runs NVARCHAR(MAX);
SELECT @drop_older_runs = STRING_AGG(
           CAST(N'DROP EXTERNAL TABLE dbo.' + QUOTENAME(t.name) AS NVARCHAR(MAX)), N'; ')
FROM sys.external_tables AS t
WHERE t.schema_id = SCHEMA_ID(N'dbo')
  AND ((t.name LIKE N'state[_]top[_]pizzas[_]%' AND t.name < N'state_top_pizzas_{{run_id}}')
       OR (t.name LIKE N'ledger[_]%' AND t.name < N'ledger_{{run_id}}'));
IF @drop_older_runs IS NOT NULL
    EXEC sp_executesql @drop_older_runs;
