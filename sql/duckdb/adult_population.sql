-- adult_population: residents aged 18+ per state (Census PEP Vintage 2024,
-- SCPRC-EST2024-18+POP; see data/census/PROVENANCE.md). Loaded row by row from the CSV
-- compiled into the binary, so the warehouse never depends on a file path.
CREATE OR REPLACE TABLE adult_population (
    state_fips       VARCHAR NOT NULL,
    state_code       VARCHAR NOT NULL PRIMARY KEY,
    state_name       VARCHAR NOT NULL,
    adult_population BIGINT  NOT NULL CHECK (adult_population > 0),
    year             INTEGER NOT NULL,
    source           VARCHAR NOT NULL
);
