//! `pizza-pipeline serve`: the custom handler as the Azure Functions host runs it.
//!
//! The same functions as embedded (`crate::functions`), wired to the Azure adapters:
//! Event Hubs for the stream, Azure SQL for customers, ADLS Gen2 for the lake and
//! Synapse serverless SQL for the summary. The host starts this process, passes the
//! port in `FUNCTIONS_CUSTOMHANDLER_PORT`, forwards `POST /api/orders` as it came and
//! POSTs trigger invocations to `/enrich_orders` and `/build_state_summary`.

use super::backlog::EventHubsBacklog;
use super::identity::credential;
use super::settings::{AzureSettings, SettingsError, FUNCTIONS_PORT, LAKE_URL};
use crate::customers::AzureSqlCustomers;
use crate::functions::{self, FunctionsState};
use crate::lake::{AdlsLake, LakeError, LakeGate};
use crate::metrics::Metrics;
use crate::stream::{EventHubsStream, StreamBacklog};
use crate::summary::{Refresh, SynapseWarehouse};
use crate::tds::{TdsSession, TdsTarget};
use azure_core::credentials::TokenCredential;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// Why `serve` could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("no Entra ID credential to sign in with")]
    Credential(#[source] azure_core::Error),
    #[error("{setting} is not a usable container URL")]
    Container {
        setting: &'static str,
        #[source]
        source: LakeError,
    },
    #[error("cannot listen on {addr} ({FUNCTIONS_PORT})")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The functions' ports, opened on the Azure services the settings name. Nothing
/// connects yet: each adapter connects on first use, so the host sees the handler
/// ready at once and a slow service fails one invocation, not the start.
pub fn azure_functions_state(settings: &AzureSettings) -> Result<FunctionsState, ServeError> {
    let credential = credential(settings).map_err(ServeError::Credential)?;
    let lake = Arc::new(
        AdlsLake::new(&settings.lake_url, Some(credential.clone())).map_err(|source| {
            ServeError::Container {
                setting: LAKE_URL,
                source,
            }
        })?,
    );
    let customers = AzureSqlCustomers::new(TdsSession::new(
        TdsTarget::new(&settings.sql_server, &settings.sql_database),
        credential.clone(),
    ));
    let synapse = SynapseWarehouse::new(
        TdsSession::new(
            TdsTarget::new(&settings.synapse_endpoint, &settings.synapse_database),
            credential.clone(),
        ),
        lake.clone(),
    );
    let stream = Arc::new(EventHubsStream::new(
        &settings.eventhub_namespace,
        &settings.eventhub_name,
        credential.clone(),
    ));
    let backlog = stream_backlog(settings, &stream, credential)?;
    let synapse = match &backlog {
        Some(backlog) => synapse.with_backlog(backlog.clone()),
        None => synapse,
    };
    let metrics = Arc::new(Metrics::new());
    let summary = Refresh::new(
        lake.clone(),
        LakeGate::default(),
        Arc::new(synapse),
        Arc::new(crate::population::shipped()),
        metrics.clone(),
    );
    Ok(FunctionsState {
        stream,
        backlog,
        customers: Arc::new(customers),
        lake,
        summary: Arc::new(summary),
        metrics,
        report_tz: settings.report_tz,
        order_horizon_days: settings.order_horizon_days,
    })
}

/// The stream's backlog, read from Event Hubs and the host's checkpoints (`None`: the
/// host's storage is not named, so the checkpoints cannot be found).
fn stream_backlog(
    settings: &AzureSettings,
    stream: &Arc<EventHubsStream>,
    credential: Arc<dyn TokenCredential>,
) -> Result<Option<Arc<dyn StreamBacklog>>, ServeError> {
    let Some(url) = &settings.checkpoint_container_url else {
        tracing::warn!(
            "{} is not set: the stream backlog is not read",
            super::settings::HOST_STORAGE_ACCOUNT
        );
        return Ok(None);
    };
    let checkpoints =
        AdlsLake::new(url, Some(credential)).map_err(|source| ServeError::Container {
            setting: super::settings::HOST_STORAGE_ACCOUNT,
            source,
        })?;
    Ok(Some(Arc::new(EventHubsBacklog::new(
        stream.clone(),
        checkpoints,
        &settings.eventhub_namespace,
        &settings.eventhub_name,
        &settings.eventhub_consumer_group,
    ))))
}

pub async fn run_serve() -> Result<(), ServeError> {
    let stop_signal = crate::server::StopSignal::listen();
    let settings = AzureSettings::from_env()?;
    let state = azure_functions_state(&settings)?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    tracing::info!(%addr, hub = settings.eventhub_name, "custom handler ready");
    crate::server::serve(listener, functions::router(state), async {
        stop_signal.received().await;
        tracing::info!("stopping: finishing in-flight invocations");
    })
    .await;
    Ok(())
}
