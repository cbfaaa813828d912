//! Every rule of CONTRACT §3 through the real server: the right status, a JSON reason naming
//! the field (and index), never a 5xx, and nothing of a refused request stored.

use crate::common::{client, get_status, metric, Dev};
use serde_json::{json, Value};

fn valid(order_id: i64) -> Value {
    json!({"order_id": order_id, "customer_id": 1, "type": "cheese", "qty": 1, "retail_price": 9.99, "order_date": "2026-01-01T12:00:00Z"})
}

fn with(field: &str, value: Value) -> Value {
    let mut order = valid(77);
    order[field] = value;
    order
}

fn without(field: &str) -> Value {
    let mut order = valid(77);
    order.as_object_mut().unwrap().remove(field);
    order
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_is_refused_and_nothing_is_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = Dev::start(&tmp.path().join("data"), &[]);
    let http = client();
    let url = dev.url("/api/orders");

    let far_future = (chrono::Utc::now() + chrono::Duration::minutes(61)).to_rfc3339();
    let cases: Vec<(Value, &str, &str)> = vec![
        (without("order_id"), "order_id", "required"),
        (with("order_id", json!(0)), "order_id", "between 1 and"),
        (with("order_id", json!(-1)), "order_id", "between 1 and"),
        (
            with("order_id", json!(9_223_372_036_854_775_808u64)),
            "order_id",
            "between 1 and",
        ),
        (with("order_id", json!(1.5)), "order_id", "integer"),
        (with("order_id", json!("77")), "order_id", "integer"),
        (without("customer_id"), "customer_id", "required"),
        (
            with("customer_id", json!(0)),
            "customer_id",
            "between 1 and",
        ),
        (with("customer_id", Value::Null), "customer_id", "required"),
        (without("type"), "type", "required"),
        (with("type", json!("hawaiian")), "type", "not on the menu"),
        (with("type", json!(3)), "type", "string"),
        (without("qty"), "qty", "required"),
        (with("qty", json!(0)), "qty", "between 1 and 1000"),
        (with("qty", json!(1001)), "qty", "between 1 and 1000"),
        (with("qty", json!(2.5)), "qty", "integer"),
        (without("retail_price"), "retail_price", "required"),
        (
            with("retail_price", json!(-0.01)),
            "retail_price",
            "negative",
        ),
        (
            with("retail_price", json!(1_000_000.01)),
            "retail_price",
            "at most",
        ),
        (
            with("retail_price", json!("9.99")),
            "retail_price",
            "number",
        ),
        (without("order_date"), "order_date", "required"),
        (
            with("order_date", json!("last tuesday")),
            "order_date",
            "RFC 3339",
        ),
        (
            with("order_date", json!("2026-13-01T00:00:00Z")),
            "order_date",
            "RFC 3339",
        ),
        (
            with("order_date", json!(far_future)),
            "order_date",
            "future",
        ),
    ];
    for (body, field, needle) in &cases {
        let response = http.post(&url).json(body).send().await.unwrap();
        assert_eq!(response.status(), 422, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["field"], json!(field), "{body} → {answer}");
        assert!(
            answer["error"].as_str().unwrap().contains(needle),
            "{body} → {answer}"
        );
    }

    // An array is all-or-nothing and names the bad element.
    let batch = json!([valid(101), valid(102), with("qty", json!(0))]);
    let response = http.post(&url).json(&batch).send().await.unwrap();
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        (answer["index"].clone(), answer["field"].clone()),
        (json!(2), json!("qty"))
    );
    let too_many: Vec<Value> = (1..=1001).map(valid).collect();
    assert_eq!(
        http.post(&url)
            .json(&too_many)
            .send()
            .await
            .unwrap()
            .status(),
        422
    );
    assert_eq!(
        http.post(&url)
            .json(&json!([]))
            .send()
            .await
            .unwrap()
            .status(),
        422
    );

    // Malformed JSON is a 400; the wrong media type a 415; a body over 1 MiB a 413.
    for raw in ["{", "{\"order_id\": 1,}", "not json", ""] {
        let response = http
            .post(&url)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{raw:?}");
        assert!(response.json::<Value>().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("malformed"));
    }
    let wrong_type = http
        .post(&url)
        .header("content-type", "text/plain")
        .body(valid(5).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
    let huge = format!("[{}]", vec![valid(6).to_string(); 12_000].join(","));
    assert!(huge.len() > 1024 * 1024);
    let response = client() // its own connection: a 413 closes it
        .post(&url)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);

    // Nothing of any refused request was stored.
    assert_eq!(
        metric(&http, &dev, "pizza_orders_accepted_total").await,
        0.0
    );
    for id in [77, 101, 102, 5, 6] {
        assert_eq!(
            get_status(&http, &dev, &format!("/api/orders/{id}")).await,
            404
        );
    }
    // … and the server is unharmed: a good order still goes through and lands.
    let ok = http.post(&url).json(&valid(1)).send().await.unwrap();
    assert_eq!(ok.status(), 202);
    assert_eq!(ok.json::<Value>().await.unwrap()["accepted"], json!([1]));
    crate::common::wait_until_landed(&http, &dev).await;
    assert_eq!(get_status(&http, &dev, "/api/orders/1").await, 200);
    assert_eq!(
        metric(&http, &dev, "pizza_orders_accepted_total").await,
        1.0
    );
    // The books: every refused request left no trace; the one accepted order landed.
    // Re-posting it is a duplicate (counted once), a changed re-post a conflict.
    let again = http.post(&url).json(&valid(1)).send().await.unwrap();
    assert_eq!(
        again.json::<Value>().await.unwrap()["duplicates"],
        json!([1])
    );
    let mut changed = valid(1);
    changed["qty"] = json!(7);
    let conflict = http.post(&url).json(&changed).send().await.unwrap();
    assert_eq!(
        conflict.json::<Value>().await.unwrap()["conflicts"],
        json!([1])
    );
    let books = crate::common::balanced_books(&http, &dev).await;
    assert_eq!(
        [
            crate::common::total(&books, "accepted"),
            crate::common::total(&books, "landed"),
            crate::common::total(&books, "duplicates"),
            crate::common::total(&books, "conflicts"),
        ],
        [1, 1, 1, 1]
    );
    dev.stop();
}
