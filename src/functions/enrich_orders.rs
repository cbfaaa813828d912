//! `enrich_orders`: an Event Hubs batch → customers joined → Parquet in the lake.
//!
//! Answers 200 only once every row of the batch is durably in the lake; anything else
//! is a failed invocation and the batch comes again (never checkpointed past).

use super::invocation::decode_eventhub_batch;
use super::{invocation_reply, FunctionsState};
use crate::enrich::enrich_batch;
use crate::lake::{land_batch, quarantine_poison};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;

pub async fn enrich_orders(
    State(state): State<FunctionsState>,
    body: Bytes,
) -> axum::response::Response {
    let batch = match decode_eventhub_batch(&body) {
        Ok(batch) => batch,
        Err(e) => {
            state.metrics.enrich_failures.inc();
            tracing::error!(error = %e, "enrich_orders got an unreadable invocation");
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(super::InvocationResponse {
                    logs: vec![e.to_string()],
                    ..Default::default()
                }),
            )
                .into_response();
        }
    };
    let result = process(&state, batch).await;
    if let Err(e) = &result {
        state.metrics.enrich_failures.inc();
        tracing::warn!(error = %e, "enrich_orders failed; the batch will be retried");
    }
    invocation_reply(result).into_response()
}

async fn process(
    state: &FunctionsState,
    batch: super::invocation::EventHubBatch,
) -> Result<(Vec<String>, serde_json::Value), String> {
    let (Some(first), Some(last)) = (batch.first_seq(), batch.last_seq()) else {
        return Ok((vec!["empty batch".into()], serde_json::Value::Null));
    };
    let partition = batch.partition.clone();
    let enriched = enrich_batch(batch.events, state.customers.as_ref())
        .await
        .map_err(|e| e.to_string())?;
    let files = land_batch(state.lake.as_ref(), &enriched.rows, &partition, first, last)
        .await
        .map_err(|e| e.to_string())?;
    quarantine_poison(
        state.lake.as_ref(),
        &enriched.poison,
        &partition,
        first,
        last,
    )
    .await
    .map_err(|e| e.to_string())?;

    let landed_at = Utc::now();
    let unknown = enriched.unknown_customers();
    state
        .metrics
        .orders_landed
        .inc_by(enriched.rows.len() as u64);
    state.metrics.unknown_customers.inc_by(unknown as u64);
    state
        .metrics
        .poison_events
        .inc_by(enriched.poison.len() as u64);
    for row in &enriched.rows {
        let waited = (landed_at - row.event.received_at)
            .num_microseconds()
            .unwrap_or(0)
            .max(0);
        state
            .metrics
            .accepted_to_landed
            .observe(waited as f64 / 1e6);
    }
    let log = format!(
        "partition {partition} seq {first}..={last}: landed {} rows in {} files, {unknown} unknown customers, {} poison events",
        enriched.rows.len(),
        files.len(),
        enriched.poison.len()
    );
    tracing::debug!("{log}");
    Ok((vec![log], serde_json::Value::Null))
}
