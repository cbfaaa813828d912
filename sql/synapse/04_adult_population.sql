-- dbo.adult_population: residents aged 18+ per state (Census PEP Vintage 2024,
-- SCPRC-EST2024-18+POP; see data/census/PROVENANCE.md). The Synapse twin of
-- sql/duckdb/adult_population.sql, read from the CSV the project ships
-- (data/census/adult_population_by_state.csv), which the deployment uploads unchanged to
-- reference/adult_population_by_state.csv under the reference_url container
-- (data source pizza_reference, 02_lake_access.sql).
--
-- Run in: pizza_warehouse, after 02. One batch, no parameters, no placeholders.
--
-- The CSV has a header row (state_fips,state_code,state_name,adult_population,year,source)
-- and quotes its last field (it contains commas). PARSER_VERSION '2.0' is the one that
-- supports HEADER_ROW; the WITH clause lists every column in file order, so they bind by
-- position and keep exact types (state_fips keeps its leading zero).
CREATE OR ALTER VIEW dbo.adult_population AS
SELECT
    p.state_fips,
    p.state_code,
    p.state_name,
    p.adult_population,
    p.year,
    p.source
FROM OPENROWSET(
    BULK 'reference/adult_population_by_state.csv',
    DATA_SOURCE = 'pizza_reference',
    FORMAT = 'CSV',
    PARSER_VERSION = '2.0',
    HEADER_ROW = TRUE
) WITH (
    state_fips       VARCHAR(2),
    state_code       VARCHAR(2),
    state_name       VARCHAR(64),
    adult_population BIGINT,
    year             INT,
    source           VARCHAR(400)
) AS p;
