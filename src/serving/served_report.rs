//! The HTTP copy of the report: `state_top_pizzas` pre-serialised per state, with an
//! ETag, rebuilt whenever the warehouse's served report changes. `GET /api/report`
//! answers from it without touching DuckDB.

use crate::summary::{ReportRow, ReportWindowInfo};
use crate::warehouse::{Warehouse, WarehouseError};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The report table, pre-serialised per state.
#[derive(Debug, Default)]
pub struct ServedReportJson {
    by_state: HashMap<String, Bytes>,
    pub etag: String,
    pub window: Option<ReportWindowInfo>,
}

impl ServedReportJson {
    pub fn from_rows(rows: &[ReportRow]) -> Self {
        let mut grouped: HashMap<&str, Vec<_>> = HashMap::new();
        for row in rows {
            grouped
                .entry(row.state.as_str())
                .or_default()
                .push(row.to_json());
        }
        let window = rows.first().map(ReportRow::window_info);
        let etag = match &window {
            Some(w) => format!("\"r{}\"", w.refreshed_at.timestamp_micros()),
            None => "\"r0\"".to_string(),
        };
        let by_state = grouped
            .into_iter()
            .map(|(state, rows)| {
                (
                    state.to_string(),
                    Bytes::from(serde_json::to_vec(&rows).expect("json")),
                )
            })
            .collect();
        ServedReportJson {
            by_state,
            etag,
            window,
        }
    }

    /// The JSON array for `state` (`[]` when it had no sales).
    pub fn state_json(&self, state: &str) -> Bytes {
        self.by_state
            .get(state)
            .cloned()
            .unwrap_or_else(|| Bytes::from_static(b"[]"))
    }
}

/// The [`ServedReportJson`] of the warehouse's served report, rebuilt when that changes.
pub struct ServedReportCache {
    warehouse: Arc<Warehouse>,
    /// The cache, and the version of the served report it was built from (0: none yet).
    current: RwLock<(u64, Arc<ServedReportJson>)>,
}

impl ServedReportCache {
    /// Reads the served report now, so a start with an unreadable one fails at once.
    pub fn new(warehouse: Arc<Warehouse>) -> Result<Self, WarehouseError> {
        let served = ServedReportCache {
            warehouse,
            current: RwLock::new((0, Arc::new(ServedReportJson::default()))),
        };
        served.current()?;
        Ok(served)
    }

    /// The cache of the report as served now.
    pub fn current(&self) -> Result<Arc<ServedReportJson>, WarehouseError> {
        let (version, served) = self.warehouse.served_report_and_version()?;
        {
            let (built_from, cache) = &*self.current.read().unwrap();
            if *built_from == version {
                return Ok(cache.clone());
            }
        }
        let cache = Arc::new(ServedReportJson::from_rows(&served.rows));
        *self.current.write().unwrap() = (version, cache.clone());
        Ok(cache)
    }
}
