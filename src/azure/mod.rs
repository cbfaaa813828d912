//! Azure: what `pizza-pipeline serve` needs besides the functions themselves.
//!
//! The adapters live beside the port they implement — `stream::EventHubsStream`,
//! `customers::AzureSqlCustomers`, `lake::AdlsLake`, `summary::SynapseSummary` — so a
//! reader follows an order through the same modules in Azure as embedded. This module
//! holds what they share: the settings table, the Entra ID credential, the TDS session
//! to Azure SQL and Synapse, and the SQL-script runner. No Azure type crosses into the
//! pipeline logic: the functions see only the traits.

pub mod identity;
pub mod serve;
pub mod settings;
pub mod sql_script;
pub mod tds;

pub use serve::run_serve;
pub use settings::{AzureSettings, SETTINGS};
