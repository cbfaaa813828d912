//! The handler in process: the functions' routes (`functions::router`) on the real
//! embedded adapters (a local lake, DuckDB, the SQLite log and customer table), fed
//! invocations with `tower::ServiceExt::oneshot` as the Functions host would send them.

use axum::Router;
use pizza_pipeline::customers::{Customer, SqliteCustomers};
use pizza_pipeline::functions::{self, FunctionsState};
use pizza_pipeline::lake::{LakeGate, LocalLake};
use pizza_pipeline::metrics::Metrics;
use pizza_pipeline::stream::EmbeddedLog;
use pizza_pipeline::summary::Refresh;
use pizza_pipeline::warehouse::Warehouse;
use std::sync::Arc;

/// The handler and the stores behind it, in a temporary folder of its own.
pub struct InProcess {
    pub app: Router,
    pub summary: Arc<Refresh>,
    pub lake: Arc<LocalLake>,
    pub warehouse: Arc<Warehouse>,
    pub log: Arc<EmbeddedLog>,
    pub metrics: Arc<Metrics>,
    pub dir: tempfile::TempDir,
}

impl InProcess {
    /// The handler with `customers` in its table, building reports for `report_tz`.
    pub fn start(report_tz: chrono_tz::Tz, customers: &[Customer]) -> InProcess {
        let dir = tempfile::tempdir().unwrap();
        let lake = Arc::new(LocalLake::new(dir.path().join("lake")));
        let gate = LakeGate::default();
        let population = pizza_pipeline::population::shipped();
        let warehouse = Arc::new(
            Warehouse::open(
                &dir.path().join("warehouse.duckdb"),
                lake.clone(),
                gate.clone(),
                &population,
            )
            .unwrap(),
        );
        let metrics = Arc::new(Metrics::new());
        let summary = Arc::new(Refresh::new(
            lake.clone(),
            gate,
            warehouse.clone(),
            Arc::new(population),
            metrics.clone(),
        ));
        let table = SqliteCustomers::open(&dir.path().join("customers.sqlite")).unwrap();
        table.replace_all(customers).unwrap();
        let log = EmbeddedLog::open(&dir.path().join("order-log.sqlite")).unwrap();
        let app = functions::router(FunctionsState {
            stream: log.clone(),
            backlog: None,
            customers: Arc::new(table),
            lake: lake.clone(),
            summary: summary.clone(),
            metrics: metrics.clone(),
            report_tz,
            order_horizon_days: pizza_pipeline::order::DEFAULT_HORIZON_DAYS,
        });
        InProcess {
            app,
            summary,
            lake,
            warehouse,
            log,
            metrics,
            dir,
        }
    }
}

/// A customer of `state` with a made-up name and address.
pub fn customer(customer_id: i64, state: &str) -> Customer {
    Customer {
        customer_id,
        name: format!("customer {customer_id}"),
        address: "1 Main St".into(),
        city: "Austin".into(),
        state: state.into(),
        zip_code: "73301".into(),
    }
}
