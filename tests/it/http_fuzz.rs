//! Hostile input over HTTP: random bytes, deep JSON, huge numbers, unicode, injection
//! strings. The server never answers 5xx, never crashes, and stores nothing.

use crate::common::{client, get_status, metric, Dev};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

const HOSTILE_STRINGS: &[&str] = &[
    "'; DROP TABLE state_top_pizzas; --",
    "\" OR 1=1 --",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "ﬁ𝓅𝒾𝓏𝓏𝒶 🍕",
    "\u{0}\u{1}\u{7f}",
    "Ｃｈｅｅｓｅ",
    "pepperoni\u{200b}",
    "%00%ff",
    "{{window_files}}",
];

const HOSTILE_NUMBERS: &[&str] = &[
    "1e400",
    "-1e400",
    "123456789012345678901234567890",
    "-0",
    "0.0000000000000000000001",
    "1E-2",
    "2.5",
    "9223372036854775808",
    "-9223372036854775809",
    "NaN",
    "Infinity",
    "0x10",
    "1_000",
];

fn valid() -> Value {
    json!({"order_id": 5, "customer_id": 5, "type": "veggie", "qty": 2, "retail_price": 19.99, "order_date": "2026-01-01T00:00:00Z"})
}

/// One hostile body; none of them is a valid order.
fn hostile_body(rng: &mut ChaCha8Rng) -> Vec<u8> {
    match rng.random_range(0..6) {
        0 => (0..rng.random_range(0..400))
            .map(|_| rng.random())
            .collect(),
        1 => {
            let depth = rng.random_range(100..5000);
            format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        }
        2 => {
            // integer fields: every number below breaks their rules (1E+2 would not: it is the integer 100)
            let field = ["order_id", "customer_id", "qty"][rng.random_range(0..3)];
            let number = HOSTILE_NUMBERS[rng.random_range(0..HOSTILE_NUMBERS.len())];
            let text = valid().to_string();
            let at = text.find(&format!("\"{field}\":")).unwrap() + field.len() + 3;
            let end = at + text[at..].find([',', '}']).unwrap();
            format!("{}{number}{}", &text[..at], &text[end..]).into_bytes()
        }
        3 => {
            let mut order = valid();
            let field = ["type", "order_date"][rng.random_range(0..2)];
            order[field] = json!(HOSTILE_STRINGS[rng.random_range(0..HOSTILE_STRINGS.len())]);
            order.to_string().into_bytes()
        }
        4 => {
            let mut order = valid();
            order["qty"] = json!(0);
            order["padding"] = json!("x".repeat(rng.random_range(0..200_000)));
            order.to_string().into_bytes()
        }
        _ => {
            let mut text = valid().to_string().into_bytes();
            let cut = rng.random_range(0..text.len() - 1);
            text.truncate(cut);
            text
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_never_gets_a_5xx_and_stores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = Dev::start(&tmp.path().join("data"), &[]);
    let http = client();
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    for i in 0..600 {
        let body = hostile_body(&mut rng);
        let response = http
            .post(dev.url("/api/orders"))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(
            [400, 413, 422].contains(&status),
            "case {i}: {status} for {:?}",
            String::from_utf8_lossy(&body[..body.len().min(120)])
        );
        let answer: Value = response.json().await.unwrap();
        assert!(
            answer["error"].is_string(),
            "case {i}: every refusal says why"
        );
    }
    for i in 0..300 {
        let code: String = (0..rng.random_range(0..6))
            .map(|_| char::from(rng.random_range(0x20u8..0x7f)))
            .collect();
        let query = format!(
            "/api/report?state={}",
            code.bytes()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>()
        );
        let status = get_status(&http, &dev, &query).await;
        assert!(
            status == 200 || status == 400,
            "report case {i}: {status} for {code:?}"
        );
        let order_path = format!("/api/orders/{}", HOSTILE_NUMBERS[i % HOSTILE_NUMBERS.len()]);
        let status = get_status(&http, &dev, &order_path).await;
        assert!(
            status == 400 || status == 404,
            "order lookup {order_path}: {status}"
        );
    }
    assert_eq!(
        metric(&http, &dev, "pizza_orders_accepted_total").await,
        0.0,
        "nothing was stored"
    );
    assert_eq!(get_status(&http, &dev, "/healthz").await, 200);
    dev.stop();
}
