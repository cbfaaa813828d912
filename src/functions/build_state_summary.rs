//! `build_state_summary`: the 02:00 timer → `state_top_pizzas` for the 12 months
//! through yesterday (in the report time zone).

use super::invocation::decode_timer;
use super::{invocation_reply, FunctionsState};
use crate::summary::ReportWindow;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::IntoResponse;

pub async fn build_state_summary(
    State(state): State<FunctionsState>,
    body: Bytes,
) -> axum::response::Response {
    let result = async {
        let run = decode_timer(&body).map_err(|e| e.to_string())?;
        let window = ReportWindow::nightly(run.utc_now, state.report_tz);
        let started = std::time::Instant::now();
        let report = state
            .summary
            .build(window)
            .await
            .map_err(|e| e.to_string())?;
        state.metrics.refreshes.inc();
        state
            .metrics
            .refresh_seconds
            .observe(started.elapsed().as_secs_f64());
        let log = format!(
            "state_top_pizzas built for [{}, {}){}: {} rows",
            report.window_start,
            report.window_end,
            if run.is_past_due {
                " (past due run)"
            } else {
                ""
            },
            report.report_rows
        );
        Ok((vec![log], serde_json::to_value(&report).expect("json")))
    }
    .await;
    if let Err(e) = &result {
        tracing::error!(error = %e, "build_state_summary failed");
    }
    invocation_reply(result).into_response()
}
