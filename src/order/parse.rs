//! Request body → validated orders, with a precise reason for every refusal.
//!
//! Each field is captured as raw JSON text first (`RawValue`), then checked by its own
//! rule. That keeps the wrong-type, out-of-range and missing cases distinct, and gives
//! the price rule the literal digits the client sent (see `money`).

use super::money::{parse_price_cents, PriceError};
use super::{truncate_to_micros, Order, PizzaType};
use chrono::{DateTime, Datelike, Duration, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Largest accepted request body (CONTRACT §3: 413 above it).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Largest accepted array of orders.
pub const MAX_BATCH_ORDERS: usize = 1000;

const MAX_QTY: i64 = 1000;
const FUTURE_TOLERANCE: Duration = Duration::hours(1);
/// How far back an order may be dated by default: the 12-month report window and a
/// grace period of about a month for orders that arrive late (CONTRACT §3).
pub const DEFAULT_HORIZON_DAYS: u32 = 400;

/// The dates an order may carry when it is received (CONTRACT §3): at most an hour ahead
/// of `now`, and no older than `horizon_days` before it. An order far older than any
/// report it could count in is refused: its day would be a partition of its own in the
/// lake, which every lake listing then pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRule {
    pub now: DateTime<Utc>,
    pub horizon_days: u32,
}

impl DateRule {
    pub fn new(now: DateTime<Utc>, horizon_days: u32) -> Self {
        DateRule { now, horizon_days }
    }

    /// The oldest order time accepted.
    pub fn oldest(&self) -> DateTime<Utc> {
        self.now - Duration::days(i64::from(self.horizon_days))
    }
}

/// The rule at `now` with the default horizon.
impl From<DateTime<Utc>> for DateRule {
    fn from(now: DateTime<Utc>) -> Self {
        DateRule::new(now, DEFAULT_HORIZON_DAYS)
    }
}

/// Why a request body was refused. `Malformed` is a 400, `Invalid` a 422.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("malformed JSON: {0}")]
    Malformed(String),
    #[error("{message}")]
    Invalid {
        message: String,
        field: Option<&'static str>,
        /// Position in an array body; `None` for a single order.
        index: Option<usize>,
    },
}

impl Rejection {
    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Rejection::Invalid {
            message: message.into(),
            field: Some(field),
            index: None,
        }
    }

    fn body(message: impl Into<String>) -> Self {
        Rejection::Invalid {
            message: message.into(),
            field: None,
            index: None,
        }
    }

    fn at_index(self, at: usize) -> Self {
        match self {
            Rejection::Invalid { message, field, .. } => Rejection::Invalid {
                message: format!("order at index {at}: {message}"),
                field,
                index: Some(at),
            },
            malformed => malformed,
        }
    }
}

/// One order object as sent, every field still raw JSON. Unknown fields are ignored.
#[derive(Deserialize)]
struct WireOrder<'a> {
    #[serde(borrow)]
    order_id: Option<&'a RawValue>,
    #[serde(borrow)]
    customer_id: Option<&'a RawValue>,
    #[serde(borrow, rename = "type")]
    pizza_type: Option<&'a RawValue>,
    #[serde(borrow)]
    qty: Option<&'a RawValue>,
    #[serde(borrow)]
    retail_price: Option<&'a RawValue>,
    #[serde(borrow)]
    order_date: Option<&'a RawValue>,
}

/// Parses a request body holding one order object or an array of 1..=1000 of them.
/// All-or-nothing: the first bad element rejects the whole body, naming its index.
pub fn parse_orders(body: &[u8], dates: impl Into<DateRule>) -> Result<Vec<Order>, Rejection> {
    let now = dates.into();
    let text = std::str::from_utf8(body)
        .map_err(|e| Rejection::Malformed(format!("body is not UTF-8: {e}")))?;
    match text.trim_start().as_bytes().first() {
        Some(b'[') => parse_array(text, now),
        Some(b'{') => {
            // The whole body must be JSON before any field is judged: a truncated body
            // is malformed (400) even when a field error would be met first.
            let whole: &RawValue = serde_json::from_str(text).map_err(json_error)?;
            Ok(vec![parse_one(whole.get(), now)?])
        }
        Some(_) => Err(classify_non_order(text)),
        None => Err(Rejection::Malformed("the body is empty".into())),
    }
}

fn parse_array(text: &str, now: DateRule) -> Result<Vec<Order>, Rejection> {
    let elements: Vec<&RawValue> = serde_json::from_str(text).map_err(json_error)?;
    if elements.is_empty() {
        return Err(Rejection::body("the array holds no orders"));
    }
    if elements.len() > MAX_BATCH_ORDERS {
        return Err(Rejection::body(format!(
            "an array may hold at most {MAX_BATCH_ORDERS} orders, this one has {}",
            elements.len()
        )));
    }
    elements
        .iter()
        .enumerate()
        .map(|(at, raw)| parse_one(raw.get(), now).map_err(|r| r.at_index(at)))
        .collect()
}

fn parse_one(text: &str, now: DateRule) -> Result<Order, Rejection> {
    // serde would also fill the struct from an array, by position; the contract is an
    // object with named fields, and anything else is a rule break, not malformed JSON.
    if !text.trim_start().starts_with('{') {
        return Err(Rejection::body("an order must be a JSON object"));
    }
    let wire: WireOrder = serde_json::from_str(text).map_err(|e| match json_error(e) {
        Rejection::Malformed(m) => Rejection::Malformed(m),
        Rejection::Invalid { message, .. } if message.contains("invalid type") => {
            Rejection::body("an order must be a JSON object")
        }
        other => other,
    })?;
    Ok(Order {
        order_id: positive_id("order_id", wire.order_id)?,
        customer_id: positive_id("customer_id", wire.customer_id)?,
        pizza_type: pizza_type(wire.pizza_type)?,
        qty: qty(wire.qty)?,
        retail_price_cents: retail_price(wire.retail_price)?,
        order_ts: order_date(wire.order_date, now)?,
    })
}

/// A body that is valid JSON but neither an object nor an array is a rule break (422);
/// anything else is malformed (400).
fn classify_non_order(text: &str) -> Rejection {
    match serde_json::from_str::<&RawValue>(text) {
        Ok(_) => Rejection::body("the body must be an order object or an array of orders"),
        Err(e) => json_error(e),
    }
}

fn json_error(e: serde_json::Error) -> Rejection {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => Rejection::body(strip_position(&e.to_string())),
        Category::Syntax | Category::Eof | Category::Io => Rejection::Malformed(e.to_string()),
    }
}

/// serde's data errors end in " at line 1 column 9"; the index says where instead.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

fn required<'a>(field: &'static str, raw: Option<&'a RawValue>) -> Result<&'a str, Rejection> {
    match raw.map(|r| r.get().trim()) {
        None | Some("null") => Err(Rejection::invalid(field, format!("{field} is required"))),
        Some(text) => Ok(text),
    }
}

/// An integer as JSON Schema has it: a JSON number without a fractional part, however it
/// is written (`7`, `7.0`, `7e0`, `0.7e1`); not a string. Judged on its digits, never
/// through a float. A value beyond what `i128` holds saturates: it is out of every range
/// checked.
fn integer(field: &'static str, raw: Option<&RawValue>) -> Result<i128, Rejection> {
    let text = required(field, raw)?;
    integral_value(text).ok_or_else(|| {
        Rejection::invalid(
            field,
            format!("{field} must be an integer, got {}", preview(text)),
        )
    })
}

/// The value of a JSON number literal with no fractional part; `None` for anything else.
fn integral_value(text: &str) -> Option<i128> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    let exponent: i64 = match exponent {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
            if !all_digits(digits) {
                return None;
            }
            let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX / 2);
            if e.starts_with('-') {
                -magnitude
            } else {
                magnitude
            }
        }
    };
    // value = digits × 10^scale, digits without leading zeros
    let fraction = fraction.unwrap_or("");
    let joined = format!("{whole}{fraction}");
    let digits = joined.trim_start_matches('0');
    let scale = exponent.saturating_sub(fraction.len() as i64);
    if digits.is_empty() {
        return Some(0);
    }
    let significant = digits.trim_end_matches('0');
    let trailing_zeros = (digits.len() - significant.len()) as i64;
    // Saturating: an exponent may be any 19-digit number ("7e+9223372036854775807").
    if scale < 0 && trailing_zeros < scale.saturating_neg() {
        return None; // a fractional part that is not zero
    }
    let magnitude = if (digits.len() as i64).saturating_add(scale) > 39 {
        i128::MAX // more digits than i128 holds
    } else if scale >= 0 {
        let value = digits.parse::<i128>().unwrap_or(i128::MAX);
        (0..scale)
            .try_fold(value, |v, _| v.checked_mul(10))
            .unwrap_or(i128::MAX)
    } else {
        let kept = &digits[..(digits.len() as i64 + scale) as usize];
        kept.parse::<i128>().unwrap_or(i128::MAX)
    };
    Some(if negative { -magnitude } else { magnitude })
}

fn positive_id(field: &'static str, raw: Option<&RawValue>) -> Result<i64, Rejection> {
    let value = integer(field, raw)?;
    if (1..=i64::MAX as i128).contains(&value) {
        Ok(value as i64)
    } else {
        Err(Rejection::invalid(
            field,
            format!("{field} must be between 1 and {}", i64::MAX),
        ))
    }
}

fn qty(raw: Option<&RawValue>) -> Result<i32, Rejection> {
    let value = integer("qty", raw)?;
    if (1..=MAX_QTY as i128).contains(&value) {
        Ok(value as i32)
    } else {
        Err(Rejection::invalid(
            "qty",
            format!("qty must be between 1 and {MAX_QTY}"),
        ))
    }
}

fn string<'a>(field: &'static str, raw: Option<&'a RawValue>) -> Result<Cow<'a, str>, Rejection> {
    let text = required(field, raw)?;
    if !text.starts_with('"') {
        return Err(Rejection::invalid(
            field,
            format!("{field} must be a string, got {}", preview(text)),
        ));
    }
    serde_json::from_str::<Cow<'a, str>>(text)
        .map_err(|_| Rejection::invalid(field, format!("{field} must be a string")))
}

fn pizza_type(raw: Option<&RawValue>) -> Result<PizzaType, Rejection> {
    let text = string("type", raw)?;
    PizzaType::parse_lenient(&text).ok_or_else(|| {
        let menu: Vec<&str> = PizzaType::ALL.iter().map(|t| t.as_str()).collect();
        Rejection::invalid(
            "type",
            format!(
                "type {} is not on the menu ({})",
                preview(&format!("{text:?}")),
                menu.join(", ")
            ),
        )
    })
}

fn retail_price(raw: Option<&RawValue>) -> Result<i64, Rejection> {
    let text = required("retail_price", raw)?;
    parse_price_cents(text).map_err(|e| {
        let message = match e {
            PriceError::NotANumber => {
                format!("retail_price must be a number, got {}", preview(text))
            }
            PriceError::Negative => "retail_price must not be negative".to_string(),
            PriceError::TooLarge => "retail_price must be at most 1000000".to_string(),
        };
        Rejection::invalid("retail_price", message)
    })
}

fn order_date(raw: Option<&RawValue>, rule: DateRule) -> Result<DateTime<Utc>, Rejection> {
    let text = string("order_date", raw)?;
    let ts = parse_timestamp(text.trim()).ok_or_else(|| {
        Rejection::invalid(
            "order_date",
            format!(
                "order_date {} is not an RFC 3339 timestamp (e.g. 2026-03-01T18:30:00Z)",
                preview(&format!("{text:?}"))
            ),
        )
    })?;
    // Judge the stored value: truncation turns a leap second into the next second.
    let ts = truncate_to_micros(ts);
    if !(1..=9999).contains(&ts.year()) {
        return Err(Rejection::invalid(
            "order_date",
            "order_date must be in the years 1 to 9999",
        ));
    }
    if ts > rule.now + FUTURE_TOLERANCE {
        return Err(Rejection::invalid(
            "order_date",
            "order_date is more than 1 hour in the future",
        ));
    }
    if ts < rule.oldest() {
        return Err(Rejection::invalid(
            "order_date",
            format!(
                "order_date is more than {} days in the past: orders dated before {} are refused (the order date horizon)",
                rule.horizon_days,
                rule.oldest().format("%Y-%m-%dT%H:%M:%SZ")
            ),
        ));
    }
    Ok(ts)
}

/// RFC 3339 with any offset (converted to UTC), or without an offset (read as UTC).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(ts) = DateTime::parse_from_rfc3339(text) {
        return Some(ts.with_timezone(&Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dt%H:%M:%S%.f",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .map(|naive| naive.and_utc())
}

/// Echoes at most 40 characters of client input in a message.
fn preview(text: &str) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        "2026-06-15T12:00:00Z".parse().unwrap()
    }

    const GOOD: &str = r#"{"order_id":1,"customer_id":2,"type":" Pepperoni ","qty":3,"retail_price":12.345,"order_date":"2026-06-15T14:30:00+02:00","extra":{"ignored":true}}"#;

    fn with(field: &str, value: &str) -> String {
        let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(GOOD).unwrap();
        v.remove(field);
        let mut text = serde_json::to_string(&v).unwrap();
        if value != "<absent>" {
            text.insert_str(1, &format!("\"{field}\":{value},"));
        }
        text
    }

    #[test]
    fn accepts_and_canonicalises() {
        let orders = parse_orders(GOOD.as_bytes(), now()).unwrap();
        assert_eq!(
            orders,
            vec![Order {
                order_id: 1,
                customer_id: 2,
                pizza_type: PizzaType::Pepperoni,
                qty: 3,
                retail_price_cents: 1235,
                order_ts: "2026-06-15T12:30:00Z".parse().unwrap(),
            }]
        );
    }

    #[test]
    fn timestamp_forms() {
        let cases = [
            ("2026-06-15T10:00:00Z", "2026-06-15T10:00:00Z"),
            ("2026-06-15T10:00:00", "2026-06-15T10:00:00Z"),
            ("2026-06-15 10:00:00.5", "2026-06-15T10:00:00.5Z"),
            ("2026-06-15T05:00:00-05:00", "2026-06-15T10:00:00Z"),
            ("2026-06-16T00:30:00+14:00", "2026-06-15T10:30:00Z"),
            (
                "2026-06-15T10:00:00.1234567Z",
                "2026-06-15T10:00:00.123456Z",
            ),
        ];
        for (input, expected) in cases {
            let body = with("order_date", &format!("\"{input}\""));
            let order = &parse_orders(body.as_bytes(), now()).unwrap()[0];
            assert_eq!(
                order.order_ts,
                expected.parse::<DateTime<Utc>>().unwrap(),
                "{input}"
            );
        }
    }

    /// Well-formed JSON that is not an order is a rule break (422); JSON that is not
    /// well-formed is malformed (400), whatever field error would be met first.
    /// (Inputs found by the fuzzer: fuzz/regressions/parse_orders/.)
    #[test]
    fn json_shape_decides_between_400_and_422() {
        for body in [
            r#"[1e400]"#,
            r#"[[1,2,"cheese",1,1,"2026-06-15T10:00:00Z"]]"#,
            r#"[[1,2,3,4,5,6,7]]"#,
        ] {
            match parse_orders(body.as_bytes(), now()) {
                Err(Rejection::Invalid { message, index, .. }) => {
                    assert!(
                        message.contains("must be a JSON object"),
                        "{body}: {message}"
                    );
                    assert_eq!(index, Some(0), "{body}");
                }
                other => panic!("{body}: expected 422, got {other:?}"),
            }
        }
        let truncated = r#"{"order_id":1,"order_id":2,"#;
        assert!(
            matches!(
                parse_orders(truncated.as_bytes(), now()),
                Err(Rejection::Malformed(_))
            ),
            "truncated JSON is malformed"
        );
    }

    /// JSON Schema's integer: any number without a fractional part, however written.
    #[test]
    fn integers_are_what_json_schema_calls_integers() {
        for (written, value) in [
            ("1252", 1252),
            ("1252.0", 1252),
            ("1252.000", 1252),
            ("1.252e3", 1252),
            ("1.252E+3", 1252),
            ("12520e-1", 1252),
            ("0.1252e4", 1252),
            ("9223372036854775807.0", i64::MAX),
        ] {
            let body = with("order_id", written);
            let orders =
                parse_orders(body.as_bytes(), now()).unwrap_or_else(|e| panic!("{written}: {e}"));
            assert_eq!(orders[0].order_id, value, "{written}");
        }
        assert_eq!(integral_value("-3e2"), Some(-300));
        assert_eq!(integral_value("1e999999999999999999999"), Some(i128::MAX));
        // Exponents at i64's ends (found by the fuzzer: they overflowed the arithmetic).
        assert_eq!(integral_value("7e+9223372036854775807"), Some(i128::MAX));
        assert_eq!(integral_value("1.5e-9223372036854775807"), None);
        assert_eq!(integral_value("0e-9223372036854775807"), Some(0));
        assert_eq!(integral_value("1.5e0"), None);
        assert_eq!(integral_value("1."), None);
        assert_eq!(integral_value(".5"), None);
        assert_eq!(integral_value("1e"), None);
        assert_eq!(integral_value("true"), None);
    }

    #[test]
    fn the_date_horizon_refuses_orders_older_than_it() {
        let rule = DateRule::new(now(), 30);
        let ok = with("order_date", "\"2026-05-16T12:00:00Z\"");
        assert!(parse_orders(ok.as_bytes(), rule).is_ok());
        let old = with("order_date", "\"2026-05-16T11:59:59.999999Z\"");
        let refused = parse_orders(old.as_bytes(), rule).unwrap_err().to_string();
        assert!(
            refused.contains("more than 30 days in the past")
                && refused.contains("2026-05-16T12:00:00Z"),
            "{refused}"
        );
    }

    #[test]
    fn future_tolerance_is_one_hour() {
        let ok = with("order_date", "\"2026-06-15T13:00:00Z\"");
        assert!(parse_orders(ok.as_bytes(), now()).is_ok());
        let late = with("order_date", "\"2026-06-15T13:00:00.000001Z\"");
        assert!(parse_orders(late.as_bytes(), now()).is_err());
    }

    /// Every rule of CONTRACT §3, with the field it must name.
    #[test]
    fn every_rule_is_refused_with_its_field() {
        let cases: &[(&str, &str, &str)] = &[
            ("order_id", "<absent>", "order_id is required"),
            ("order_id", "null", "order_id is required"),
            ("order_id", "0", "between 1 and"),
            ("order_id", "-4", "between 1 and"),
            ("order_id", "9223372036854775808", "between 1 and"),
            (
                "order_id",
                "123456789012345678901234567890123456789012",
                "between 1 and",
            ),
            ("order_id", "1.5", "must be an integer"),
            ("order_id", "1.25e1", "must be an integer"),
            ("order_id", "125e-1", "must be an integer"),
            ("order_id", "1e400", "between 1 and"),
            ("order_id", "0.0", "between 1 and"),
            ("order_id", "\"7\"", "must be an integer"),
            ("order_id", "true", "must be an integer"),
            ("customer_id", "<absent>", "customer_id is required"),
            ("customer_id", "0", "between 1 and"),
            ("customer_id", "[1]", "must be an integer"),
            ("type", "<absent>", "type is required"),
            ("type", "\"hawaiian\"", "not on the menu"),
            ("type", "\"\"", "not on the menu"),
            ("type", "5", "must be a string"),
            ("qty", "<absent>", "qty is required"),
            ("qty", "0", "between 1 and 1000"),
            ("qty", "1001", "between 1 and 1000"),
            ("qty", "2.5", "must be an integer"),
            ("retail_price", "<absent>", "retail_price is required"),
            ("retail_price", "-0.01", "must not be negative"),
            ("retail_price", "1000000.01", "at most 1000000"),
            ("retail_price", "1e309", "at most 1000000"),
            ("retail_price", "\"9.99\"", "must be a number"),
            ("order_date", "<absent>", "order_date is required"),
            ("order_date", "\"yesterday\"", "not an RFC 3339"),
            ("order_date", "\"2026-02-30T10:00:00Z\"", "not an RFC 3339"),
            ("order_date", "\"2026-06-15\"", "not an RFC 3339"),
            ("order_date", "1718445600", "must be a string"),
            ("order_date", "\"2027-01-01T00:00:00Z\"", "in the future"),
            // found by the fuzzer (fuzz/regressions/parse_orders/)
            ("order_date", "\"2026-06-15T12:59:60.5Z\"", "in the future"),
            ("order_date", "\"-0001-01-01T00:00:00\"", "years 1 to 9999"),
            (
                "order_date",
                "\"0001-01-01T00:00:00Z\"",
                "more than 400 days in the past",
            ),
            (
                "order_date",
                "\"2025-05-11T11:59:59Z\"",
                "before 2025-05-11T12:00:00Z",
            ),
        ];
        for (field, value, needle) in cases {
            let body = with(field, value);
            match parse_orders(body.as_bytes(), now()) {
                Err(Rejection::Invalid {
                    message,
                    field: got,
                    index,
                }) => {
                    assert!(message.contains(needle), "{field}={value}: {message}");
                    assert_eq!(got, Some(*field), "{field}={value}");
                    assert_eq!(index, None);
                }
                other => panic!("{field}={value}: expected 422, got {other:?}"),
            }
        }
    }

    #[test]
    fn array_is_all_or_nothing_and_names_the_index() {
        let bad = with("qty", "0");
        let body = format!("[{GOOD},{GOOD},{bad}]");
        match parse_orders(body.as_bytes(), now()) {
            Err(Rejection::Invalid {
                index,
                field,
                message,
            }) => {
                assert_eq!(index, Some(2));
                assert_eq!(field, Some("qty"));
                assert!(message.starts_with("order at index 2:"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_orders(format!("[{GOOD},{GOOD}]").as_bytes(), now())
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn array_size_limits() {
        assert!(matches!(
            parse_orders(b"[]", now()),
            Err(Rejection::Invalid { .. })
        ));
        let max = vec![GOOD; MAX_BATCH_ORDERS].join(",");
        assert_eq!(
            parse_orders(format!("[{max}]").as_bytes(), now())
                .unwrap()
                .len(),
            MAX_BATCH_ORDERS
        );
        let over = vec![GOOD; MAX_BATCH_ORDERS + 1].join(",");
        assert!(matches!(
            parse_orders(format!("[{over}]").as_bytes(), now()),
            Err(Rejection::Invalid { .. })
        ));
        assert!(matches!(
            parse_orders(b"[1]", now()),
            Err(Rejection::Invalid { index: Some(0), .. })
        ));
    }

    #[test]
    fn malformed_versus_wrong_shape() {
        for body in [
            "",
            "   ",
            "{",
            "{\"order_id\":1,}",
            "[1,",
            "nope",
            "{\"a\":01}",
        ] {
            assert!(
                matches!(
                    parse_orders(body.as_bytes(), now()),
                    Err(Rejection::Malformed(_))
                ),
                "{body:?}"
            );
        }
        assert!(matches!(
            parse_orders(&[0xff, 0xfe], now()),
            Err(Rejection::Malformed(_))
        ));
        for body in ["42", "\"order\"", "null", "true"] {
            assert!(
                matches!(
                    parse_orders(body.as_bytes(), now()),
                    Err(Rejection::Invalid { .. })
                ),
                "{body:?}"
            );
        }
        let dup = r#"{"order_id":1,"order_id":2}"#;
        assert!(matches!(
            parse_orders(dup.as_bytes(), now()),
            Err(Rejection::Invalid { .. })
        ));
    }

    proptest! {
        /// Whatever the bytes, parsing returns (never panics) and a 422 always says why.
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_orders(&bytes, now());
        }

        #[test]
        fn never_panics_on_json_shaped_noise(body in r#"[\[\]{}":,0-9a-z.eE+\- ]{0,120}"#) {
            let _ = parse_orders(body.as_bytes(), now());
        }

        /// A valid order written any way the contract allows parses to its canonical form.
        #[test]
        fn valid_orders_round_trip(
            order_id in 1i64..=i64::MAX,
            customer_id in 1i64..=i64::MAX,
            type_index in 0usize..5,
            upper in any::<bool>(),
            qty in 1i32..=1000,
            cents in 0i64..=100_000_000,
            secs in 1_747_000_000i64..1_780_000_000,
        ) {
            let pizza = PizzaType::ALL[type_index];
            let spelled = if upper { pizza.as_str().to_uppercase() } else { pizza.as_str().to_string() };
            let ts = DateTime::from_timestamp(secs, 0).unwrap();
            let body = format!(
                r#"{{"order_id":{order_id},"customer_id":{customer_id},"type":"  {spelled}","qty":{qty},"retail_price":{},"order_date":"{}"}}"#,
                crate::order::cents_to_decimal_string(cents),
                ts.format("%Y-%m-%dT%H:%M:%S%:z"),
            );
            let parsed = parse_orders(body.as_bytes(), now()).unwrap();
            prop_assert_eq!(parsed, vec![Order { order_id, customer_id, pizza_type: pizza, qty, retail_price_cents: cents, order_ts: ts }]);
        }
    }
}
