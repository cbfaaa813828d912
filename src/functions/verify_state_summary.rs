//! `verify_state_summary`: a weekly timer that recomputes the nightly report with the
//! warehouse's own SQL definition (Synapse in Azure, DuckDB embedded) and compares every
//! figure with the report core's. It publishes nothing. Each run writes one line: that
//! the report verified, or where the first difference is (an error line, which an alert
//! watches: bicep/modules/alerts.bicep, docs/OPERATIONS.md).

use super::invocation::decode_timer;
use super::{invocation_reply, FunctionError, FunctionsState, Invocation, Invoked};
use crate::summary::ReportWindow;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;

/// The opening words of the line of a successful verification (the alert "no
/// verification in 8 days" looks for them).
pub const VERIFIED: &str = "state_top_pizzas verified";
/// The words of the error line of a failed one: a difference, in the text of
/// `SummaryError::Mismatch`.
pub const VERIFICATION_FAILED: &str = "state_top_pizzas verification failed";

pub async fn verify_state_summary(
    State(state): State<FunctionsState>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let invocation = Invocation::of("verify_state_summary", &headers);
    invocation_reply(&invocation, verify(&state, &body).await)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_is_said_in_the_words_the_alert_looks_for() {
        let mismatch = crate::summary::SummaryError::Mismatch {
            engine: "Synapse",
            difference: "row 1 (TX rank 1): …".into(),
        };
        assert!(
            mismatch.to_string().starts_with(VERIFICATION_FAILED),
            "{mismatch}"
        );
    }
}
