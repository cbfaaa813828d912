//! `verify_state_summary`: a weekly timer that recomputes the nightly report with the
//! warehouse's own SQL definition (Synapse in Azure, DuckDB embedded) and compares every
//! figure with the report core's. It publishes nothing. Each run writes one line: that
//! the report verified, or where the first difference is (an error line, which an alert
//! watches: bicep/modules/alerts.bicep, docs/OPERATIONS.md).

use super::invocation::decode_timer;
use super::{invocation_reply, FunctionError, FunctionsState, Invoked};
use crate::summary::ReportWindow;
use axum::body::Bytes;
use axum::extract::State;

/// The opening words of the line of a successful verification (the alert "no
/// verification in 8 days" looks for them).
pub const VERIFIED: &str = "state_top_pizzas verified";
/// The opening words of the line of a failed one.
pub const VERIFICATION_FAILED: &str = "state_top_pizzas verification failed";

pub async fn verify_state_summary(
    State(state): State<FunctionsState>,
    body: Bytes,
) -> axum::response::Response {
    let result = verify(&state, &body).await;
    if let Err(e) = &result {
        tracing::error!("{VERIFICATION_FAILED}: {e}");
    }
    invocation_reply(result)
}

async fn verify(state: &FunctionsState, body: &[u8]) -> Result<Invoked, FunctionError> {
    let run = decode_timer(body)?;
    let window = ReportWindow::due_nightly(run.utc_now, state.report_tz);
    let verified = state.summary.verify(window).await?;
    let log = format!(
        "{VERIFIED} for [{}, {}): {} rows agree with {}",
        verified.window_start, verified.window_end, verified.report_rows, verified.engine
    );
    tracing::info!("{log}");
    Ok(Invoked {
        logs: vec![log],
        return_value: serde_json::to_value(&verified).expect("json"),
    })
}
