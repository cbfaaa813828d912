//! `build_state_summary`: the hourly timer → `state_top_pizzas` for the 12 months
//! through yesterday (in the report time zone), built once a day at 02:00 local.
//!
//! The timer ticks every hour in UTC (Linux plans run timers in UTC only, so a 02:00
//! schedule cannot follow a local clock across daylight saving time). Each tick asks
//! which nightly report is due ([`ReportWindow::due_nightly`]) and builds it unless the
//! last report built is that one: the build lands at 02:00 local all year, once, and a
//! missed or failed build is caught up at the next tick. A report built on demand for
//! another window (`POST /admin/refresh` with an `as_of`) is a preview: the next tick
//! puts the due report back. Skipping whenever the last window ended later would let an
//! on-demand report built in the middle of a day stand in for that day's nightly build,
//! without the orders of the rest of the day.
//!
//! A tick that finds the due report built compacts the days that have ended (and rolls
//! them up) ahead of the next build, so the 02:00 build only reads roll-ups.

use super::invocation::{decode_timer, TimerRun};
use super::{invocation_reply, FunctionError, FunctionsState, Invocation, Invoked};
use crate::summary::{RefreshOptions, ReportWindow};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;

pub async fn build_state_summary(
    State(state): State<FunctionsState>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let invocation = Invocation::of("build_state_summary", &headers);
    invocation_reply(&invocation, build_if_due(&state, &body).await)
}

async fn build_if_due(state: &FunctionsState, body: &[u8]) -> Result<Invoked, FunctionError> {
    let run = decode_timer(body)?;
    let backlog = backlog_line(state).await;
    let mut invoked = build_unless_built(state, &run).await?;
    invoked.logs.splice(0..0, backlog);
    Ok(invoked)
}

/// The stream's backlog, said every hour: the `stream-backlog` alert reads this line
/// (and operators the trend). A backlog that cannot be read is a warning, not a failed
/// tick: the report does not depend on it.
async fn backlog_line(state: &FunctionsState) -> Option<String> {
    let backlog = state.backlog.as_ref()?;
    match backlog.backlog().await {
        Ok(backlog) => {
            let line = backlog.line();
            tracing::info!("{line}");
            Some(line)
        }
        Err(e) => {
            tracing::warn!(error = %crate::errors::Chain(&e), "stream backlog unknown");
            Some(format!(
                "stream backlog unknown: {}",
                crate::errors::Chain(&e)
            ))
        }
    }
}

async fn build_unless_built(
    state: &FunctionsState,
    run: &TimerRun,
) -> Result<Invoked, FunctionError> {
    let due = ReportWindow::due_nightly(run.utc_now, state.report_tz);
    if state.summary.last_built_as_of().await? == Some(due.as_of) {
        let log = format!(
            "state_top_pizzas for [{}, {}) is built already; nothing to do",
            crate::order::format_ts(&due.start),
            crate::order::format_ts(&due.end)
        );
        let mut logs = vec![log];
        logs.extend(compact_ahead(state, &due, run).await);
        return Ok(Invoked::logged(logs));
    }
    build(state, due, run).await
}

/// Compacts the days that ended since they last landed, so that the 02:00 build finds
/// them rolled up and only reads: one line when it did something. A failure is a
/// warning, not a failed tick: the build compacts what it needs itself.
async fn compact_ahead(
    state: &FunctionsState,
    due: &ReportWindow,
    run: &TimerRun,
) -> Option<String> {
    let log = match state.summary.compact_ahead(due, run.utc_now).await {
        Ok(done) if done.partitions_compacted == 0 && done.rollups_written == 0 => return None,
        Ok(done) => format!(
            "compacted {} days and rolled up {} ahead of the nightly build",
            done.partitions_compacted, done.rollups_written
        ),
        Err(e) => {
            let error = crate::errors::Chain(&e);
            tracing::warn!(%error, "compaction ahead of the nightly build failed; the build will compact");
            format!("compaction ahead of the nightly build failed; the build will compact: {error}")
        }
    };
    tracing::info!("{log}");
    Some(log)
}

async fn build(
    state: &FunctionsState,
    window: ReportWindow,
    run: &TimerRun,
) -> Result<Invoked, FunctionError> {
    let report = state
        .summary
        .refresh(window, RefreshOptions::default())
        .await?;
    // The alert "no report built by 03:00" (bicep/modules/alerts.bicep) looks for this
    // line's opening words in the function's logs.
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
    tracing::info!("{log}");
    Ok(Invoked {
        logs: vec![log],
        return_value: serde_json::to_value(&report).expect("json"),
    })
}
