-- dbo.orders_first_received and dbo.orders_enriched: every order ever landed in the lake,
-- each order_id once (CONTRACT §5). The Synapse twin of sql/duckdb/orders_enriched.sql,
-- with the same columns and the same rule.
--
-- Run in: pizza_warehouse, after 02. Two batches (the function, then the view over it), no
-- parameters, no placeholders.
--
-- dbo.orders_first_received(@first_day, @last_day) is the one home in Synapse of the rule:
-- landing is at-least-once (a retried batch may land twice), so per order_id the first
-- version received wins, ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY received_at,
-- stream_seq) = 1, exactly like first_received in DuckDB and first_received_per_order in
-- Rust (compaction). It reads the day partitions from @first_day to @last_day
-- (YYYY-MM-DD) only; the view reads them all, and 05_build_state_summary.sql the window's.
-- An order is visible here as soon as its Parquet file is in the lake.
--
-- The WITH clause is the Parquet schema of src/lake/parquet.rs (Parquet columns bind by
-- name, case-sensitively): Int64 -> BIGINT, Int32 -> INT, Decimal128(18,2) ->
-- DECIMAL(18, 2), Boolean -> BIT, UTC microsecond timestamps -> DATETIME2(6) holding UTC,
-- Utf8 -> VARCHAR (UTF-8 collation of the database; the lengths are those of
-- sql/azure_sql/customers.sql in UTF-8 bytes). order_date comes from the folder name
-- (order_date=YYYY-MM-DD) through filepath(1), as DuckDB reads it from the Hive partition.
--
-- Partition pruning: the filepath(1) filter sits next to the OPENROWSET, below the window
-- function, so it is evaluated before files are opened. An inline table-valued function is
-- expanded into the query that calls it, with its arguments in place of the parameters, so
-- a call with literal days (as 05 makes) is the plain comparison with constants that the
-- serverless documentation shows for choosing partitions. A filter on the view's
-- order_date instead sits above the window function (partitioned by order_id alone) and
-- does not prune; that is why 05 calls the function and not the view.
CREATE OR ALTER FUNCTION dbo.orders_first_received(@first_day VARCHAR(10), @last_day VARCHAR(10))
RETURNS TABLE
AS
RETURN (
    SELECT
        v.order_id,
        v.customer_id,
        v.pizza_type,
        v.qty,
        v.retail_price,
        v.order_ts,
        v.customer_found,
        v.customer_name,
        v.address,
        v.city,
        v.state,
        v.zip_code,
        v.received_at,
        v.enriched_at,
        v.order_date,
        v.stream_partition,
        v.stream_seq
    FROM (
        SELECT
            r.order_id,
            r.customer_id,
            r.pizza_type,
            r.qty,
            r.retail_price,
            r.order_ts,
            r.customer_found,
            r.customer_name,
            r.address,
            r.city,
            r.state,
            r.zip_code,
            r.received_at,
            r.enriched_at,
            CAST(r.filepath(1) AS DATE) AS order_date,
            r.stream_partition,
            r.stream_seq,
            ROW_NUMBER() OVER (PARTITION BY r.order_id ORDER BY r.received_at, r.stream_seq) AS version_rank
        FROM OPENROWSET(
            BULK 'orders_enriched/order_date=*/*.parquet',
            DATA_SOURCE = 'pizza_lake',
            FORMAT = 'PARQUET'
        ) WITH (
            order_id         BIGINT,
            customer_id      BIGINT,
            pizza_type       VARCHAR(16),
            qty              INT,
            retail_price     DECIMAL(18, 2),
            order_ts         DATETIME2(6),
            customer_found   BIT,
            customer_name    VARCHAR(800),
            address          VARCHAR(1600),
            city             VARCHAR(400),
            state            VARCHAR(2),
            zip_code         VARCHAR(10),
            received_at      DATETIME2(6),
            enriched_at      DATETIME2(6),
            stream_partition VARCHAR(64),
            stream_seq       BIGINT
        ) AS r
        WHERE r.filepath(1) >= @first_day
          AND r.filepath(1) <= @last_day
    ) AS v
    WHERE v.version_rank = 1
);
GO
CREATE OR ALTER VIEW dbo.orders_enriched AS
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
FROM dbo.orders_first_received('0001-01-01', '9999-12-31');
