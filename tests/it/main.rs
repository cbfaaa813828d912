//! The integration tests, as one crate: one test binary links DuckDB, Arrow and the Azure
//! SDKs once, instead of once per file. Each module tests one area against the real
//! binary, the real stores and the real SDKs (Azurite for Blob Storage); `common` holds
//! what they share: starting `dev`, the in-process handler, Azurite, and the assertions
//! several areas make (the books balance, every acknowledged order landed once).
//!
//! Run one area with a filter on its module: `cargo test --release --test it crash::`.

mod common;

mod access;
mod architecture;
mod attacks;
mod batching;
mod crash;
mod demo_history;
mod end_to_end;
mod estate;
mod flood;
mod functions_app;
mod host_invocations;
mod http_fuzz;
mod ingest_rules;
mod lake_and_warehouse;
mod lake_on_azurite;
mod ledger;
mod openapi;
mod outage;
mod package;
mod population_fetch;
mod report_time_zone;
mod restart;
mod serve;
mod simulate;
mod slow_clients;
mod synapse_summary_matches_duckdb;
mod tsql_scripts;
