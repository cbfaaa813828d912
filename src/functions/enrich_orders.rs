//! `enrich_orders`: an Event Hubs batch → customers joined → Parquet in the lake.
//!
//! Answers 200 only once every row of the batch is durably in the lake, and every event
//! that is not an order is in the lake's quarantine with its reason; anything else is a
//! failed invocation and the batch comes again (never checkpointed past). An invocation
//! that cannot be read at all is kept raw in quarantine and acknowledged.

use super::invocation::{decode_eventhub_batch, EventHubBatch, InvocationError};
use super::{invocation_reply, FunctionError, FunctionsState, Invocation, Invoked};
use crate::enrich::enrich_batch;
use crate::lake::{land_batch, quarantine_invocation, quarantine_poison};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;

pub async fn enrich_orders(
    State(state): State<FunctionsState>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let invocation = Invocation::of("enrich_orders", &headers);
    let result = match decode_eventhub_batch(&body) {
        Ok(batch) => process(&state, batch).await,
        Err(e) if e.is_unreadable() => keep_unreadable(&state, body, e).await,
        Err(e) => Err(e.into()),
    };
    if result.is_err() {
        state.metrics.enrich_failures.inc();
    }
    invocation_reply(&invocation, result)
}

/// An invocation no retry can mend (not JSON, no `orders` binding, values of the wrong
/// shape) would fail for ever and, with the trigger's unlimited retries, hold its
/// partition still. It is kept raw in the lake's quarantine, logged as an error and
/// counted, and then acknowledged so the partition moves on. Only if it cannot be kept
/// does the invocation fail (and come again): nothing is dropped unseen.
async fn keep_unreadable(
    state: &FunctionsState,
    body: Bytes,
    error: InvocationError,
) -> Result<Invoked, FunctionError> {
    // The whole chain: the reason kept beside the body names the parser's own cause too.
    let reason = crate::errors::chain(&error);
    let lake = state.lake.as_ref();
    let path = quarantine_invocation(lake, "enrich_orders", body, &reason, Utc::now())
        .await
        .map_err(|source| FunctionError::NotQuarantined {
            reason: reason.clone(),
            source,
        })?;
    state.metrics.invocations_quarantined.inc();
    // An error line: an unreadable invocation is the host's or the trigger's fault.
    let log = format!("unreadable invocation kept in quarantine at {path}: {reason}");
    tracing::error!("{log}");
    Ok(Invoked::logged(vec![log]))
}

async fn process(state: &FunctionsState, batch: EventHubBatch) -> Result<Invoked, FunctionError> {
    let (Some(first), Some(last)) = (batch.first_seq(), batch.last_seq()) else {
        return Ok(Invoked::logged(vec!["empty batch".into()]));
    };
    let partition = batch.partition.clone();
    let enriched = enrich_batch(batch.events, state.customers.as_ref()).await?;
    let lake = state.lake.as_ref();
    let files = land_batch(lake, &enriched.rows, &partition, first, last).await?;
    let set_aside = quarantine_poison(lake, &enriched.poison, &partition, first, last).await?;

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
    if let Some(path) = set_aside {
        let line = quarantined_line(&enriched.poison, &partition, first, last, &path);
        tracing::warn!("{line}");
        logs.push(line);
    }
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

/// The opening word of the warning line of events set aside (the alert
/// `events-quarantined` looks for it; one word, as Application Insights' `has` matches).
pub const QUARANTINED: &str = "QUARANTINED";

/// One line saying how many events of a batch were set aside, why, and where.
fn quarantined_line(
    poison: &[crate::enrich::PoisonEvent],
    partition: &str,
    first: i64,
    last: i64,
    path: &str,
) -> String {
    let reasons = crate::ledger::count_reasons(poison.iter().map(|p| p.reason.as_str()));
    let said: Vec<String> = reasons
        .iter()
        .map(|r| format!("{} × {}", r.events, r.reason))
        .collect();
    format!(
        "{QUARANTINED} {} events of partition {partition} seq {first}..={last}, set aside at {path}: {}",
        poison.len(),
        said.join("; ")
    )
}
