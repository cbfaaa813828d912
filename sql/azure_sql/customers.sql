-- dbo.customers: the customer reference table (CONTRACT §4) in Azure SQL Database.
--
-- Run once per database, as a user that may create tables (the deployment identity, not
-- the Function App). Idempotent: the table is created only if it does not exist yet.
--
-- The columns are those of the CSV that `customers load` reads (src/customers/mod.rs,
-- CSV_HEADER: customer_id,name,address,city,state,zip_code) and of the embedded SQLite
-- table. customer_id is the primary key, so the per-batch lookup (lookup_customers.sql) is
-- one index seek per id. state is stored as enrichment lands it: a trimmed, upper-cased
-- USPS code; the CHECK (binary collation, so lower case is refused) keeps anything else out.
IF OBJECT_ID(N'dbo.customers', N'U') IS NULL
BEGIN
    CREATE TABLE dbo.customers (
        customer_id BIGINT        NOT NULL,
        name        NVARCHAR(200) NOT NULL,
        address     NVARCHAR(400) NOT NULL,
        city        NVARCHAR(100) NOT NULL,
        state       CHAR(2)       NOT NULL,
        zip_code    VARCHAR(10)   NOT NULL,
        CONSTRAINT pk_customers PRIMARY KEY (customer_id),
        CONSTRAINT ck_customers_id CHECK (customer_id >= 1),
        CONSTRAINT ck_customers_state CHECK (state COLLATE Latin1_General_100_BIN2 LIKE '[A-Z][A-Z]')
    );
END;
