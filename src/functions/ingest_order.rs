//! `ingest_order`: validate, publish durably, answer 202 (CONTRACT §3).

use super::FunctionsState;
use crate::order::{parse_orders, OrderEvent, Rejection, MAX_BODY_BYTES};
use crate::stream::{PublishOutcome, StreamError};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::json;

/// Takes the whole request rather than a `HeaderMap` extractor, which clones every header
/// of every order (the clone and its drop were about 2 % of `dev`'s CPU under load).
pub async fn ingest_order(State(state): State<FunctionsState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    match accept(&state, &parts.headers, body).await {
        Ok(response) => response,
        Err((status, body)) => {
            state
                .metrics
                .orders_rejected
                .with_label_values(&[status.as_str()])
                .inc();
            let mut response = (status, Json(body)).into_response();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                // Nothing was stored; a client may simply try again shortly.
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            }
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                // The rest of the body was never read: the connection cannot be reused.
                response.headers_mut().insert(
                    header::CONNECTION,
                    header::HeaderValue::from_static("close"),
                );
            }
            response
        }
    }
}

type Refusal = (StatusCode, serde_json::Value);

async fn accept(
    state: &FunctionsState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    require_json(headers)?;
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": format!("the body is larger than {MAX_BODY_BYTES} bytes"), "field": null}),
        )
    })?;
    let received_at = Utc::now();
    let orders = parse_orders(&bytes, received_at).map_err(refusal)?;
    let events: Vec<OrderEvent> = orders
        .iter()
        .map(|o| OrderEvent::new(o, received_at))
        .collect();
    let outcomes = state.stream.publish(events).await.map_err(|e| {
        match e {
            StreamError::Overloaded => tracing::debug!("order log at capacity; shedding with 503"),
            _ => tracing::error!(error = %e, "order stream refused a publish; answering 503"),
        }
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": format!("{e}; nothing was stored, retry later"), "field": null}),
        )
    })?;
    Ok(answer(state, &orders, &outcomes))
}

fn require_json(headers: &HeaderMap) -> Result<(), Refusal> {
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
        Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"error": format!("Content-Type must be application/json, got {content_type:?}"), "field": null}),
        ))
    }
}

fn refusal(rejection: Rejection) -> Refusal {
    match rejection {
        Rejection::Malformed(message) => (
            StatusCode::BAD_REQUEST,
            json!({"error": format!("malformed JSON: {message}"), "field": null}),
        ),
        Rejection::Invalid {
            message,
            field,
            index,
        } => {
            let mut body = json!({"error": message, "field": field});
            if let Some(index) = index {
                body["index"] = json!(index);
            }
            (StatusCode::UNPROCESSABLE_ENTITY, body)
        }
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
