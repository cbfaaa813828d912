//! `pizza-pipeline serve`: the custom handler as the Azure Functions host runs it.
//!
//! The same functions as embedded (`crate::functions`), wired to the Azure adapters:
//! Event Hubs for the stream, Azure SQL for customers, ADLS Gen2 for the lake and
//! Synapse serverless SQL for the summary. The host starts this process, passes the
//! port in `FUNCTIONS_CUSTOMHANDLER_PORT`, forwards `POST /api/orders` as it came and
//! POSTs trigger invocations to `/enrich_orders` and `/build_state_summary`.

use super::backlog::EventHubsBacklog;
use super::identity::credential;
use super::settings::*;
use crate::customers::AzureSqlCustomers;
use crate::functions::{self, FunctionsState};
use crate::lake::{AdlsLake, LakeGate};
use crate::metrics::Metrics;
use crate::stream::{EventHubsStream, StreamBacklog};
use crate::summary::{Refresh, SynapseWarehouse};
use crate::tds::{TdsSession, TdsTarget};
use anyhow::Context;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

/// The functions' ports, opened on the Azure services the settings name. Nothing
/// connects yet: each adapter connects on first use, so the host sees the handler
/// ready at once and a slow service fails one invocation, not the start.
pub fn azure_functions_state(settings: &AzureSettings) -> anyhow::Result<FunctionsState> {
    let credential = credential(settings)?;
    let lake = Arc::new(
        AdlsLake::new(settings.get(LAKE_URL), Some(credential.clone()))
            .with_context(|| format!("{LAKE_URL} is not a usable lake container URL"))?,
    );
    let customers = AzureSqlCustomers::new(TdsSession::new(
        TdsTarget::new(settings.get(SQL_SERVER), settings.get(SQL_DATABASE)),
        credential.clone(),
    ));
    let synapse = SynapseWarehouse::new(
        TdsSession::new(
            TdsTarget::new(
                settings.get(SYNAPSE_SQL_ENDPOINT),
                settings.get(SYNAPSE_DATABASE),
            ),
            credential.clone(),
        ),
        lake.clone(),
    );
    let stream = Arc::new(EventHubsStream::new(
        settings.get(EVENTHUB_NAMESPACE),
        settings.get(EVENTHUB_NAME),
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
        report_tz: settings.report_tz()?,
        order_horizon_days: settings.order_horizon_days()?,
    })
}

/// The stream's backlog, read from Event Hubs and the host's checkpoints (`None`: the
/// host's storage is not named, so the checkpoints cannot be found).
fn stream_backlog(
    settings: &AzureSettings,
    stream: &Arc<EventHubsStream>,
    credential: Arc<dyn azure_core::credentials::TokenCredential>,
) -> anyhow::Result<Option<Arc<dyn StreamBacklog>>> {
    let Some(url) = settings.checkpoint_container_url() else {
        tracing::warn!("{HOST_STORAGE_ACCOUNT} is not set: the stream backlog is not read");
        return Ok(None);
    };
    let checkpoints = AdlsLake::new(&url, Some(credential))
        .with_context(|| format!("{url} is not a usable checkpoint container URL"))?;
    Ok(Some(Arc::new(EventHubsBacklog::new(
        stream.clone(),
        checkpoints,
        settings.get(EVENTHUB_NAMESPACE),
        settings.get(EVENTHUB_NAME),
        settings.get(EVENTHUB_CONSUMER_GROUP),
    ))))
}

pub async fn run_serve() -> anyhow::Result<()> {
    let stop_signal = crate::server::StopSignal::listen();
    let settings = AzureSettings::from_env()?;
    let state = azure_functions_state(&settings)?;
    let port = settings.port()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({FUNCTIONS_PORT})"))?;
    tracing::info!(%addr, hub = settings.get(EVENTHUB_NAME), "custom handler ready");
    crate::server::serve(listener, functions::router(state), async {
        stop_signal.received().await;
        tracing::info!("stopping: finishing in-flight invocations");
    })
    .await;
    Ok(())
}
