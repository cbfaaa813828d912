//! The custom handler: one axum app whose routes are the Azure Functions of
//! `functions/` — the same code whether the Functions host (Azure) or the embedded host
//! (`dev`) calls it.
//!
//! | function              | route                      | trigger                       |
//! |-----------------------|----------------------------|-------------------------------|
//! | `ingest_order`        | `POST /api/orders`         | HTTP, forwarded as-is          |
//! | `enrich_orders`       | `POST /enrich_orders`      | Event Hubs, `cardinality: many`|
//! | `build_state_summary` | `POST /build_state_summary`| timer, hourly; builds at 02:00 local |
//! | `verify_state_summary`| `POST /verify_state_summary`| timer, weekly; checks the core with SQL |
//! | `refresh_report`      | `POST /api/refresh`        | HTTP, admin key; builds now (operators)|

mod build_state_summary;
mod enrich_orders;
mod ingest_order;
pub mod invocation;
mod refresh_report;
mod verify_state_summary;

pub use verify_state_summary::{VERIFICATION_FAILED, VERIFIED};

use crate::customers::{CustomerDirectory, CustomerLookupError};
use crate::lake::{LakeError, LakeStore};
use crate::metrics::Metrics;
use crate::stream::{OrderStream, StreamBacklog};
use crate::summary::{Refresh, SummaryError};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use chrono_tz::Tz;
use std::sync::Arc;

pub use invocation::{InvocationError, InvocationRequest, InvocationResponse};

/// When the timer of `build_state_summary` ticks, by default (`SUMMARY_SCHEDULE` in
/// Azure, `--summary-schedule` embedded): hourly. At each tick the function builds the
/// nightly report if it is due — from 02:00 in the report time zone — and not built yet.
pub const SUMMARY_TIMER_SCHEDULE: &str = "0 0 * * * *";

/// When the timer of `verify_state_summary` ticks, by default (`VERIFY_SCHEDULE` in
/// Azure): Sundays at 04:30 UTC, after every report time zone's 02:00 build.
pub const VERIFY_TIMER_SCHEDULE: &str = "0 30 4 * * 0";

/// Route of each function, by folder name under `functions/`.
pub const FUNCTION_ROUTES: [(&str, &str); 5] = [
    ("ingest_order", "/api/orders"),
    ("refresh_report", "/api/refresh"),
    ("enrich_orders", "/enrich_orders"),
    ("build_state_summary", "/build_state_summary"),
    ("verify_state_summary", "/verify_state_summary"),
];

/// What the functions share: the ports to the services they use.
#[derive(Clone)]
pub struct FunctionsState {
    pub stream: Arc<dyn OrderStream>,
    /// Where the stream's backlog is read (`None`: embedded, where the books read the
    /// order log itself).
    pub backlog: Option<Arc<dyn StreamBacklog>>,
    pub customers: Arc<dyn CustomerDirectory>,
    pub lake: Arc<dyn LakeStore>,
    /// The report's refresh use-case, over DuckDB embedded or Synapse in Azure.
    pub summary: Arc<Refresh>,
    pub metrics: Arc<Metrics>,
    /// Report time zone: the nightly window ends at midnight here.
    pub report_tz: Tz,
    /// Orders dated more than this many days before they are received are refused.
    pub order_horizon_days: u32,
}

/// The client-facing route: what the Functions host forwards from the internet.
pub fn http_router(state: FunctionsState) -> Router {
    Router::new()
        .route("/api/orders", post(ingest_order::ingest_order))
        .with_state(state)
}

/// The handler's routes: the HTTP one and the invocation routes only the host may call.
pub fn router(state: FunctionsState) -> Router {
    Router::new()
        .route("/api/orders", post(ingest_order::ingest_order))
        .route("/api/refresh", post(refresh_report::refresh_report))
        .route("/enrich_orders", post(enrich_orders::enrich_orders))
        .route(
            "/build_state_summary",
            post(build_state_summary::build_state_summary),
        )
        .route(
            "/verify_state_summary",
            post(verify_state_summary::verify_state_summary),
        )
        // Invocations come from the host, not from clients: a batch of 10,000 events is
        // several MB, above axum's 2 MB default. `/api/orders` applies its own 1 MiB cap.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_INVOCATION_BYTES))
        .with_state(state)
}

/// Largest invocation body the handler reads.
pub const MAX_INVOCATION_BYTES: usize = 256 * 1024 * 1024;

/// Why an invocation failed. The host calls it again (per the function's retry policy
/// in Azure; the embedded host always), so nothing it carried is lost.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    #[error(transparent)]
    Invocation(#[from] InvocationError),
    #[error(transparent)]
    Customers(#[from] CustomerLookupError),
    #[error(transparent)]
    Lake(#[from] LakeError),
    #[error(transparent)]
    Summary(#[from] SummaryError),
    #[error("unreadable invocation ({reason}) could not be kept in quarantine")]
    NotQuarantined {
        reason: String,
        #[source]
        source: LakeError,
    },
}

/// What a successful invocation tells the host: lines for its log, and the return value.
#[derive(Debug, Default)]
pub struct Invoked {
    pub logs: Vec<String>,
    pub return_value: serde_json::Value,
}

impl Invoked {
    fn logged(logs: Vec<String>) -> Self {
        Invoked {
            logs,
            return_value: serde_json::Value::Null,
        }
    }
}

/// The header in which the Functions host names an invocation.
pub const INVOCATION_ID_HEADER: &str = "x-azure-functions-invocationid";

/// Which function an invocation is for, and its id (from the host's header).
pub struct Invocation {
    pub function: &'static str,
    pub id: String,
}

impl Invocation {
    pub fn of(function: &'static str, headers: &axum::http::HeaderMap) -> Self {
        let id = headers
            .get(INVOCATION_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("unknown")
            .to_string();
        Invocation { function, id }
    }
}

/// The one place an invocation's outcome becomes its answer: 200 with the documented
/// shape, or 500 (the invocation failed and comes again). The host reads no part of a
/// 500's answer (`DefaultHttpWorkerService` checks the status before it reads the body),
/// so a failure's cause is written here, once, as one error line on stderr, which the
/// host keeps in Application Insights (`traces`, category `Host.Function.Console`) with
/// the function and the invocation id in it. The answer's `Logs` carry it too, for a
/// caller that reads them (the embedded host, the tests).
fn invocation_reply(invocation: &Invocation, result: Result<Invoked, FunctionError>) -> Response {
    if let Err(error) = &result {
        tracing::error!(
            "{} failed (invocation {}): {}; the host runs it again",
            invocation.function,
            invocation.id,
            crate::errors::chain(error)
        );
    }
    let (status, response) = match result {
        Ok(invoked) => (
            StatusCode::OK,
            InvocationResponse {
                logs: invoked.logs,
                return_value: invoked.return_value,
                ..Default::default()
            },
        ),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            InvocationResponse {
                logs: vec![crate::errors::chain(&error)],
                ..Default::default()
            },
        ),
    };
    (status, axum::Json(response)).into_response()
}
