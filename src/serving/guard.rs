//! Who may call what on `dev`'s public listener (CONTRACT §8):
//!
//! - **Admin routes** (`/admin/*`) refuse a request a web page could have sent on the
//!   visitor's behalf (a cross-site request, by its `Origin` or `Sec-Fetch-Site`), then
//!   need the key when one is set, then take JSON only. A form or a `no-cors` fetch can
//!   send `text/plain` or a form encoding to any address without asking; JSON makes a
//!   browser ask first, and this server never says yes.
//! - **Order writes** (`POST /api/orders`) and **reads of personal data**
//!   (`GET /api/orders/{id}`: a customer's name and address) need the key when one is set.
//! - The report, the books, the states, health, metrics, the dashboard and the API
//!   document stay open: they hold no personal data.
//!
//! The key is accepted as `x-functions-key` (the header Azure Functions uses for function
//! keys) or as `Authorization: Bearer <key>`.

use crate::api_error::ApiError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::Router;
use std::sync::Arc;

/// `app` behind the rules above; `key` is the API key, if one is set.
pub fn guard(app: Router, key: Option<String>) -> Router {
    let key = Arc::new(key.filter(|k| !k.is_empty()));
    app.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let key = key.clone();
            async move {
                match check(&request, key.as_deref()) {
                    Ok(()) => next.run(request).await,
                    Err(refusal) => refusal.into_response(),
                }
            }
        },
    ))
}

fn check(request: &Request, key: Option<&str>) -> Result<(), ApiError> {
    let path = request.uri().path();
    let headers = request.headers();
    let admin = path.starts_with("/admin/");
    if admin {
        refuse_cross_site(headers)?;
    }
    let needs_key = admin
        || (request.method() == Method::POST && path == "/api/orders")
        || (request.method() == Method::GET && path.starts_with("/api/orders/"));
    if let Some(key) = key.filter(|_| needs_key) {
        if !presents_key(headers, key) {
            return Err(ApiError::Unauthorized(
                "this endpoint needs the API key: send it as x-functions-key or Authorization: Bearer".into(),
            ));
        }
    }
    if admin && request.method() == Method::POST {
        require_json(headers)?;
    }
    Ok(())
}

/// A browser marks where a request comes from: `Sec-Fetch-Site` (recent browsers) and
/// `Origin` (on every POST). Either one saying "another site" is refused; a request with
/// neither (curl, a script) is not from a web page.
fn refuse_cross_site(headers: &HeaderMap) -> Result<(), ApiError> {
    let refused = || {
        ApiError::Forbidden(
            "admin routes refuse cross-site requests: call them from a shell or a script, not from a web page".into(),
        )
    };
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    if !matches!(fetch_site, "same-origin" | "none") {
        return Err(refused());
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin_host = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .map(|(_, authority)| authority.trim_end_matches('/'));
        if origin_host.is_none() || origin_host != host {
            return Err(refused());
        }
    }
    Ok(())
}

fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "admin routes take JSON only: send Content-Type: application/json (got {content_type:?})"
        )))
    }
}

fn presents_key(headers: &HeaderMap, key: &str) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let function_key = headers.get("x-functions-key").and_then(|v| v.to_str().ok());
    [bearer, function_key]
        .into_iter()
        .flatten()
        .any(|given| constant_time_eq(given.as_bytes(), key.as_bytes()))
}

/// Compares without an early exit, so the time taken says nothing about the key.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = axum::http::Request::builder().method(method).uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    const JSON: (&str, &str) = ("content-type", "application/json");
    const HOST: (&str, &str) = ("host", "127.0.0.1:8080");

    fn status(request: &Request, key: Option<&str>) -> u16 {
        match check(request, key) {
            Ok(()) => 200,
            Err(refusal) => refusal.status().as_u16(),
        }
    }

    #[test]
    fn admin_routes_refuse_cross_site_and_non_json_requests() {
        let admin = "/admin/refresh";
        assert_eq!(status(&request("POST", admin, &[JSON, HOST]), None), 200);
        // A page elsewhere: by Origin, by Sec-Fetch-Site, and a text/plain "simple" POST.
        let evil = ("origin", "http://evil.example");
        assert_eq!(
            status(&request("POST", admin, &[JSON, HOST, evil]), None),
            403
        );
        let cross = ("sec-fetch-site", "cross-site");
        assert_eq!(
            status(&request("POST", admin, &[JSON, HOST, cross]), None),
            403
        );
        let same_site = ("sec-fetch-site", "same-site");
        assert_eq!(
            status(&request("POST", admin, &[JSON, HOST, same_site]), None),
            403
        );
        let plain = ("content-type", "text/plain");
        assert_eq!(status(&request("POST", admin, &[plain, HOST]), None), 415);
        assert_eq!(status(&request("POST", admin, &[HOST]), None), 415);
        // The dashboard's own page (same origin) and a shell.
        let own = ("origin", "http://127.0.0.1:8080");
        assert_eq!(
            status(&request("POST", admin, &[JSON, HOST, own]), None),
            200
        );
        let own_fetch = ("sec-fetch-site", "same-origin");
        assert_eq!(
            status(&request("POST", admin, &[JSON, HOST, own_fetch]), None),
            200
        );
    }

    #[test]
    fn the_key_guards_writes_admin_and_personal_data_only() {
        let key = Some("s3cret");
        let with_key = ("x-functions-key", "s3cret");
        let bearer = ("authorization", "Bearer s3cret");
        for (method, path) in [("POST", "/api/orders"), ("GET", "/api/orders/42")] {
            assert_eq!(status(&request(method, path, &[]), key), 401, "{path}");
            assert_eq!(status(&request(method, path, &[with_key]), key), 200);
            assert_eq!(status(&request(method, path, &[bearer]), key), 200);
            assert_eq!(status(&request(method, path, &[]), None), 200, "no key set");
        }
        assert_eq!(
            status(&request("POST", "/admin/refresh", &[JSON]), key),
            401
        );
        let wrong = ("x-functions-key", "s3cres");
        assert_eq!(
            status(&request("POST", "/admin/refresh", &[JSON, wrong]), key),
            401
        );
        for open in [
            "/api/report?state=TX",
            "/api/ledger",
            "/api/states",
            "/healthz",
            "/metrics",
            "/",
            "/openapi.json",
        ] {
            assert_eq!(status(&request("GET", open, &[]), key), 200, "{open}");
        }
    }
}
