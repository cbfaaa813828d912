//! The embedded data directory: one folder holds the whole pipeline's state.

use super::HostError;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn create(root: &Path) -> Result<Self, HostError> {
        std::fs::create_dir_all(root).map_err(|source| HostError::CreateDataDir {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(DataDir {
            root: root.to_path_buf(),
        })
    }

    /// An existing data dir (for commands that must not start a new one by mistake).
    pub fn existing(root: &Path) -> Result<Self, HostError> {
        if !root.is_dir() {
            return Err(HostError::NoDataDir(root.to_path_buf()));
        }
        Ok(DataDir {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The durable order log (the embedded Event Hubs).
    pub fn order_log(&self) -> PathBuf {
        self.root.join("order-log.sqlite")
    }

    /// The customer table (the embedded Azure SQL).
    pub fn customers(&self) -> PathBuf {
        self.root.join("customers.sqlite")
    }

    /// The Parquet lake (the embedded ADLS Gen2).
    pub fn lake(&self) -> PathBuf {
        self.root.join("lake")
    }

    /// The DuckDB warehouse (the embedded Synapse).
    pub fn warehouse(&self) -> PathBuf {
        self.root.join("warehouse.duckdb")
    }
}
