//! Every refusal of the HTTP API, and the one place where it becomes an answer: a
//! status, a JSON body `{"error": …}` and the headers that go with it. The order API's
//! refusals (CONTRACT §3) also name the field at fault (`"field"`, `null` when none) and,
//! in an array, the index of the order.
//!
//! A back-end failure reaches the client as a fixed message and an `error_id`; its cause
//! goes to the log once, under the same id, and never into an answer.

use crate::order::Rejection;
use crate::server::BodyError;
use crate::summary::RequestError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request cannot be read: malformed JSON, a bad query or path.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// Well-formed, but its values are not acceptable.
    #[error("{0}")]
    Unprocessable(String),
    /// A back-end could not do it now; nothing changed, and the client may retry. The
    /// cause is in the log under `error_id`.
    #[error("{message}")]
    Unavailable {
        message: &'static str,
        error_id: String,
    },
    #[error("{0}")]
    Unauthorized(String),
    /// Refused whoever asks: a cross-site request to an admin route.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error(transparent)]
    Body(#[from] BodyError),
    /// `--verify` found the report core and the warehouse's own SQL disagree: nothing was
    /// published, and trying again gives the same answer.
    #[error("{0}")]
    VerificationFailed(String),
    /// An order request refused at the door: nothing of it was stored.
    #[error("{0}")]
    Order(OrderRefusal),
}

/// Why `POST /api/orders` refused a request.
#[derive(Debug, thiserror::Error)]
pub enum OrderRefusal {
    #[error("Content-Type must be application/json, got {0:?}")]
    NotJson(String),
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The order stream is full: it sheds load; a retry in a second succeeds.
    #[error("the order stream is at capacity; nothing was stored, retry in a second")]
    StreamBusy,
    /// The order stream could not be reached; the cause is in the log under `error_id`.
    #[error("the order stream is unavailable; nothing was stored, retry later")]
    StreamUnavailable { error_id: String },
}

/// A short random id that ties an answer to the log line with its cause.
pub fn new_error_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl ApiError {
    /// A back-end failure: the client gets `message` and an id, the log gets the cause.
    pub fn backend(message: &'static str, cause: &(dyn std::error::Error + 'static)) -> Self {
        let error_id = new_error_id();
        tracing::error!(error_id, cause = crate::errors::chain(cause), "{message}");
        ApiError::Unavailable { message, error_id }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Body(body) => body_status(body),
            ApiError::VerificationFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Order(refusal) => match refusal {
                OrderRefusal::NotJson(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                OrderRefusal::Body(body) => body_status(body),
                OrderRefusal::Rejected(Rejection::Malformed(_)) => StatusCode::BAD_REQUEST,
                OrderRefusal::Rejected(Rejection::Invalid { .. }) => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                OrderRefusal::StreamBusy | OrderRefusal::StreamUnavailable { .. } => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            },
        }
    }

    fn body(&self) -> serde_json::Value {
        let ApiError::Order(refusal) = self else {
            let mut body = json!({"error": self.to_string()});
            if let ApiError::Unavailable { error_id, .. } = self {
                body["error_id"] = json!(error_id);
            }
            return body;
        };
        match refusal {
            OrderRefusal::Rejected(Rejection::Invalid {
                message,
                field,
                index,
            }) => {
                let mut body = json!({"error": message, "field": field});
                if let Some(index) = index {
                    body["index"] = json!(index);
                }
                body
            }
            OrderRefusal::StreamUnavailable { error_id } => {
                json!({"error": refusal.to_string(), "field": null, "error_id": error_id})
            }
            other => json!({"error": other.to_string(), "field": null}),
        }
    }
}

fn body_status(error: &BodyError) -> StatusCode {
    match error {
        BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        BodyError::TimedOut => StatusCode::REQUEST_TIMEOUT,
        BodyError::Unreadable => StatusCode::BAD_REQUEST,
    }
}

impl From<OrderRefusal> for ApiError {
    fn from(refusal: OrderRefusal) -> Self {
        ApiError::Order(refusal)
    }
}

impl From<RequestError> for ApiError {
    fn from(error: RequestError) -> Self {
        match error {
            RequestError::Malformed(_) => ApiError::BadRequest(crate::errors::chain(&error)),
            _ => ApiError::Unprocessable(error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        match self {
            // Nothing was stored; a client may simply try again shortly.
            ApiError::Order(OrderRefusal::StreamBusy | OrderRefusal::StreamUnavailable { .. }) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            // The rest of the body was never read: the connection cannot be reused.
            ApiError::Order(OrderRefusal::Body(_)) | ApiError::Body(_) => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}

/// A report build that failed: a verification that found a difference says which (500);
/// any other failure is a back-end one (503 with an id, the cause in the log). The
/// previous report is still served either way.
impl From<crate::summary::SummaryError> for ApiError {
    fn from(error: crate::summary::SummaryError) -> Self {
        match error {
            mismatch @ crate::summary::SummaryError::Mismatch { .. } => {
                let said = mismatch.to_string();
                tracing::error!("{said}; the previous report stays");
                ApiError::VerificationFailed(said)
            }
            other => ApiError::backend(
                "the report could not be built; the previous one is still served, retry",
                &other,
            ),
        }
    }
}
