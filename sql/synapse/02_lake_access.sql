-- How pizza_warehouse reaches the lake: a master key, a credential that is the Synapse
-- workspace's managed identity, one external data source per container and the Parquet
-- file format that CETAS writes with.
--
-- Run in: pizza_warehouse. Idempotent: every object is created only if missing (to move
-- the lake, drop the data source and everything that uses it, then run 02-05 again).
-- Batches: split on lines that contain only GO; no parameters.
--
-- Placeholders (replaced by the adapter with validated values; none may contain a quote):
--   {{master_key_password}}  password protecting the database master key, which the
--                            credential needs. Used only when the key is first created
--                            (the key is also protected by the service master key, so the
--                            password is never asked for again): the adapter generates it
--                            at random, 32-128 characters of [A-Za-z0-9] with at least one
--                            upper-case letter, one lower-case letter and one digit, and
--                            never logs it.
--   {{lake_url}}             the lake container, e.g. https://<account>.dfs.core.windows.net/lake
--                            (the dfs endpoint: CETAS writes through it); validated as
--                            https://<3-24 of [a-z0-9]>.dfs.core.windows.net/<container>
--                            where <container> is 3-63 of [a-z0-9-]; no trailing slash.
--   {{reference_url}}        the container holding reference/adult_population_by_state.csv
--                            (may be the lake container itself); same validation.
--
-- The workspace identity needs the Storage Blob Data Contributor role on the lake
-- container (CETAS writes reports/…) and Storage Blob Data Reader on the reference one.
IF NOT EXISTS (SELECT * FROM sys.symmetric_keys WHERE name = N'##MS_DatabaseMasterKey##')
    CREATE MASTER KEY ENCRYPTION BY PASSWORD = '{{master_key_password}}';
GO
IF NOT EXISTS (SELECT * FROM sys.database_scoped_credentials WHERE name = N'pizza_workspace_identity')
    CREATE DATABASE SCOPED CREDENTIAL pizza_workspace_identity WITH IDENTITY = 'Managed Identity';
GO
IF NOT EXISTS (SELECT * FROM sys.external_data_sources WHERE name = N'pizza_lake')
    CREATE EXTERNAL DATA SOURCE pizza_lake WITH (
        LOCATION = '{{lake_url}}',
        CREDENTIAL = pizza_workspace_identity
    );
GO
IF NOT EXISTS (SELECT * FROM sys.external_data_sources WHERE name = N'pizza_reference')
    CREATE EXTERNAL DATA SOURCE pizza_reference WITH (
        LOCATION = '{{reference_url}}',
        CREDENTIAL = pizza_workspace_identity
    );
GO
IF NOT EXISTS (SELECT * FROM sys.external_file_formats WHERE name = N'parquet_snappy')
    CREATE EXTERNAL FILE FORMAT parquet_snappy WITH (
        FORMAT_TYPE = PARQUET,
        DATA_COMPRESSION = 'org.apache.hadoop.io.compress.SnappyCodec'
    );
