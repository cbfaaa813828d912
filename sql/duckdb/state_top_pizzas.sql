-- state_top_pizzas: per US state, the top 3 pizza types of the report window (CONTRACT §6),
-- the table analysts and the dashboard read.
--
-- Its rows come from the report core (src/summary/build.rs), which computes them from the
-- daily roll-ups and writes them as one Parquet file into the lake
-- (reports/state_top_pizzas/run=<run_id>/state_top_pizzas.parquet). This statement makes
-- that file the table; the report's own SQL definition, the check of the core, is
-- state_top_pizzas_check.sql.
--
-- {{report_file}}: the run's file, on this machine.
--
-- One statement: CREATE OR REPLACE is atomic, readers see the old table or the new one.
CREATE OR REPLACE TABLE state_top_pizzas AS
SELECT state::VARCHAR                                   AS state,
       state_name::VARCHAR                              AS state_name,
       rank::INTEGER                                    AS rank,
       pizza_type::VARCHAR                              AS pizza_type,
       pizzas_sold::BIGINT                              AS pizzas_sold,
       gross_sales_usd::DECIMAL(18, 2)                  AS gross_sales_usd,
       gross_sales_per_capita_usd::DECIMAL(18, 6)       AS gross_sales_per_capita_usd,
       unique_customers::BIGINT                         AS unique_customers,
       adult_population::BIGINT                         AS adult_population,
       window_start::TIMESTAMPTZ                        AS window_start,
       window_end::TIMESTAMPTZ                          AS window_end,
       refreshed_at::TIMESTAMPTZ                        AS refreshed_at
FROM read_parquet({{report_file}})
ORDER BY state, rank;
