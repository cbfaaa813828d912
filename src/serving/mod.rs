//! The embedded run's own read and admin API (CONTRACT §8): the report, single orders, an
//! on-demand refresh, health, metrics and the dashboard page. In Azure, Power BI reads
//! the report from Synapse instead, so these routes exist only in `dev`.

mod guard;
mod ledger;
mod served_report;

pub use guard::guard;
pub use ledger::{default_days, EmbeddedBooks, LedgerError};
pub use served_report::{ServedReportCache, ServedReportJson};

use crate::api_error::ApiError;
use crate::metrics::Metrics;
use crate::population::StatePopulation;
use crate::server::read_body;
use crate::stream::EmbeddedLog;
use crate::summary::{Refresh, RefreshOptions, RefreshRequest, ReportWindow};
use crate::warehouse::Warehouse;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use chrono_tz::Tz;
use serde_json::json;
use std::sync::Arc;

const DASHBOARD: &str = include_str!("../../assets/dashboard.html");

/// The OpenAPI 3.1 document of every public route (docs/API.md explains it to client
/// teams; `tests/it/openapi.rs` holds it to the routes below, schemathesis to the answers).
pub const OPENAPI_DOCUMENT: &str = include_str!("../../docs/openapi.json");

#[derive(Clone)]
pub struct ServingState {
    pub log: Arc<EmbeddedLog>,
    /// Builds the report on demand (`POST /admin/refresh`).
    pub summary: Arc<Refresh>,
    /// Single orders are read here.
    pub warehouse: Arc<Warehouse>,
    /// The report as `GET /api/report` serves it, kept in step with the warehouse.
    pub report: Arc<ServedReportCache>,
    /// The books `GET /api/ledger` reads.
    pub books: EmbeddedBooks,
    pub metrics: Arc<Metrics>,
    pub population: Arc<Vec<StatePopulation>>,
    pub report_tz: Tz,
    /// The dispatcher's consumer name, for the backlog gauge.
    pub consumer: &'static str,
    /// Whether the nightly timer runs (`--summary-schedule` is not `off`).
    pub nightly_builds: bool,
    /// The marker of a demo history in the lake (`dev --demo-history`), if any.
    pub demo: Option<serde_json::Value>,
}

pub fn router(state: ServingState) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/api/states", get(states))
        .route("/api/report", get(report))
        .route("/api/orders/{order_id}", get(order))
        .route("/api/ledger", get(ledger))
        .route("/admin/refresh", post(refresh))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi_document))
        .with_state(state)
}

/// The report as served now; a warehouse that cannot be read answers 503.
fn current_report(state: &ServingState) -> Result<Arc<ServedReportJson>, ApiError> {
    state
        .report
        .current()
        .map_err(|e| ApiError::backend("the report could not be read; retry", &e))
}

async fn dashboard() -> Html<&'static str> {
    Html(DASHBOARD)
}

async fn openapi_document() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI_DOCUMENT,
    )
        .into_response()
}

/// Every state of the population table, the current report's window and time zone, the
/// orders accepted since it was built, and the demo history's marker (`null` without).
async fn states(State(state): State<ServingState>) -> Result<Response, ApiError> {
    let cache = current_report(&state)?;
    let window = cache.window;
    let fmt = |f: fn(&crate::summary::ReportWindowInfo) -> chrono::DateTime<Utc>| {
        window.as_ref().map(|w| crate::order::format_ts(&f(w)))
    };
    let mut states: Vec<_> = state
        .population
        .iter()
        .map(|p| json!({"state": p.state_code, "state_name": p.state_name, "adult_population": p.adult_population}))
        .collect();
    states.sort_by(|a, b| a["state_name"].as_str().cmp(&b["state_name"].as_str()));
    // Orders accepted after the build count from the next one: the dashboard says how many.
    let accepted_since_build = match window.as_ref().map(|w| w.refreshed_at) {
        Some(built) => {
            let log = state.log.clone();
            tokio::task::spawn_blocking(move || log.appended_since(built))
                .await
                .ok()
                .and_then(Result::ok)
        }
        None => None,
    };
    Ok(Json(json!({
        "window_start": fmt(|w| w.window_start),
        "window_end": fmt(|w| w.window_end),
        "refreshed_at": fmt(|w| w.refreshed_at),
        "report_time_zone": state.report_tz.name(),
        "nightly_builds": state.nightly_builds,
        "accepted_since_build": accepted_since_build,
        "demo": state.demo,
        "states": states,
    }))
    .into_response())
}

#[derive(serde::Deserialize)]
struct ReportQuery {
    state: Option<String>,
}

/// The report rows of one state, from the in-memory copy of the tiny report table.
async fn report(
    State(state): State<ServingState>,
    query: Result<Query<ReportQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // axum's own rejection is plain text; every answer of this API is JSON.
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let Some(code) = query.state else {
        return Err(ApiError::BadRequest(
            "state is required, e.g. /api/report?state=TX".into(),
        ));
    };
    let code = code.trim().to_ascii_uppercase();
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ApiError::BadRequest(format!(
            "state must be a two-letter USPS code, got {code:?}"
        )));
    }
    if !state.population.iter().any(|p| p.state_code == code) {
        return Err(ApiError::BadRequest(format!(
            "{code} is not a state of the population table"
        )));
    }
    let cache = current_report(&state)?;
    let etag = HeaderValue::from_str(&cache.etag).expect("etag is ASCII");
    if headers.get(header::IF_NONE_MATCH) == Some(&etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        cache.state_json(&code),
    )
        .into_response())
}

/// The warehouse row of one order once it has landed; 404 before.
async fn order(
    State(state): State<ServingState>,
    order_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let order_id = order_id.map(|Path(id)| id).unwrap_or_default();
    let Some(order_id) = order_id.parse::<i64>().ok().filter(|id| *id >= 1) else {
        return Err(ApiError::BadRequest(format!(
            "order_id must be an integer between 1 and {}",
            i64::MAX
        )));
    };
    let log = state.log.clone();
    let warehouse = state.warehouse.clone();
    let found = tokio::task::spawn_blocking(move || {
        // The log knows the order's day, which limits the read to one partition.
        let Some((_, event)) = log.find(order_id)? else {
            return Ok(None);
        };
        let row = warehouse.find_order(order_id, Some(event.order_ts.date_naive()))?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(row)
    })
    .await
    .unwrap_or_else(|e| Err(e.into()));
    match found {
        Ok(Some(row)) => Ok(Json(row).into_response()),
        Ok(None) => Err(ApiError::NotFound(format!(
            "order {order_id} is not in the warehouse (yet)"
        ))),
        Err(e) => Err(ApiError::backend(
            "the warehouse could not be read; retry",
            e.as_ref(),
        )),
    }
}

#[derive(serde::Deserialize)]
struct LedgerQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The widest range one ledger request may cover (ten years of days).
const MAX_LEDGER_DAYS: i64 = 3660;

/// The books of a range of UTC order days (`crate::ledger`); without `from` and `to`,
/// the days of the report served now.
async fn ledger(
    State(state): State<ServingState>,
    query: Result<Query<LedgerQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let days = ledger_days(&state, query)?;
    let ledger = state
        .books
        .ledger(days)
        .await
        .map_err(|e| ApiError::backend("the ledger could not be read; retry", &e))?;
    Ok(Json(ledger).into_response())
}

fn ledger_days(
    state: &ServingState,
    query: LedgerQuery,
) -> Result<std::ops::RangeInclusive<chrono::NaiveDate>, ApiError> {
    let day = |name: &str, text: Option<String>| {
        text.map(|text| {
            chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .ok()
                .filter(|d| (1970..=9999).contains(&chrono::Datelike::year(d)))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "{name} must be a day YYYY-MM-DD between 1970 and 9999, got {text:?}"
                    ))
                })
        })
        .transpose()
    };
    let (from, to) = (day("from", query.from)?, day("to", query.to)?);
    let year = chrono::Duration::days(365);
    let (from, to) = match (from, to) {
        (Some(from), Some(to)) => (from, to),
        (Some(from), None) => (from, Utc::now().date_naive().max(from)),
        (None, Some(to)) => (to.checked_sub_signed(year).unwrap_or(to), to),
        (None, None) => {
            let report = state
                .books
                .report_window()
                .map_err(|e| ApiError::backend("the report could not be read; retry", &e))?;
            let days = default_days(report, Utc::now().date_naive());
            (*days.start(), *days.end())
        }
    };
    if from > to {
        return Err(ApiError::Unprocessable(format!(
            "from ({from}) is after to ({to})"
        )));
    }
    if (to - from).num_days() >= MAX_LEDGER_DAYS {
        return Err(ApiError::Unprocessable(format!(
            "at most {MAX_LEDGER_DAYS} days at a time; asked for {from} to {to}"
        )));
    }
    Ok(from..=to)
}

/// Runs the summary now (optionally for an explicit `as_of`, optionally verified) and
/// answers when the new table is what readers see.
async fn refresh(State(state): State<ServingState>, body: Body) -> Result<Response, ApiError> {
    let body = read_body(body, ADMIN_BODY_LIMIT).await?;
    let request = RefreshRequest::parse(&body)?;
    let window = match request.as_of {
        Some(as_of) => ReportWindow::ending_at(as_of, state.report_tz),
        None => ReportWindow::nightly(Utc::now(), state.report_tz),
    };
    let options = RefreshOptions {
        verify: request.verify,
    };
    let report = state.summary.refresh(window, options).await?;
    Ok(Json(report).into_response())
}

/// The largest admin request body: a few small fields.
const ADMIN_BODY_LIMIT: usize = 4096;

async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

async fn metrics(State(state): State<ServingState>) -> Response {
    let log = state.log.clone();
    let consumer = state.consumer;
    if let Ok(Ok(stats)) = tokio::task::spawn_blocking(move || log.stats(consumer)).await {
        state.metrics.log_backlog.set(stats.backlog());
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}
