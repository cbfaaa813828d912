//! The embedded Event Hubs trigger: reads the order log in batches, invokes
//! `enrich_orders` with the Functions host's payload, and checkpoints only after the
//! invocation succeeded. A failed batch is retried (same range, so the same files) with
//! exponential backoff — never skipped.
//!
//! Like the Event Hubs extension's `minEventBatchSize` / `maxWaitTime`, it waits a
//! little for a fuller batch ([`BatchPolicy`]): every invocation writes one Parquet file
//! per order day and a checkpoint, so calling it for each commit's handful of orders
//! spent a third of the process's CPU on per-file overhead under load (bench/NOTES.md).

use crate::functions::invocation::encode_eventhub_batch;
use crate::stream::{EmbeddedLog, LogError};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// The consumer group whose checkpoint the dispatcher keeps.
pub const CONSUMER: &str = "enrich_orders";
/// With nothing to read, look again at least this often (a commit also wakes us).
const IDLE_POLL: Duration = Duration::from_millis(500);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How the dispatcher forms batches.
#[derive(Debug, Clone, Copy)]
pub struct BatchPolicy {
    /// Most events in one invocation (`maxEventBatchSize`).
    pub max: usize,
    /// Fewer events than this wait for more (`minEventBatchSize`)…
    pub min: usize,
    /// …but never longer than this after the first of them was seen (`maxWaitTime`).
    pub max_wait: Duration,
}

pub async fn run(
    log: Arc<EmbeddedLog>,
    app: Router,
    policy: BatchPolicy,
    shutdown: CancellationToken,
) {
    let batch_max = policy.max.max(1);
    // `dev` refuses a min above the max (src/cli.rs); a library caller gets the max.
    let batch_min = policy.min.clamp(1, batch_max);
    let mut partial_since: Option<Instant> = None;
    let appended = log.appended();
    let mut checkpoint = match blocking(&log, move |log| log.checkpoint(CONSUMER)).await {
        Ok(seq) => seq,
        Err(e) => {
            tracing::error!(error = %crate::errors::Chain(&e), "cannot read the dispatcher checkpoint; enrichment stopped");
            return;
        }
    };
    tracing::info!(checkpoint, "dispatcher started");
    loop {
        // Asked to stop: deliver what is there now, without waiting for more, then end.
        let stopping = shutdown.is_cancelled();
        let batch = match blocking(&log, move |log| log.read_after(checkpoint, batch_max)).await {
            Ok(batch) => batch,
            Err(e) if stopping => {
                tracing::warn!(error = %crate::errors::Chain(&e), "cannot read the order log; the rest is delivered at the next start");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %crate::errors::Chain(&e), "cannot read the order log; retrying");
                sleep_or_stop(FIRST_BACKOFF * 10, &shutdown).await;
                continue;
            }
        };
        let Some(last) = batch.events.last().map(|e| e.seq) else {
            if stopping {
                return;
            }
            tokio::select! {
                _ = appended.notified() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = shutdown.cancelled() => {}
            }
            continue;
        };
        if batch.events.len() < batch_min && !stopping {
            let since = *partial_since.get_or_insert_with(Instant::now);
            let remaining = policy.max_wait.saturating_sub(since.elapsed());
            if !remaining.is_zero() {
                let wanted = checkpoint + batch_min as i64;
                wait_for_events(&log, wanted, remaining, &shutdown).await;
                continue; // read again, fuller
            }
        }
        partial_since = None;
        let events: Vec<_> = batch
            .events
            .iter()
            .map(|e| (e.seq, e.body.as_str(), e.enqueued_at))
            .collect();
        let payload = Bytes::from(encode_eventhub_batch("0", &events, "orders", "$Default"));
        if !deliver(&app, payload, &shutdown).await {
            return; // stopping mid-retry: the batch stays unchecked and comes again
        }
        if let Err(e) = blocking(&log, move |log| log.set_checkpoint(CONSUMER, last)).await {
            // Not fatal: the batch will be delivered again and land on the same files.
            tracing::warn!(error = %crate::errors::Chain(&e), "checkpoint not saved; the batch may be delivered again");
        }
        checkpoint = last;
        if stopping {
            return;
        }
    }
}

/// Returns once the log holds event `wanted_seq`, after `limit`, or on stop.
async fn wait_for_events(
    log: &EmbeddedLog,
    wanted_seq: i64,
    limit: Duration,
    shutdown: &CancellationToken,
) {
    let appended = log.appended();
    let deadline = tokio::time::Instant::now() + limit;
    while log.last_seq() < wanted_seq {
        tokio::select! {
            _ = appended.notified() => {}
            _ = tokio::time::sleep_until(deadline) => return,
            _ = shutdown.cancelled() => return,
        }
    }
}

/// Invokes `enrich_orders` until it succeeds; false if asked to stop first.
/// Each retry sends the same bytes again: a clone of `payload` is a reference, not a copy.
async fn deliver(app: &Router, payload: Bytes, shutdown: &CancellationToken) -> bool {
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1u32;
    loop {
        match invoke(app, "/enrich_orders", payload.clone()).await {
            Ok(()) => return true,
            Err(e) => {
                tracing::warn!(attempt, error = %crate::errors::Chain(&e), retry_in_ms = backoff.as_millis() as u64, "enrich_orders failed; retrying the same batch");
            }
        }
        if !sleep_or_stop(backoff, shutdown).await {
            return false;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
        attempt += 1;
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    /// The function answered that the invocation failed; its answer says why.
    #[error("{status}: {answer}")]
    Failed { status: StatusCode, answer: String },
    #[error("the order log")]
    Log(#[from] LogError),
    #[error("a worker reading the order log failed")]
    Task(#[from] tokio::task::JoinError),
}

/// One invocation through the handler's own router, exactly as the host would POST it.
pub async fn invoke(app: &Router, path: &str, payload: Bytes) -> Result<(), DispatchError> {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(payload))
        .expect("valid request");
    let Ok(response) = app.clone().oneshot(request).await;
    if response.status().is_success() {
        return Ok(());
    }
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    Err(DispatchError::Failed {
        status,
        answer: String::from_utf8_lossy(&body).into_owned(),
    })
}

async fn sleep_or_stop(duration: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(duration) => true,
        _ = shutdown.cancelled() => false,
    }
}

async fn blocking<T: Send + 'static>(
    log: &Arc<EmbeddedLog>,
    f: impl FnOnce(&EmbeddedLog) -> Result<T, LogError> + Send + 'static,
) -> Result<T, DispatchError> {
    let log = log.clone();
    Ok(tokio::task::spawn_blocking(move || f(&log)).await??)
}
