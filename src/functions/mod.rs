//! The custom handler: one axum app whose routes are the Azure Functions of
//! `functions/` — the same code whether the Functions host (Azure) or the embedded host
//! (`dev`) calls it.
//!
//! | function              | route                      | trigger                       |
//! |-----------------------|----------------------------|-------------------------------|
//! | `ingest_order`        | `POST /api/orders`         | HTTP, forwarded as-is          |
//! | `enrich_orders`       | `POST /enrich_orders`      | Event Hubs, `cardinality: many`|
//! | `build_state_summary` | `POST /build_state_summary`| timer, hourly; builds at 02:00 local |

mod build_state_summary;
mod enrich_orders;
mod ingest_order;
pub mod invocation;

use crate::customers::CustomerDirectory;
use crate::lake::LakeStore;
use crate::metrics::Metrics;
use crate::stream::OrderStream;
use crate::summary::SummaryBuilder;
use axum::routing::post;
use axum::Router;
use chrono_tz::Tz;
use std::sync::Arc;

pub use invocation::{InvocationRequest, InvocationResponse};

/// When the timer of `build_state_summary` ticks, by default (`SUMMARY_SCHEDULE` in
/// Azure, `--summary-schedule` embedded): hourly. At each tick the function builds the
/// nightly report if it is due — from 02:00 in the report time zone — and not built yet.
pub const SUMMARY_TIMER_SCHEDULE: &str = "0 0 * * * *";

/// Route of each function, by folder name under `functions/`.
pub const FUNCTION_ROUTES: [(&str, &str); 3] = [
    ("ingest_order", "/api/orders"),
    ("enrich_orders", "/enrich_orders"),
    ("build_state_summary", "/build_state_summary"),
];

/// What the functions share: the ports to the services they use.
#[derive(Clone)]
pub struct FunctionsState {
    pub stream: Arc<dyn OrderStream>,
    pub customers: Arc<dyn CustomerDirectory>,
    pub lake: Arc<dyn LakeStore>,
    pub summary: Arc<dyn SummaryBuilder>,
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
        // Invocations come from the host, not from clients: a batch of 10,000 events is
        // several MB, above axum's 2 MB default. `/api/orders` applies its own 1 MiB cap.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_INVOCATION_BYTES))
        .with_state(state)
}

/// Largest invocation body the handler reads.
pub const MAX_INVOCATION_BYTES: usize = 256 * 1024 * 1024;

/// An invocation answer: 200 with the documented shape, or 500 (invocation failed; the
/// host retries per the function's retry policy, the embedded host always retries).
fn invocation_reply(
    result: Result<(Vec<String>, serde_json::Value), String>,
) -> (axum::http::StatusCode, axum::Json<InvocationResponse>) {
    use axum::http::StatusCode;
    match result {
        Ok((logs, return_value)) => (
            StatusCode::OK,
            axum::Json(InvocationResponse {
                logs,
                return_value,
                ..Default::default()
            }),
        ),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(InvocationResponse {
                logs: vec![error],
                ..Default::default()
            }),
        ),
    }
}
