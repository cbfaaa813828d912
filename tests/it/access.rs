//! Access: with a key configured, the writing endpoints and the reads of personal data
//! need it and the other reading ones do not; admin routes take JSON only and refuse
//! cross-site requests; the host-only invocation routes are never reachable from outside.

use crate::common::{client, get_status, Dev};
use serde_json::json;

fn order() -> serde_json::Value {
    json!({"order_id": 1, "customer_id": 1, "type": "cheese", "qty": 1, "retail_price": 9.5, "order_date": "2026-01-01T12:00:00Z"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writing_endpoints_and_personal_data_need_the_key_reading_the_report_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = Dev::start(&tmp.path().join("data"), &["--api-key", "s3cret-key"]);
    let http = client();
    let url = dev.url("/api/orders");

    let none = http.post(&url).json(&order()).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.text().await.unwrap().contains("x-functions-key"));
    let wrong = http
        .post(&url)
        .header("x-functions-key", "s3cret-kez")
        .json(&order())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let refresh = http.post(dev.url("/admin/refresh")).send().await.unwrap();
    assert_eq!(refresh.status(), 401);

    let by_header = http
        .post(&url)
        .header("x-functions-key", "s3cret-key")
        .json(&order())
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), 202);
    let by_bearer = http
        .post(dev.url("/admin/refresh"))
        .bearer_auth("s3cret-key")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(by_bearer.status(), 200);

    // Admin routes: JSON only, and never from a web page elsewhere, key or not.
    let as_text = http
        .post(dev.url("/admin/refresh"))
        .bearer_auth("s3cret-key")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(as_text.status(), 415);
    let from_a_page = http
        .post(dev.url("/admin/refresh"))
        .bearer_auth("s3cret-key")
        .header("origin", "https://attacker.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(from_a_page.status(), 403);

    // An order's warehouse row holds a name and an address: the key is needed to read it.
    assert_eq!(get_status(&http, &dev, "/api/orders/1").await, 401);
    let keyed = http
        .get(dev.url("/api/orders/1"))
        .header("x-functions-key", "s3cret-key")
        .send()
        .await
        .unwrap();
    assert!(
        matches!(keyed.status().as_u16(), 200 | 404),
        "{}",
        keyed.status()
    );

    assert_eq!(get_status(&http, &dev, "/api/report?state=TX").await, 200);
    assert_eq!(get_status(&http, &dev, "/healthz").await, 200);
    assert_eq!(get_status(&http, &dev, "/").await, 200);
    // The published API document, open to read, byte for byte the repository's.
    let document = http.get(dev.url("/openapi.json")).send().await.unwrap();
    assert_eq!(document.status(), 200);
    assert_eq!(
        document.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert_eq!(
        document.text().await.unwrap(),
        std::fs::read_to_string("docs/openapi.json").unwrap()
    );
    // Invocation routes belong to the host (the in-process dispatcher and timer).
    for path in [
        "/enrich_orders",
        "/build_state_summary",
        "/verify_state_summary",
        "/api/refresh",
    ] {
        let forged = http
            .post(dev.url(path))
            .header("x-functions-key", "s3cret-key")
            .json(&json!({"Data": {}}))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 404, "{path} must not be reachable");
    }
    let log = dev.log_text();
    assert!(
        !log.contains("s3cret-key"),
        "the key never appears in the logs"
    );
    dev.stop();
}
