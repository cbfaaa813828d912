//! The embedded customer database: a SQLite file loaded from CSV, read through a cache.
//!
//! Customers are fixed while the pipeline runs (`customers load` runs while `dev` is
//! stopped), so a looked-up answer — found or not — never goes stale and is cached.

use super::cache::{CachedAnswer, CustomerCache};
use super::{Customer, CustomerDirectory, CustomerLookupError, FoundCustomers};
use futures::future::BoxFuture;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub struct SqliteCustomers {
    path: PathBuf,
    conn: Mutex<Connection>,
    cache: CustomerCache,
}

#[derive(Debug, thiserror::Error)]
pub enum CustomerLoadError {
    #[error("customer database {}", .path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Csv(#[from] super::CustomerCsvError),
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS customers (
    customer_id INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    city        TEXT NOT NULL,
    state       TEXT NOT NULL,
    zip_code    TEXT NOT NULL
)";

impl SqliteCustomers {
    pub fn open(path: &Path) -> Result<Self, CustomerLoadError> {
        let wrap = |source| CustomerLoadError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(wrap)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        conn.execute_batch(SCHEMA).map_err(wrap)?;
        Ok(SqliteCustomers {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            cache: CustomerCache::default(),
        })
    }

    pub fn count(&self) -> Result<i64, CustomerLoadError> {
        self.conn
            .lock()
            .unwrap()
            .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
            .map_err(|e| self.error(e))
    }

    /// Every customer, by id (for generators and exports).
    pub fn all(&self) -> Result<Vec<Customer>, CustomerLoadError> {
        let conn = self.conn.lock().unwrap();
        let mut stmt = conn
            .prepare("SELECT customer_id, name, address, city, state, zip_code FROM customers ORDER BY customer_id")
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map([], customer_from_row)
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))
    }

    /// Replaces the whole table with `customers`, atomically.
    pub fn replace_all(&self, customers: &[Customer]) -> Result<(), CustomerLoadError> {
        let mut conn = self.conn.lock().unwrap();
        let tx = conn.transaction().map_err(|e| self.error(e))?;
        tx.execute("DELETE FROM customers", [])
            .map_err(|e| self.error(e))?;
        {
            let mut insert = tx
                .prepare("INSERT INTO customers VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .map_err(|e| self.error(e))?;
            for c in customers {
                insert
                    .execute(params![
                        c.customer_id,
                        c.name,
                        c.address,
                        c.city,
                        c.state,
                        c.zip_code
                    ])
                    .map_err(|e| self.error(e))?;
            }
        }
        tx.commit().map_err(|e| self.error(e))?;
        self.cache.clear();
        Ok(())
    }

    /// Looks up ids the cache has not seen, on a connection opened for this lookup: the
    /// database must be there now (a file that went away — a detached volume, a file
    /// being replaced — is an outage the enricher retries, not a stale open handle that
    /// keeps answering). Lookups that miss the cache are rare once it is warm.
    fn lookup_uncached(&self, ids: &[i64]) -> Result<Vec<(i64, CachedAnswer)>, rusqlite::Error> {
        let _one_at_a_time = self.conn.lock().unwrap();
        let conn = Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let mut stmt = conn.prepare_cached(
            "SELECT customer_id, name, address, city, state, zip_code FROM customers WHERE customer_id = ?1",
        )?;
        ids.iter()
            .map(|&id| {
                let found = stmt.query_row([id], customer_from_row).optional()?;
                Ok((id, found.map(Arc::new)))
            })
            .collect()
    }

    fn error(&self, source: rusqlite::Error) -> CustomerLoadError {
        CustomerLoadError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }
}

fn customer_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Customer> {
    Ok(Customer {
        customer_id: r.get(0)?,
        name: r.get(1)?,
        address: r.get(2)?,
        city: r.get(3)?,
        state: r.get(4)?,
        zip_code: r.get(5)?,
    })
}

impl CustomerDirectory for SqliteCustomers {
    fn lookup<'a>(
        &'a self,
        ids: &'a [i64],
    ) -> BoxFuture<'a, Result<FoundCustomers, CustomerLookupError>> {
        Box::pin(self.cache.lookup_through(ids, move |missing| async move {
            // SQLite calls block; keep them off the async workers.
            tokio::task::block_in_place(|| self.lookup_uncached(&missing)).map_err(|e| {
                CustomerLookupError::Unavailable {
                    database: self.path.display().to_string(),
                    source: e.into(),
                }
            })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("customers.csv");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        path
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn loads_normalises_and_looks_up() {
        let dir = tempfile::tempdir().unwrap();
        let csv = write(dir.path(), "customer_id,name,address,city,state,zip_code\n1,Ann,1 Main St,Austin, tx ,07301\n2,\"Bo, Jr\",2 Elm,Reno,NV,89501\n");
        let customers = crate::customers::read_customers_csv(&csv).unwrap();
        assert_eq!(customers[0].state, "TX");
        assert_eq!(
            customers[0].zip_code, "07301",
            "zip codes keep leading zeros"
        );
        assert_eq!(customers[1].name, "Bo, Jr");
        let db = SqliteCustomers::open(&dir.path().join("c.sqlite")).unwrap();
        db.replace_all(&customers).unwrap();
        let found = db.lookup(&[1, 3, 1]).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[&1].city, "Austin");
        // cached negative answer, then a replace clears the cache
        assert!(db.lookup(&[3]).await.unwrap().is_empty());
        db.replace_all(&customers[..1]).unwrap();
        assert!(db.lookup(&[2]).await.unwrap().is_empty());
    }

    #[test]
    fn rejects_bad_files_naming_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("id,name\n1,a\n", "header must be"),
            (
                "customer_id,name,address,city,state,zip_code\n0,a,b,c,TX,1\n",
                "line 2: customer_id \"0\"",
            ),
            (
                "customer_id,name,address,city,state,zip_code\n1,a,b,c,TX,1\n1,a,b,c,TX,1\n",
                "line 3: customer_id 1 appears twice",
            ),
            (
                "customer_id,name,address,city,state,zip_code\n1,a,b,c,TX\n",
                "line 2",
            ),
        ];
        for (text, needle) in cases {
            let err = crate::customers::read_customers_csv(&write(dir.path(), text))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
