//! pizza-pipeline: pizza orders in over HTTP, joined with their customers, landed as
//! Parquet for all history, and summarised nightly into a tiny per-state report.
//!
//! Follow an order through the modules:
//! 1. [`order`] — the contract: parse and validate a request into canonical orders.
//! 2. [`functions`] — the custom handler; `ingest_order` publishes to the [`stream`].
//! 3. [`stream`] — the durable order stream (Event Hubs; an SQLite log embedded).
//! 4. [`functions`] `enrich_orders` — joins [`customers`] in [`enrich`], lands the rows
//!    in the [`lake`] (Parquet, one folder per day).
//! 5. [`summary`] — the report window and the refresh use-case, which has an engine
//!    build `state_top_pizzas` with the [`population`] reference: the [`warehouse`]
//!    (DuckDB over the lake) embedded, Synapse in Azure.
//! 6. [`azure`] — `serve`: the same functions on Event Hubs, Azure SQL, ADLS Gen2 and
//!    Synapse (the adapters sit beside their ports above).
//! 7. [`ledger`] — the books: per UTC order day, where every order went.
//! 8. [`host`] — the embedded host that plays the Functions host on one machine;
//!    [`serving`] — its read API and dashboard. [`server`] is the HTTP server both
//!    hosts run.
//!
//! The embedded mode (`host`, `serving`, `warehouse`, the SQLite log and customer table)
//! is the cargo feature `embedded`, and the Azure adapters (`azure`, `tds`, the Event
//! Hubs, Azure SQL, ADLS Gen2 and Synapse adapters) the feature `azure`; both are on by
//! default. The Azure package is built with `azure` alone (`--no-default-features
//! --features azure`): `serve` never touches DuckDB or SQLite, and leaving them out
//! makes a small, statically linked binary (`.ci/package`).

pub mod api_error;
#[cfg(feature = "azure")]
pub mod azure;
pub mod cli;
pub mod customers;
pub mod enrich;
pub mod errors;
pub mod files;
pub mod functions;
pub mod generate;
#[cfg(feature = "embedded")]
pub mod host;
pub mod lake;
pub mod ledger;
pub mod metrics;
pub mod order;
pub mod population;
pub mod server;
#[cfg(feature = "embedded")]
pub mod serving;
pub mod simulate;
pub mod sql_script;
pub mod stream;
pub mod summary;
#[cfg(feature = "azure")]
pub mod tds;
#[cfg(feature = "embedded")]
pub mod warehouse;
