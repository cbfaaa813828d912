//! `enrich_orders`: an Event Hubs batch → customers joined → Parquet in the lake.
//!
//! Answers 200 only once every row of the batch is durably in the lake, and every event
//! that is not an order is in the lake's quarantine with its reason; anything else is a
//! failed invocation and the batch comes again (never checkpointed past). An invocation
//! that cannot be read at all is kept raw in quarantine and acknowledged.

use super::invocation::{decode_eventhub_batch, EventHubBatch, InvocationError};
use super::{invocation_reply, FunctionError, FunctionsState, Invoked};
use crate::enrich::enrich_batch;
use crate::lake::{land_batch, quarantine_invocation, quarantine_poison};
use axum::body::Bytes;
use axum::extract::State;
use chrono::Utc;

pub async fn enrich_orders(
    State(state): State<FunctionsState>,
    body: Bytes,
) -> axum::response::Response {
    let batch = match decode_eventhub_batch(&body) {
        Ok(batch) => batch,
        Err(e) if e.is_unreadable() => return keep_unreadable(&state, body, &e).await,
        Err(e) => {
            state.metrics.enrich_failures.inc();
            tracing::error!(error = %e, "enrich_orders cannot place this batch; the invocation fails and is retried");
            return invocation_reply(Err(e.into()));
        }
    };
    let result = process(&state, batch).await;
    if let Err(e) = &result {
        state.metrics.enrich_failures.inc();
        tracing::warn!(error = %e, "enrich_orders failed; the batch will be retried");
    }
    invocation_reply(result)
}

/// An invocation no retry can mend (not JSON, no `orders` binding, values of the wrong
/// shape) would fail for ever and, with the trigger's unlimited retries, hold its
/// partition still. It is kept raw in the lake's quarantine, logged as an error and
/// counted, and then acknowledged so the partition moves on. Only if it cannot be kept
/// does the invocation fail (and come again): nothing is dropped unseen.
async fn keep_unreadable(
    state: &FunctionsState,
    body: Bytes,
    error: &InvocationError,
) -> axum::response::Response {
    let reason = error.to_string();
    match quarantine_invocation(
        state.lake.as_ref(),
        "enrich_orders",
        body,
        &reason,
        Utc::now(),
    )
    .await
    {
        Ok(path) => {
            state.metrics.invocations_quarantined.inc();
            tracing::error!(error = %reason, %path, "enrich_orders got an unreadable invocation; kept raw in quarantine and acknowledged");
            let log = format!("unreadable invocation kept in quarantine at {path}: {reason}");
            invocation_reply(Ok(Invoked::logged(vec![log])))
        }
        Err(source) => {
            state.metrics.enrich_failures.inc();
            tracing::error!(error = %reason, quarantine_error = %source, "enrich_orders got an unreadable invocation and could not keep it; it will be retried");
            invocation_reply(Err(FunctionError::NotQuarantined { reason, source }))
        }
    }
}

async fn process(state: &FunctionsState, batch: EventHubBatch) -> Result<Invoked, FunctionError> {
    let (Some(first), Some(last)) = (batch.first_seq(), batch.last_seq()) else {
        return Ok(Invoked::logged(vec!["empty batch".into()]));
    };
    let partition = batch.partition.clone();
    let enriched = enrich_batch(batch.events, state.customers.as_ref()).await?;
    let lake = state.lake.as_ref();
    let files = land_batch(lake, &enriched.rows, &partition, first, last).await?;
    quarantine_poison(lake, &enriched.poison, &partition, first, last).await?;

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
    let mut oldest_wait = 0.0_f64;
    for row in &enriched.rows {
        let waited = (landed_at - row.event.received_at)
            .num_microseconds()
            .unwrap_or(0)
            .max(0) as f64
            / 1e6;
        oldest_wait = oldest_wait.max(waited);
        state.metrics.accepted_to_landed.observe(waited);
    }
    tracing::debug!(
        "partition {partition} seq {first}..={last}: landed {} rows in {} files, {unknown} unknown customers, {} poison events",
        enriched.rows.len(),
        files.len(),
        enriched.poison.len()
    );
    // Only what an operator must act on goes into the invocation's Logs, which the
    // Functions host keeps in Application Insights and the alerts read
    // (bicep/modules/alerts.bicep); the routine line above stays in the handler's log.
    let mut logs = Vec::new();
    if oldest_wait > LAG_WARNING_SECS {
        let line = format!(
            "enrich lag: partition {partition} seq {first}..={last}: the oldest order waited {oldest_wait:.0} s from acceptance to the lake (goal: within 15 minutes)"
        );
        tracing::warn!("{line}");
        logs.push(line);
    }
    Ok(Invoked::logged(logs))
}

/// An order older than this when it lands is reported (and alerted on): a third of the
/// 15-minute goal, so operators hear of a growing backlog while there is time to act.
const LAG_WARNING_SECS: f64 = 300.0;
