//! `refresh_report`: `POST /api/refresh`, an HTTP function with `authLevel: admin` (the
//! Function App's master key), for operators: build the report now, in Azure.
//!
//! The body is the one `dev`'s `POST /admin/refresh` takes (`summary::RefreshRequest`):
//! without `as_of` it builds the nightly report that is due, unless that one is built
//! already (the hourly timer's rule); with `"force": true` it builds it anyway, which is
//! what a first deployment's smoke test needs after an early tick built the report from
//! an almost empty lake. With `as_of` it builds that window (a preview, which the next
//! tick replaces with the nightly report). `"verify": true` has Synapse recompute the
//! report first and publishes only if every figure agrees.
//!
//! A manual run of the timer function (`POST /admin/functions/build_state_summary`) cannot
//! carry any of this: the host hands a timer function a fresh schedule, not the request's
//! input.

use super::FunctionsState;
use crate::api_error::ApiError;
use crate::server::read_body;
use crate::summary::{RefreshOptions, RefreshRequest, ReportWindow};
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;

/// The largest body: a few small fields.
const BODY_LIMIT: usize = 4096;

pub async fn refresh_report(State(state): State<FunctionsState>, body: Body) -> Response {
    match refresh(&state, body).await {
        Ok(answer) => answer,
        Err(refusal) => refusal.into_response(),
    }
}

async fn refresh(state: &FunctionsState, body: Body) -> Result<Response, ApiError> {
    let request = RefreshRequest::parse(&read_body(body, BODY_LIMIT).await?)?;
    let window = match request.as_of {
        Some(as_of) => ReportWindow::ending_at(as_of, state.report_tz),
        None => ReportWindow::due_nightly(Utc::now(), state.report_tz),
    };
    if request.as_of.is_none() && !request.force {
        let built = state
            .summary
            .last_built_as_of()
            .await
            .map_err(|e| ApiError::backend("the last build could not be read; retry", &e))?;
        if built == Some(window.as_of) {
            return Ok(Json(serde_json::json!({
                "built_already": true,
                "as_of": crate::order::format_ts(&window.as_of),
                "window_start": crate::order::format_ts(&window.start),
                "window_end": crate::order::format_ts(&window.end),
                "hint": "send {\"force\": true} to build it again",
            }))
            .into_response());
        }
    }
    let options = RefreshOptions {
        verify: request.verify,
    };
    let report = state.summary.refresh(window, options).await?;
    tracing::info!(
        "state_top_pizzas built for [{}, {}) on request: {} rows",
        report.window_start,
        report.window_end,
        report.report_rows
    );
    Ok(Json(report).into_response())
}
