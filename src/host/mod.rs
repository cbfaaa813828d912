//! The embedded host: plays the Azure Functions host on one machine (CONTRACT §2, §8).
//!
//! It serves the handler's HTTP routes, feeds the order log to `enrich_orders` in the
//! Event Hubs trigger's format (`dispatcher`), fires `build_state_summary` on the timer
//! schedule (`timer`), compacts the lake, and adds the embedded-only read API.

mod data_dir;
pub mod demo_history;
mod dispatcher;
mod timer;

pub use data_dir::DataDir;
pub use dispatcher::{BatchPolicy, CONSUMER};

use crate::customers::{
    demo_customers, CustomerDirectory, SqliteCustomers, DEMO_CUSTOMER_COUNT, DEMO_SEED,
};
use crate::functions::{self, FunctionsState};
use crate::lake::{compact_lake, LakeGate, LakeStore, LocalLake};
use crate::metrics::Metrics;
use crate::population::StatePopulation;
use crate::serving::{self, ServedReportCache, ServingState};
use crate::stream::EmbeddedLog;
use crate::summary::{Refresh, RefreshOptions};
use crate::warehouse::Warehouse;
use chrono_tz::Tz;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Why the embedded host could not start, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot create data dir {}", .path.display())]
    CreateDataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("data dir {} does not exist (run `pizza-pipeline dev --data-dir {}` first)", .0.display(), .0.display())]
    NoDataDir(PathBuf),
    #[error("the customer table")]
    Customers(#[from] crate::customers::CustomerLoadError),
    #[error("the order log")]
    Log(#[from] crate::stream::LogError),
    #[error("the lake")]
    Lake(#[from] crate::lake::LakeError),
    #[error("the warehouse")]
    Warehouse(#[from] crate::warehouse::WarehouseError),
    #[error("the report")]
    Summary(#[from] crate::summary::SummaryError),
    #[error("the demo history")]
    Generate(#[from] crate::generate::GenerateError),
    #[error("the demo history marker {}", .path.display())]
    Marker {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--lake-url {0}: this build has no Blob Storage adapter (cargo feature `azure`); build with the default features, or keep the lake in the data dir")]
    NoBlobStorage(String),
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("a worker of the embedded host failed")]
    Task(#[from] tokio::task::JoinError),
}

/// Settings of `pizza-pipeline dev`.
#[derive(Debug, Clone)]
pub struct DevSettings {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub report_tz: Tz,
    /// Orders dated more than this many days before they arrive are refused.
    pub order_horizon_days: u32,
    /// When the summary timer ticks (or no timer).
    pub summary_schedule: crate::summary::SummarySchedule,
    pub compact_every: Duration,
    pub batching: dispatcher::BatchPolicy,
    /// When set, `POST /api/orders` and `/admin/*` require it (`x-functions-key` header or
    /// `Authorization: Bearer`).
    pub api_key: Option<String>,
    /// Lake container URL (Blob Storage / ADLS Gen2, e.g. Azurite); `None`: the data dir.
    pub lake_url: Option<String>,
    /// On a data dir's first start, generate a year of demo orders into the lake and
    /// build the report before serving ([`demo_history`]).
    pub demo_history: bool,
}

/// Everything the embedded pipeline is made of, opened on one data directory.
pub struct Embedded {
    pub dir: DataDir,
    pub population: Arc<Vec<StatePopulation>>,
    pub log: Arc<EmbeddedLog>,
    pub lake: Arc<dyn LakeStore>,
    pub report: EmbeddedReport,
    pub metrics: Arc<Metrics>,
    /// This start created the demo customers: the data dir had no customers.
    pub first_start: bool,
}

/// The report side of the embedded pipeline: the DuckDB warehouse, the refresh use-case
/// over it, and the served copy the read API answers from.
pub struct EmbeddedReport {
    pub warehouse: Arc<Warehouse>,
    pub refresh: Arc<Refresh>,
    pub served: Arc<ServedReportCache>,
}

impl EmbeddedReport {
    pub fn gate(&self) -> &LakeGate {
        self.refresh.gate()
    }
}

impl Embedded {
    /// Where the embedded books are read from (`GET /api/ledger`).
    pub fn books(&self) -> serving::EmbeddedBooks {
        books(&self.dir, &self.report, self.lake.clone())
    }

    /// Opens the report side only (for `refresh` and `report` while `dev` is stopped).
    pub fn open_report(
        dir: &DataDir,
        lake: Arc<dyn LakeStore>,
        metrics: Arc<Metrics>,
    ) -> Result<EmbeddedReport, HostError> {
        let population = crate::population::shipped();
        let gate = LakeGate::default();
        let warehouse = Arc::new(Warehouse::open_deferred(
            &dir.warehouse(),
            lake.clone(),
            gate.clone(),
            &population,
        )?);
        let served = Arc::new(ServedReportCache::new(warehouse.clone())?);
        let refresh = Refresh::new(lake, gate, warehouse.clone(), Arc::new(population), metrics);
        Ok(EmbeddedReport {
            warehouse,
            refresh: Arc::new(refresh),
            served,
        })
    }

    pub async fn open(
        data_dir: &std::path::Path,
        lake_url: Option<&str>,
    ) -> Result<(Self, Arc<SqliteCustomers>), HostError> {
        let dir = DataDir::create(data_dir)?;
        let population = Arc::new(crate::population::shipped());
        let (customers, first_start) = open_customers(&dir, &population, DEMO_CUSTOMER_COUNT)?;
        let customers = Arc::new(customers);
        let log = EmbeddedLog::open(&dir.order_log())?;
        let lake = open_lake(&dir, lake_url).await?;
        let metrics = Arc::new(Metrics::new());
        let report = Self::open_report(&dir, lake.clone(), metrics.clone())?;
        Ok((
            Embedded {
                dir,
                population,
                log,
                lake,
                report,
                metrics,
                first_start,
            },
            customers,
        ))
    }
}

/// The books of the data dir `dir` (`GET /api/ledger`, `pizza-pipeline ledger`): the
/// order log's door as the dispatcher delivers it, and `lake` through `report`'s warehouse.
pub fn books(
    dir: &DataDir,
    report: &EmbeddedReport,
    lake: Arc<dyn LakeStore>,
) -> serving::EmbeddedBooks {
    serving::EmbeddedBooks {
        log_path: dir.order_log(),
        consumer: CONSUMER,
        warehouse: report.warehouse.clone(),
        lake,
        population: Arc::new(crate::population::shipped()),
    }
}

/// The lake of the embedded pipeline: the data dir's `lake/` folder, or a Blob Storage /
/// ADLS Gen2 container (`lake_url`) mirrored into that folder for the warehouse.
pub async fn open_lake(
    dir: &DataDir,
    lake_url: Option<&str>,
) -> Result<Arc<dyn LakeStore>, HostError> {
    let local = Arc::new(LocalLake::new(dir.lake()));
    match lake_url {
        None => Ok(local),
        Some(url) => open_remote_lake(url, local).await,
    }
}

/// A lake container in Blob Storage / ADLS Gen2, signed in with the URL's SAS or as the
/// developer (Azure CLI), mirrored into `local`.
#[cfg(feature = "azure")]
async fn open_remote_lake(
    url: &str,
    local: Arc<LocalLake>,
) -> Result<Arc<dyn LakeStore>, HostError> {
    use crate::lake::rollup::ROLLUP_TABLE;
    use crate::lake::{AdlsLake, MirroredLake};
    let remote = Arc::new(AdlsLake::with_developer_sign_in(url)?);
    remote.ensure_container().await?;
    tracing::info!(
        lake = remote.display(),
        "lake in Blob Storage, mirrored in the data dir"
    );
    let mirrored = MirroredLake::new(remote, local);
    for prefix in [
        crate::lake::ORDERS_TABLE,
        ROLLUP_TABLE,
        crate::lake::QUARANTINE,
    ] {
        mirrored.sync(prefix).await?;
    }
    Ok(Arc::new(mirrored))
}

#[cfg(not(feature = "azure"))]
async fn open_remote_lake(
    url: &str,
    _local: Arc<LocalLake>,
) -> Result<Arc<dyn LakeStore>, HostError> {
    Err(HostError::NoBlobStorage(url.to_string()))
}

/// Opens the customer DB; on a first run (no customers) creates `demo_count` demo
/// customers (`DEMO_CUSTOMER_COUNT`, or `generate-lake --customers`). Also says whether
/// it created them.
pub fn open_customers(
    dir: &DataDir,
    population: &[StatePopulation],
    demo_count: usize,
) -> Result<(SqliteCustomers, bool), HostError> {
    let customers = SqliteCustomers::open(&dir.customers())?;
    let first_run = customers.count()? == 0;
    if first_run {
        let states: Vec<&str> = population.iter().map(|p| p.state_code.as_str()).collect();
        let demo = demo_customers(demo_count, &states, DEMO_SEED);
        customers.replace_all(&demo)?;
        tracing::info!(
            customers = demo.len(),
            seed = DEMO_SEED,
            "no customers loaded: created a demo set at real US ZIP codes (load your own with `pizza-pipeline customers load`)"
        );
    }
    Ok((customers, first_run))
}

/// `pizza-pipeline dev`: everything in one process until SIGTERM / Ctrl-C.
pub async fn run_dev(settings: DevSettings) -> Result<(), HostError> {
    let stop_signal = crate::server::StopSignal::listen();
    let (embedded, customers) =
        Embedded::open(&settings.data_dir, settings.lake_url.as_deref()).await?;
    let lake: Arc<dyn LakeStore> = embedded.lake.clone();
    let demo = if settings.demo_history {
        demo_start(&embedded, &customers, &settings).await?
    } else {
        demo_history::read_marker(&embedded.dir)
    };
    let customers_for_hint = customers.clone();
    let functions_state = FunctionsState {
        stream: embedded.log.clone(),
        backlog: None,
        customers,
        lake: lake.clone(),
        summary: embedded.report.refresh.clone(),
        metrics: embedded.metrics.clone(),
        report_tz: settings.report_tz,
        order_horizon_days: settings.order_horizon_days,
    };
    let functions_app = functions::router(functions_state.clone());
    let serving_app = serving::router(ServingState {
        log: embedded.log.clone(),
        summary: embedded.report.refresh.clone(),
        warehouse: embedded.report.warehouse.clone(),
        report: embedded.report.served.clone(),
        books: embedded.books(),
        metrics: embedded.metrics.clone(),
        population: embedded.population.clone(),
        report_tz: settings.report_tz,
        consumer: CONSUMER,
        nightly_builds: settings.summary_schedule.schedule().is_some(),
        demo: demo.map(|d| serde_json::to_value(d).expect("json")),
    });
    // The public listener serves the HTTP function and the read API only: invocation
    // routes (`/enrich_orders`, `/build_state_summary`) are for the host — here the
    // in-process dispatcher and timer — as the Functions host never exposes them either.
    let public = functions::http_router(functions_state.clone()).merge(serving_app);
    if settings.api_key.is_some() {
        tracing::info!("POST /api/orders, GET /api/orders/{{id}} and /admin/* require the API key");
    }
    let app = crate::serving::guard(public, settings.api_key.clone());

    let listen_error = |source| HostError::Listen {
        addr: settings.listen,
        source,
    };
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(listen_error)?;
    let addr = listener.local_addr().map_err(listen_error)?;
    let example_state = demo_state_of(customers_for_hint.as_ref(), 42).await;
    announce(addr, &embedded.dir, &example_state);

    let shutdown = CancellationToken::new();
    let mut background = tokio::task::JoinSet::new();
    background.spawn(dispatcher::run(
        embedded.log.clone(),
        functions_app.clone(),
        settings.batching,
        shutdown.clone(),
    ));
    if let Some(schedule) = settings.summary_schedule.schedule() {
        background.spawn(timer::run(
            functions_app.clone(),
            schedule.clone(),
            settings.report_tz,
            shutdown.clone(),
        ));
    }
    background.spawn(compact_periodically(
        lake,
        embedded.report.gate().clone(),
        settings.compact_every,
        shutdown.clone(),
    ));

    let stop = shutdown.clone();
    crate::server::serve(listener, app, async move {
        stop_signal.received().await;
        tracing::info!("stopping: finishing in-flight requests and the current batch");
        stop.cancel();
    })
    .await;
    shutdown.cancel();
    while background.join_next().await.is_some() {}
    embedded.log.close();
    let warehouse = embedded.report.warehouse.clone();
    let settled = tokio::task::spawn_blocking(move || warehouse.settle()).await;
    let settled: Result<(), HostError> = settled.map_err(HostError::from).and_then(|r| Ok(r?));
    if let Err(e) = settled {
        tracing::warn!(error = %crate::errors::Chain(&e), "warehouse view not refreshed; the next refresh will");
    }
    tracing::info!("stopped cleanly");
    Ok(())
}

/// `dev --demo-history`: on a first start, generates the demo year and builds the due
/// report before the address is announced, so the first look at the dashboard shows it;
/// on any start, the marker of an earlier demo start (if any), for the dashboard's label.
async fn demo_start(
    embedded: &Embedded,
    customers: &Arc<SqliteCustomers>,
    settings: &DevSettings,
) -> Result<Option<demo_history::DemoHistory>, HostError> {
    let earlier = demo_history::read_marker(&embedded.dir);
    if earlier.is_some() {
        return Ok(earlier);
    }
    let allowed = demo_history::may_generate(
        embedded.first_start,
        settings.lake_url.is_some(),
        embedded.lake.as_ref(),
    )
    .await?;
    if let demo_history::DemoDecision::Skip(why) = allowed {
        tracing::info!("--demo-history: no demo history generated: {why}");
        return Ok(None);
    }
    let customers = customers.clone();
    let dir = embedded.dir.clone();
    let today = chrono::Utc::now().date_naive();
    tracing::info!(
        orders = demo_history::DEMO_HISTORY_ORDERS,
        "first start with --demo-history: generating the 12 months before today into the lake"
    );
    let marker =
        tokio::task::spawn_blocking(move || demo_history::generate(&dir, &customers.all()?, today))
            .await??;
    let window = crate::summary::ReportWindow::due_nightly(chrono::Utc::now(), settings.report_tz);
    let report = embedded
        .report
        .refresh
        .refresh(window, RefreshOptions::default())
        .await?;
    tracing::info!(
        rows = report.report_rows,
        window_start = %report.window_start,
        window_end = %report.window_end,
        "demo history: report built"
    );
    Ok(Some(marker))
}

/// The state of one customer, for the first-run hint (TX if there is no such customer).
async fn demo_state_of(customers: &dyn CustomerDirectory, customer_id: i64) -> String {
    match customers.lookup(&[customer_id]).await {
        Ok(found) => found
            .get(&customer_id)
            .map(|c| c.state.clone())
            .unwrap_or_else(|| "TX".into()),
        Err(_) => "TX".into(),
    }
}

fn announce(addr: SocketAddr, dir: &DataDir, example_state: &str) {
    // stdout carries exactly this line, so scripts and tests can find the port.
    println!("pizza-pipeline dev listening on http://{addr}");
    tracing::info!(data_dir = %dir.root().display(), "embedded pipeline running");
    tracing::info!("dashboard: http://{addr}/");
    tracing::info!(
        "post an order: curl -s -X POST http://{addr}/api/orders -H 'Content-Type: application/json' \
         -d '{{\"order_id\":1,\"customer_id\":42,\"type\":\"pepperoni\",\"qty\":2,\"retail_price\":25.98,\"order_date\":\"{}\"}}'",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ")
    );
    tracing::info!(
        "then: curl -s http://{addr}/api/orders/1 ; curl -s -X POST http://{addr}/admin/refresh -H 'Content-Type: application/json' -d '{{\"as_of\":\"{}\"}}' ; \
         curl -s 'http://{addr}/api/report?state={example_state}'",
        (chrono::Utc::now() + chrono::Duration::days(1)).format("%Y-%m-%dT00:00:00Z")
    );
}

async fn compact_periodically(
    lake: Arc<dyn LakeStore>,
    gate: LakeGate,
    every: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = compact_lake(lake.as_ref(), &gate, None).await {
            tracing::warn!(error = %crate::errors::Chain(&e), "scheduled lake compaction failed; it will run again");
        }
    }
}
