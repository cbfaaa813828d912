//! `ingest_order`: validate, publish durably, answer 202 (CONTRACT §3).

use super::FunctionsState;
use crate::api_error::{new_error_id, ApiError, OrderRefusal};
use crate::errors::chain;
use crate::order::{parse_orders, DateRule, OrderEvent, MAX_BODY_BYTES};
use crate::server::read_body;
use crate::stream::{PublishOutcome, StreamError};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;

/// Takes the whole request rather than a `HeaderMap` extractor, which clones every header
/// of every order (the clone and its drop were about 2 % of `dev`'s CPU under load).
pub async fn ingest_order(State(state): State<FunctionsState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    match accept(&state, &parts.headers, body).await {
        Ok(response) => response,
        Err(refusal) => {
            let refusal = ApiError::from(refusal);
            state
                .metrics
                .orders_rejected
                .with_label_values(&[refusal.status().as_str()])
                .inc();
            refusal.into_response()
        }
    }
}

async fn accept(
    state: &FunctionsState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, OrderRefusal> {
    require_json(headers)?;
    let bytes = read_body(body, MAX_BODY_BYTES).await?;
    let received_at = Utc::now();
    let orders = parse_orders(&bytes, DateRule::new(received_at, state.order_horizon_days))?;
    let events: Vec<OrderEvent> = orders
        .iter()
        .map(|o| OrderEvent::new(o, received_at))
        .collect();
    let outcomes = state.stream.publish(events).await.map_err(|e| match e {
        StreamError::Overloaded => {
            tracing::debug!("order log at capacity; shedding with 503");
            OrderRefusal::StreamBusy
        }
        other => {
            let error_id = new_error_id();
            let cause = chain(&other);
            tracing::error!(
                error_id,
                cause,
                "the order stream refused a publish; answering 503"
            );
            OrderRefusal::StreamUnavailable { error_id }
        }
    })?;
    Ok(answer(state, &orders, &outcomes))
}

fn require_json(headers: &HeaderMap) -> Result<(), OrderRefusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(OrderRefusal::NotJson(content_type.to_string()))
    }
}

/// The body of a 202: the accepted order ids; duplicates (already accepted, counted
/// once) and conflicts (same id, different payload: the first stands) are named too.
#[derive(serde::Serialize)]
struct Accepted {
    accepted: Vec<i64>,
    duplicates: Vec<i64>,
    conflicts: Vec<i64>,
}

/// Answers 202 with [`Accepted`] and counts each outcome.
fn answer(
    state: &FunctionsState,
    orders: &[crate::order::Order],
    outcomes: &[PublishOutcome],
) -> Response {
    let mut accepted = Vec::with_capacity(orders.len());
    let mut duplicates = Vec::new();
    let mut conflicts = Vec::new();
    for (order, outcome) in orders.iter().zip(outcomes) {
        match outcome {
            PublishOutcome::Appended => {
                state.metrics.orders_accepted.inc();
                accepted.push(order.order_id);
            }
            PublishOutcome::Duplicate => {
                state.metrics.orders_duplicate.inc();
                accepted.push(order.order_id);
                duplicates.push(order.order_id);
            }
            PublishOutcome::Conflict => {
                state.metrics.orders_conflicts.inc();
                tracing::warn!(
                    order_id = order.order_id,
                    "conflicting duplicate quarantined; the first version stands"
                );
                conflicts.push(order.order_id);
            }
        }
    }
    let body = Accepted {
        accepted,
        duplicates,
        conflicts,
    };
    (StatusCode::ACCEPTED, Json(body)).into_response()
}
