//! Fuzz target: `order::parse_orders` on arbitrary request bodies (issue 7).
//!
//! Checks, for every input (see ../README.md for the why of each):
//!  1. `parse_orders` returns; it never panics (debug assertions on: no overflow either).
//!  2. Accepted bodies satisfy the contract (CONTRACT §3, src/order/parse.rs): well-formed
//!     UTF-8 JSON, an object (one order) or an array of 1..=MAX_BATCH_ORDERS objects,
//!     ids ≥ 1, qty in 1..=1000, price in 0..=1,000,000 USD as cents, a menu type,
//!     `order_ts` at most 1 hour after `now` and no older than the date horizon before it,
//!     truncated to microseconds, and every field
//!     agrees with an independent serde_json::Value reading of the same body.
//!  3. Round trips: an accepted order written back in the wire shape (canonical type,
//!     two-decimal price, RFC 3339 `Z` timestamp) parses to the same order, alone and as
//!     a batch; its `OrderEvent` (what the order stream carries) survives
//!     `to_json` → `serde_json::from_str`; a later `now` accepts the same body unchanged
//!     while its orders are inside the later horizon, and refuses it on `order_date` after.
//!  4. Rejections are classified as CONTRACT §3 says: `Malformed` (400) never for well-formed
//!     UTF-8 JSON (lone `\uD8xx` surrogate escapes excepted, see `check`), `Invalid` (422)
//!     only for well-formed JSON; a named field
//!     is a real field, a named index is inside the array and is quoted in the message.
//!
//! `now` is fixed, so every run (and every saved artifact) is reproducible.
#![no_main]

// The parser's own source, not the `pizza-pipeline` crate (which drags in bundled
// DuckDB). Inside it, `crate::order::…` resolves to this module.
#[allow(dead_code, unused_imports)]
#[path = "../../src/order/mod.rs"]
mod order;

use chrono::{DateTime, Duration, Timelike, Utc};
use libfuzzer_sys::fuzz_target;
use order::{
    cents_to_decimal_string, format_ts, parse_orders, parse_price_cents, DateRule, Order,
    OrderEvent, PizzaType, Rejection, MAX_BATCH_ORDERS,
};
use serde::de::IgnoredAny;
use serde_json::value::RawValue;
use serde_json::Value;
use std::sync::LazyLock;

/// The fixed "now" of every run: 2026-06-15T12:00:00Z (the one the unit tests use).
static NOW: LazyLock<DateTime<Utc>> =
    LazyLock::new(|| "2026-06-15T12:00:00Z".parse().expect("a valid timestamp"));

const FIELDS: [&str; 6] = [
    "order_id",
    "customer_id",
    "type",
    "qty",
    "retail_price",
    "order_date",
];
const MAX_QTY: i32 = 1000;
/// 1,000,000 USD.
const MAX_PRICE_CENTS: i64 = 100_000_000;

fuzz_target!(|body: &[u8]| check(body));

fn check(body: &[u8]) {
    let now = *NOW;
    // (1) Never panics: any panic below or inside the parser is a libFuzzer crash.
    let result = parse_orders(body, now);
    // JSON text is UTF-8 (RFC 8259 §8.1); `from_slice` alone would skip invalid UTF-8
    // inside ignored strings, so check it first.
    let text = std::str::from_utf8(body).ok();
    let is_json = text.is_some_and(|text| serde_json::from_str::<IgnoredAny>(text).is_ok());
    match &result {
        Ok(orders) => check_accepted(body, orders, is_json, now),
        Err(Rejection::Malformed(message)) => {
            assert!(!message.is_empty(), "a 400 must say why");
            // A lone UTF-16 surrogate escape ("\ud853") fits JSON's grammar but is no
            // Unicode text: the parser may call it malformed where it has to decode it (in
            // object keys), and skip it elsewhere (ignored values). Only bodies free of
            // them must never be called malformed.
            let clean_json = is_json && !text.is_some_and(has_lone_surrogate);
            assert!(
                !clean_json,
                "well-formed JSON was rejected as malformed (400, CONTRACT §3 wants 422): {message}"
            );
        }
        Err(Rejection::Invalid {
            message,
            field,
            index,
        }) => {
            assert!(
                is_json,
                "a body that is not well-formed JSON was answered 422, not 400: {message}"
            );
            check_invalid(body, message, *field, *index)
        }
    }
}

fn check_accepted(body: &[u8], orders: &[Order], well_formed: bool, now: DateTime<Utc>) {
    // (2) The shape of an accepted body.
    assert!(well_formed, "accepted a body that is not well-formed JSON");
    let text = std::str::from_utf8(body).expect("accepted JSON is UTF-8");
    assert!(
        (1..=MAX_BATCH_ORDERS).contains(&orders.len()),
        "accepted {} orders",
        orders.len()
    );
    let elements: Vec<&str> = match text.trim_start().as_bytes().first() {
        Some(b'{') => {
            assert_eq!(orders.len(), 1, "an object body is exactly one order");
            vec![text]
        }
        Some(b'[') => {
            let raw: Vec<&RawValue> = serde_json::from_str(text).expect("an accepted array");
            assert_eq!(raw.len(), orders.len(), "one order per array element");
            raw.iter().map(|r| r.get()).collect()
        }
        other => panic!("accepted a body starting with {other:?}"),
    };

    for (order, element) in orders.iter().zip(&elements) {
        assert!(
            element.trim_start().starts_with('{'),
            "accepted an order that is not a JSON object: {element}"
        );
        check_order_invariants(order, now);
        check_against_value(order, element);
        check_round_trip(order, now);
    }

    // (3) The whole batch, written back canonically, parses to the same orders.
    if orders.len() > 1 {
        let batch: Vec<String> = orders.iter().map(wire_json).collect();
        let batch = format!("[{}]", batch.join(","));
        assert_eq!(
            parse_orders(batch.as_bytes(), now).as_deref(),
            Ok(orders),
            "canonical batch {batch}"
        );
    }

    // (3) `now` feeds only the date rule (at most 1 hour ahead of it, at most the horizon
    // behind it): a clock 30 days later yields the same orders while they are all inside
    // its horizon too, and otherwise refuses the body naming `order_date`.
    let later = now + Duration::days(30);
    let inside_later_horizon = orders
        .iter()
        .all(|order| order.order_ts >= DateRule::from(later).oldest());
    match parse_orders(body, later) {
        answer if inside_later_horizon => assert_eq!(
            answer.as_deref(),
            Ok(orders),
            "a later `now` changed the result"
        ),
        Err(Rejection::Invalid {
            field: Some("order_date"),
            ..
        }) => {}
        other => panic!("a later `now` put an order past its horizon, yet answered {other:?}"),
    }
}

/// The rules of CONTRACT §3 / parse.rs, on one accepted order.
fn check_order_invariants(order: &Order, now: DateTime<Utc>) {
    assert!(order.order_id >= 1, "order_id {}", order.order_id);
    assert!(order.customer_id >= 1, "customer_id {}", order.customer_id);
    assert!((1..=MAX_QTY).contains(&order.qty), "qty {}", order.qty);
    assert!(
        (0..=MAX_PRICE_CENTS).contains(&order.retail_price_cents),
        "retail_price_cents {}",
        order.retail_price_cents
    );
    assert!(PizzaType::ALL.contains(&order.pizza_type));
    assert_eq!(
        PizzaType::parse_lenient(order.pizza_type.as_str()),
        Some(order.pizza_type)
    );
    assert!(
        order.order_ts <= now + Duration::hours(1),
        "order_ts {} is more than 1 hour after now {}",
        format_ts(&order.order_ts),
        format_ts(&now)
    );
    assert!(
        order.order_ts >= DateRule::from(now).oldest(),
        "order_ts {} is older than the date horizon of now {}",
        format_ts(&order.order_ts),
        format_ts(&now)
    );
    assert_eq!(
        order.order_ts.nanosecond() % 1_000,
        0,
        "order_ts {:?} is not truncated to microseconds",
        order.order_ts
    );
}

/// Reads the same element with `serde_json::Value` (independently of the RawValue path)
/// and checks every field agrees. Skipped when `Value` cannot hold the element, e.g. an
/// ignored extra field holding `1e999` (valid JSON, out of f64 range).
fn check_against_value(order: &Order, element: &str) {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(element) else {
        return;
    };
    check_integer(map.get("order_id"), order.order_id, "order_id", element);
    check_integer(
        map.get("customer_id"),
        order.customer_id,
        "customer_id",
        element,
    );
    check_integer(map.get("qty"), i64::from(order.qty), "qty", element);
    let spelled = map
        .get("type")
        .and_then(Value::as_str)
        .expect("type is a string");
    assert_eq!(
        spelled.trim().to_lowercase(),
        order.pizza_type.as_str(),
        "type in {element}"
    );
    // Exact cents vs the nearest f64: never more than half a cent apart (plus f64 noise).
    let price = map
        .get("retail_price")
        .and_then(Value::as_f64)
        .expect("retail_price is a number");
    let cents = price * 100.0;
    let diff = (cents - order.retail_price_cents as f64).abs();
    assert!(
        diff <= 0.5 + 1e-9 * cents.abs().max(1.0),
        "retail_price {price} became {} cents",
        order.retail_price_cents
    );
    // Where chrono's strict RFC 3339 reader accepts the date, it must agree.
    let date = map
        .get("order_date")
        .and_then(Value::as_str)
        .expect("order_date is a string");
    if let Ok(strict) = DateTime::parse_from_rfc3339(date.trim()) {
        let strict = strict.with_timezone(&Utc);
        assert_eq!(
            DateTime::from_timestamp_micros(strict.timestamp_micros()),
            Some(order.order_ts),
            "order_date {date:?}"
        );
    }
}

/// A field JSON Schema calls an integer, as `Value` reads it: exact when serde_json holds
/// it as an integer. Written with a zero fraction or an exponent ("1.00", "1e2") it is an
/// `f64` to serde_json: exact below 2^53, and beyond that within the f64's rounding.
fn check_integer(value: Option<&Value>, parsed: i64, field: &str, element: &str) {
    let value = value.unwrap_or_else(|| panic!("{field} is missing from {element}"));
    if let Some(exact) = value.as_i64() {
        assert_eq!(exact, parsed, "{field} in {element}");
        return;
    }
    let float = value
        .as_f64()
        .unwrap_or_else(|| panic!("{field} is not a number in {element}"));
    assert_eq!(float.fract(), 0.0, "{field} has a fraction in {element}");
    if float.abs() < 2f64.powi(53) {
        assert_eq!(float as i64, parsed, "{field} in {element}");
    } else {
        let relative = (float - parsed as f64).abs() / float.abs();
        assert!(
            relative <= f64::EPSILON,
            "{field} {float} became {parsed} in {element}"
        );
    }
}

/// The order in the canonical wire shape (CONTRACT §3): what a well-behaved client would post.
fn wire_json(order: &Order) -> String {
    format!(
        r#"{{"order_id":{},"customer_id":{},"type":{},"qty":{},"retail_price":{},"order_date":{}}}"#,
        order.order_id,
        order.customer_id,
        serde_json::to_string(order.pizza_type.as_str()).expect("a str serializes"),
        order.qty,
        cents_to_decimal_string(order.retail_price_cents),
        serde_json::to_string(&format_ts(&order.order_ts)).expect("a str serializes"),
    )
}

fn check_round_trip(order: &Order, now: DateTime<Utc>) {
    let price = cents_to_decimal_string(order.retail_price_cents);
    assert_eq!(
        parse_price_cents(&price),
        Ok(order.retail_price_cents),
        "price {price}"
    );

    let wire = wire_json(order);
    assert_eq!(
        parse_orders(wire.as_bytes(), now),
        Ok(vec![order.clone()]),
        "canonical form {wire} of {order:?}"
    );

    // The event the order stream carries must read back as the same order.
    let event = OrderEvent::new(order, now);
    let json = event.to_json();
    let back: OrderEvent = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("OrderEvent {json} does not read back: {e}"));
    assert_eq!(back, event, "OrderEvent {json}");
    assert!(back.same_order_as(&event));
}

fn check_invalid(body: &[u8], message: &str, field: Option<&'static str>, index: Option<usize>) {
    assert!(!message.is_empty(), "a 422 must say why");
    if let Some(field) = field {
        assert!(FIELDS.contains(&field), "unknown field {field:?} named");
    }
    if let Some(at) = index {
        let text = std::str::from_utf8(body).expect("an indexed rejection came from JSON");
        assert!(
            text.trim_start().starts_with('['),
            "index {at} named for a non-array body"
        );
        let elements: Vec<&RawValue> =
            serde_json::from_str(text).expect("an indexed rejection came from a parsed array");
        assert!(
            at < elements.len(),
            "index {at} named, the array has {}",
            elements.len()
        );
        assert!(
            message.starts_with(&format!("order at index {at}: ")),
            "message {message:?} does not name index {at}"
        );
    }
}

/// Whether a JSON text (already known to parse) holds a `\uD800`–`\uDFFF` escape that is
/// not half of a high-low surrogate pair.
fn has_lone_surrogate(text: &str) -> bool {
    let bytes = text.as_bytes();
    let unit = |at: usize| -> Option<u16> {
        if bytes.get(at..at + 2)? != b"\\u" {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(bytes.get(at + 2..at + 6)?).ok()?, 16).ok()
    };
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] != b'\\' {
            at += 1;
            continue;
        }
        match unit(at) {
            Some(0xD800..=0xDBFF) => match unit(at + 6) {
                Some(0xDC00..=0xDFFF) => at += 12,
                _ => return true,
            },
            Some(0xDC00..=0xDFFF) => return true,
            Some(_) => at += 6,
            None => at += 2, // \" \\ \/ \b \f \n \r \t
        }
    }
    false
}
