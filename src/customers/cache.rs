//! The customer cache every directory reads through.
//!
//! Customers are a fixed reference table while the pipeline runs (a reload replaces the
//! whole table and clears the cache), so an answer — found or not — never goes stale.

use super::{ById, Customer, CustomerLookupError, FoundCustomers};
use std::sync::{Arc, RwLock};

/// Entries kept before the cache starts over; bounds memory for huge customer tables.
const CACHE_LIMIT: usize = 2_000_000;

/// A looked-up customer, or the fact that there is none (also worth caching).
pub type CachedAnswer = Option<Arc<Customer>>;

#[derive(Default)]
pub struct CustomerCache {
    answers: RwLock<ById<CachedAnswer>>,
}

impl CustomerCache {
    /// Splits `ids` into the customers the cache knows (found ones only) and the ids it
    /// has never looked up (sorted, without repeats).
    pub fn split(&self, ids: &[i64]) -> (FoundCustomers, Vec<i64>) {
        let mut found = FoundCustomers::with_capacity_and_hasher(ids.len(), Default::default());
        let mut missing = Vec::new();
        let answers = self.answers.read().unwrap();
        for &id in ids {
            match answers.get(&id) {
                Some(Some(customer)) => {
                    found.insert(id, customer.clone());
                }
                Some(None) => {}
                None => missing.push(id),
            }
        }
        missing.sort_unstable();
        missing.dedup();
        (found, missing)
    }

    /// Remembers fresh answers and adds the found ones to `found`.
    pub fn remember(&self, looked_up: Vec<(i64, CachedAnswer)>, found: &mut FoundCustomers) {
        let mut answers = self.answers.write().unwrap();
        if answers.len() + looked_up.len() > CACHE_LIMIT {
            answers.clear();
        }
        for (id, customer) in looked_up {
            if let Some(c) = &customer {
                found.insert(id, c.clone());
            }
            answers.insert(id, customer);
        }
    }

    /// Answers `ids` from the cache, fetching only the ids it has never seen (sorted, each
    /// once) with `fetch` and remembering what comes back.
    pub async fn lookup_through<F, Fut>(
        &self,
        ids: &[i64],
        fetch: F,
    ) -> Result<FoundCustomers, CustomerLookupError>
    where
        F: FnOnce(Vec<i64>) -> Fut,
        Fut: std::future::Future<Output = Result<Vec<(i64, CachedAnswer)>, CustomerLookupError>>,
    {
        let (mut found, missing) = self.split(ids);
        if !missing.is_empty() {
            self.remember(fetch(missing).await?, &mut found);
        }
        Ok(found)
    }

    #[cfg(any(feature = "embedded", test))]
    pub fn clear(&self) {
        self.answers.write().unwrap().clear();
    }
}

/// The answers of one lookup: every asked id, with the customers the database returned.
#[cfg(any(feature = "azure", test))]
pub fn answers_for(ids: &[i64], rows: Vec<Customer>) -> Vec<(i64, CachedAnswer)> {
    let mut by_id: FoundCustomers = rows
        .into_iter()
        .map(|c| (c.customer_id, Arc::new(c)))
        .collect();
    ids.iter().map(|&id| (id, by_id.remove(&id))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(id: i64) -> Customer {
        Customer {
            customer_id: id,
            name: format!("c{id}"),
            address: "1 Main St".into(),
            city: "Austin".into(),
            state: "TX".into(),
            zip_code: "73301".into(),
        }
    }

    #[test]
    fn remembers_found_and_unknown_answers() {
        let cache = CustomerCache::default();
        let (found, missing) = cache.split(&[3, 1, 3, 2]);
        assert!(found.is_empty());
        assert_eq!(missing, vec![1, 2, 3]);
        let mut found = FoundCustomers::default();
        cache.remember(
            answers_for(&missing, vec![customer(1), customer(3)]),
            &mut found,
        );
        assert_eq!(found.len(), 2);
        // 2 is known to be unknown now: nothing left to look up
        let (found, missing) = cache.split(&[1, 2, 3]);
        assert_eq!(
            found
                .keys()
                .copied()
                .collect::<std::collections::BTreeSet<_>>(),
            [1, 3].into()
        );
        assert!(missing.is_empty());
        cache.clear();
        assert_eq!(cache.split(&[1]).1, vec![1]);
    }
}
