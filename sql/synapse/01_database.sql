-- pizza_warehouse: the Synapse serverless SQL database over the lake (CONTRACT §5-§6).
--
-- Run in: master (the only file that does). Idempotent.
-- Placeholders: none.
--
-- UTF-8 binary collation: Parquet strings are UTF-8, so no conversion is needed when they
-- are read as VARCHAR, string filters are cheapest, and ORDER BY pizza_type sorts by code
-- point exactly as DuckDB does in the embedded warehouse.
IF DB_ID(N'pizza_warehouse') IS NULL
    CREATE DATABASE pizza_warehouse COLLATE Latin1_General_100_BIN2_UTF8;
