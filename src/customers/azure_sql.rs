//! Customers from Azure SQL (`dbo.customers`, `sql/azure_sql/customers.sql`), signed in
//! as the Function App's managed identity.
//!
//! One parameterised query per enrichment batch (`sql/azure_sql/lookup_customers.sql`):
//! the ids travel as one JSON-array parameter, so a batch of any size is one round trip
//! and no SQL is ever built from data. Answers go through the shared cache.

use super::cache::{answers_for, CustomerCache};
use super::{normalise_state, Customer, CustomerDirectory, CustomerLookupError, FoundCustomers};
use crate::tds::{Statement, TdsClient, TdsSession};
use futures::future::BoxFuture;

/// The lookup statement; `@P1` is the JSON array of ids.
pub const LOOKUP_SQL: &str = include_str!("../../sql/azure_sql/lookup_customers.sql");

pub struct AzureSqlCustomers {
    session: TdsSession,
    cache: CustomerCache,
}

/// The one parameter of [`LOOKUP_SQL`]: the ids as a JSON array.
pub fn lookup_parameter(ids: &[i64]) -> String {
    serde_json::to_string(ids).expect("integers serialize")
}

impl AzureSqlCustomers {
    pub fn new(session: TdsSession) -> Self {
        AzureSqlCustomers {
            session,
            cache: CustomerCache::default(),
        }
    }

    async fn lookup_uncached(&self, ids: &[i64]) -> Result<Vec<Customer>, CustomerLookupError> {
        let parameter = lookup_parameter(ids);
        let statement: Statement<Vec<Customer>> = Box::new(move |client: &mut TdsClient| {
            let parameter = parameter.clone();
            Box::pin(async move {
                let rows = client
                    .query(LOOKUP_SQL, &[&parameter])
                    .await?
                    .into_first_result()
                    .await?;
                rows.iter().map(customer_from_row).collect()
            })
        });
        self.session
            .run(statement)
            .await
            .map_err(|e| CustomerLookupError::Unavailable {
                database: "Azure SQL".into(),
                source: e.into(),
            })
    }
}

fn customer_from_row(row: &tiberius::Row) -> tiberius::Result<Customer> {
    let text = |index: usize| -> tiberius::Result<String> {
        Ok(row
            .try_get::<&str, _>(index)?
            .unwrap_or_default()
            .to_string())
    };
    let customer_id = row
        .try_get::<i64, _>(0)?
        .ok_or_else(|| tiberius::error::Error::Conversion("customer_id is NULL".into()))?;
    Ok(Customer {
        customer_id,
        name: text(1)?,
        address: text(2)?,
        city: text(3)?,
        state: normalise_state(&text(4)?),
        zip_code: text(5)?.trim().to_string(),
    })
}

impl CustomerDirectory for AzureSqlCustomers {
    fn lookup<'a>(
        &'a self,
        ids: &'a [i64],
    ) -> BoxFuture<'a, Result<FoundCustomers, CustomerLookupError>> {
        Box::pin(self.cache.lookup_through(ids, move |missing| async move {
            let rows = self.lookup_uncached(&missing).await?;
            Ok(answers_for(&missing, rows))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_as_one_json_parameter() {
        assert_eq!(
            lookup_parameter(&[1, 42, 9_007_199_254_740_993]),
            "[1,42,9007199254740993]"
        );
        assert_eq!(lookup_parameter(&[]), "[]");
        // the statement (comments aside) reads exactly one parameter, and it is that array
        let code: String = LOOKUP_SQL
            .lines()
            .filter(|line| !line.trim_start().starts_with("--"))
            .collect();
        assert!(code.contains("OPENJSON(@P1)"), "{code}");
        assert!(!code.contains("@P2"), "{code}");
    }
}
