//! Customers: the fixed reference table every order is joined with (CONTRACT §4).
//!
//! [`CustomerDirectory`] is the port enrichment looks customers up through: Azure SQL in
//! production ([`AzureSqlCustomers`]), the SQLite file [`SqliteCustomers`] embedded; both
//! read through one cache. `demo` makes a realistic
//! first-run customer set.

#[cfg(feature = "azure")]
mod azure_sql;
#[cfg(any(feature = "embedded", feature = "azure"))]
mod cache;
mod csv_file;
mod demo;
#[cfg(feature = "embedded")]
mod sqlite;

#[cfg(feature = "azure")]
pub use azure_sql::{AzureSqlCustomers, LOOKUP_SQL};
pub use csv_file::{read_customers_csv, CustomerCsvError};
pub use demo::{demo_customers, DEMO_CUSTOMER_COUNT, DEMO_SEED};
#[cfg(feature = "embedded")]
pub use sqlite::{CustomerLoadError, SqliteCustomers};

use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Arc;

/// One customer record; `state` is a trimmed, upper-cased USPS code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Customer {
    pub customer_id: i64,
    pub name: String,
    pub address: String,
    pub city: String,
    pub state: String,
    pub zip_code: String,
}

/// The CSV header `customers load` expects (and `demo` writes).
pub const CSV_HEADER: [&str; 6] = [
    "customer_id",
    "name",
    "address",
    "city",
    "state",
    "zip_code",
];

#[derive(Debug, thiserror::Error)]
pub enum CustomerLookupError {
    #[error("customer database {database} unavailable")]
    Unavailable {
        database: String,
        #[source]
        source: crate::errors::BoxError,
    },
}

/// Maps keyed by customer id. Enrichment probes one per order, so they hash with foldhash
/// instead of std's SipHash; it stays seeded per map, since the ids come from clients.
pub type ById<V> = HashMap<i64, V, foldhash::fast::RandomState>;

/// The customers one lookup found, by id.
pub type FoundCustomers = ById<Arc<Customer>>;

/// Batched customer lookup. Unknown ids are simply absent from the answer.
pub trait CustomerDirectory: Send + Sync + 'static {
    fn lookup<'a>(
        &'a self,
        ids: &'a [i64],
    ) -> BoxFuture<'a, Result<FoundCustomers, CustomerLookupError>>;
}

/// The USPS state code as stored: trimmed and upper-cased.
pub fn normalise_state(state: &str) -> String {
    state.trim().to_ascii_uppercase()
}
