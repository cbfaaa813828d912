//! Azure: what `pizza-pipeline serve` needs besides the functions themselves.
//!
//! This is the Azure host: it sits on top, as `host` does embedded, and the two never
//! import each other. The adapters live beside the port they implement —
//! `stream::EventHubsStream`, `customers::AzureSqlCustomers`, `lake::AdlsLake`,
//! `summary::SynapseEngine` — with the TDS session (`tds`) and the SQL-script filler
//! (`sql_script`) they share below them, so a reader follows an order through the same
//! modules in Azure as embedded. This module holds the settings table, the Entra ID
//! credential and `serve`, which wires the adapters to the functions. No Azure type
//! crosses into the pipeline logic: the functions see only the traits.

pub mod backlog;
pub mod identity;
pub mod serve;
pub mod settings;

pub use serve::run_serve;
pub use settings::{AzureSettings, SETTINGS};
