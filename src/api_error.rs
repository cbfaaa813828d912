//! Every refusal of the HTTP API, and the one place where it becomes an answer: a
//! status, a JSON body `{"error": …}` and the headers that go with it. The order API's
//! refusals (CONTRACT §3) also name the field at fault (`"field"`, `null` when none) and,
//! in an array, the index of the order.

use crate::order::Rejection;
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
    /// A back-end could not do it now; nothing changed, and the client may retry.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Unauthorized(String),
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
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The order stream could not take it (full, or unreachable).
    #[error("{0}; nothing was stored, retry later")]
    StreamUnavailable(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::VerificationFailed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Order(refusal) => match refusal {
                OrderRefusal::NotJson(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                OrderRefusal::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                OrderRefusal::Rejected(Rejection::Malformed(_)) => StatusCode::BAD_REQUEST,
                OrderRefusal::Rejected(Rejection::Invalid { .. }) => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                OrderRefusal::StreamUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            },
        }
    }

    fn body(&self) -> serde_json::Value {
        let ApiError::Order(refusal) = self else {
            return json!({"error": self.to_string()});
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
            other => json!({"error": other.to_string(), "field": null}),
        }
    }
}

impl From<OrderRefusal> for ApiError {
    fn from(refusal: OrderRefusal) -> Self {
        ApiError::Order(refusal)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        match self {
            // Nothing was stored; a client may simply try again shortly.
            ApiError::Order(OrderRefusal::StreamUnavailable(_)) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            // The rest of the body was never read: the connection cannot be reused.
            ApiError::Order(OrderRefusal::TooLarge(_)) => {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            _ => {}
        }
        response
    }
}
