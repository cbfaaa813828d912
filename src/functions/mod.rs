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

mod build_state_summary;
mod enrich_orders;
mod ingest_order;
pub mod invocation;
mod verify_state_summary;

pub use verify_state_summary::{VERIFICATION_FAILED, VERIFIED};

use crate::customers::{CustomerDirectory, CustomerLookupError};
use crate::lake::{LakeError, LakeStore};
use crate::metrics::Metrics;
use crate::stream::OrderStream;
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
pub const FUNCTION_ROUTES: [(&str, &str); 4] = [
    ("ingest_order", "/api/orders"),
    ("enrich_orders", "/enrich_orders"),
    ("build_state_summary", "/build_state_summary"),
    ("verify_state_summary", "/verify_state_summary"),
];

/// What the functions share: the ports to the services they use.
#[derive(Clone)]
pub struct FunctionsState {
    pub stream: Arc<dyn OrderStream>,
    pub customers: Arc<dyn CustomerDirectory>,
    pub lake: Arc<dyn LakeStore>,
    /// The report's refresh use-case, over DuckDB embedded or Synapse in Azure.
    pub summary: Arc<Refresh>,
    pub metrics: Arc<Metrics>,
    /// Report time zone: the nightly window ends at midnight here.
    pub report_tz: Tz,
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
    #[error("unreadable invocation ({reason}) could not be kept in quarantine: {source}")]
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

/// The one place an invocation's outcome becomes its answer: 200 with the documented
/// shape, or 500 with the error as its log line (the invocation failed and comes again).
fn invocation_reply(result: Result<Invoked, FunctionError>) -> Response {
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
                logs: vec![error.to_string()],
                ..Default::default()
            },
        ),
    };
    (status, axum::Json(response)).into_response()
}
