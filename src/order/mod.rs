//! The order contract (CONTRACT §3): what a client may post, and the canonical event that
//! travels through the order stream once an order is accepted.
//!
//! `parse` turns request bytes into validated [`Order`]s (or a typed [`Rejection`]);
//! `money` holds the exact decimal → cents conversion. Nothing downstream re-validates:
//! an [`OrderEvent`] in the stream is already canonical (UTC, exact cents, canonical type).

mod money;
mod parse;
mod pizza_type;

pub use money::{cents_to_decimal_string, parse_price_cents, PriceError};
pub use parse::{
    parse_orders, parse_timestamp, DateRule, Rejection, DEFAULT_HORIZON_DAYS, MAX_BATCH_ORDERS,
    MAX_BODY_BYTES,
};
pub use pizza_type::PizzaType;

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// A validated order, in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub order_id: i64,
    pub customer_id: i64,
    pub pizza_type: PizzaType,
    pub qty: i32,
    /// The order total including taxes, in exact US cents.
    pub retail_price_cents: i64,
    /// UTC, truncated to microseconds (the warehouse's precision).
    pub order_ts: DateTime<Utc>,
}

/// The message published to the order stream for one accepted order.
///
/// It is the order plus the moment the API accepted it; `received_at` decides which
/// version of an `order_id` wins (the first received) and starts the latency clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub order_id: i64,
    pub customer_id: i64,
    #[serde(rename = "type")]
    pub pizza_type: PizzaType,
    pub qty: i32,
    pub retail_price_cents: i64,
    #[serde(with = "micros_rfc3339")]
    pub order_ts: DateTime<Utc>,
    #[serde(with = "micros_rfc3339")]
    pub received_at: DateTime<Utc>,
}

impl OrderEvent {
    pub fn new(order: &Order, received_at: DateTime<Utc>) -> Self {
        OrderEvent {
            order_id: order.order_id,
            customer_id: order.customer_id,
            pizza_type: order.pizza_type,
            qty: order.qty,
            retail_price_cents: order.retail_price_cents,
            order_ts: order.order_ts,
            received_at: truncate_to_micros(received_at),
        }
    }

    /// True when two events carry the same order (everything but `received_at`).
    pub fn same_order_as(&self, other: &OrderEvent) -> bool {
        self.order_id == other.order_id
            && self.customer_id == other.customer_id
            && self.pizza_type == other.pizza_type
            && self.qty == other.qty
            && self.retail_price_cents == other.retail_price_cents
            && self.order_ts == other.order_ts
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an OrderEvent always serializes")
    }

    /// Reads an event body. The layout [`OrderEvent::to_json`] writes is read by a
    /// fixed-layout fast path (every event the pipeline publishes has it, and decoding
    /// was the largest part of enrichment); any other JSON goes to serde, which decides.
    pub fn from_json(text: &str) -> serde_json::Result<OrderEvent> {
        match parse_canonical_event(text) {
            Some(event) => Ok(event),
            None => serde_json::from_str(text),
        }
    }
}

/// Reads exactly the text `serde_json` writes for an [`OrderEvent`] (field order,
/// no spaces, canonical timestamps); `None` for anything else, left to serde.
fn parse_canonical_event(text: &str) -> Option<OrderEvent> {
    let mut rest = text;
    let order_id = field_integer(&mut rest, r#"{"order_id":"#)?;
    let customer_id = field_integer(&mut rest, r#","customer_id":"#)?;
    let name = field_text(&mut rest, r#","type":""#)?;
    let pizza_type = PizzaType::ALL.into_iter().find(|t| t.as_str() == name)?;
    let qty = i32::try_from(field_integer(&mut rest, r#"","qty":"#)?).ok()?;
    let retail_price_cents = field_integer(&mut rest, r#","retail_price_cents":"#)?;
    let order_ts = parse_canonical_ts(field_text(&mut rest, r#","order_ts":""#)?)?;
    let received_at = parse_canonical_ts(field_text(&mut rest, r#"","received_at":""#)?)?;
    (rest == "\"}").then_some(OrderEvent {
        order_id,
        customer_id,
        pizza_type,
        qty,
        retail_price_cents,
        order_ts,
        received_at,
    })
}

/// After `prefix`, an integer as serde_json writes one: an optional minus, then digits
/// without a leading zero.
fn field_integer(rest: &mut &str, prefix: &str) -> Option<i64> {
    let after = rest.strip_prefix(prefix)?;
    let bytes = after.as_bytes();
    let sign = usize::from(bytes.first() == Some(&b'-'));
    let digits = bytes[sign..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || (digits > 1 && bytes[sign] == b'0') {
        return None;
    }
    let (number, tail) = after.split_at(sign + digits);
    *rest = tail;
    number.parse().ok() // None on overflow
}

/// After `prefix`, the text up to the next quote (left in `rest`); an escape inside
/// makes the caller's match fail, and serde reads the event instead.
fn field_text<'a>(rest: &mut &'a str, prefix: &str) -> Option<&'a str> {
    let after = rest.strip_prefix(prefix)?;
    // A byte scan: the texts are a few dozen bytes, too short for `find`'s searcher.
    let end = after.bytes().position(|b| b == b'"')?;
    let (text, tail) = after.split_at(end);
    *rest = tail;
    Some(text)
}

/// Drops sub-microsecond precision: Parquet and DuckDB store microseconds, and the
/// window test must see exactly what the warehouse sees. Truncation (not rounding)
/// can never move a timestamp across a window edge upwards.
pub fn truncate_to_micros(ts: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(ts.timestamp_micros()).expect("micros of a valid time")
}

/// RFC 3339 with microseconds and a `Z`, the one timestamp format on the wire.
pub fn format_ts(ts: &DateTime<Utc>) -> String {
    write_canonical_ts(ts).unwrap_or_else(|| ts.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// Writes `YYYY-MM-DDTHH:MM:SS.ffffffZ` digit by digit: chrono's general formatter was
/// the largest part of writing an event, which carries two timestamps. `None` (chrono
/// writes it) for a year outside 0000–9999 or a leap second.
fn write_canonical_ts(ts: &DateTime<Utc>) -> Option<String> {
    let (date, time) = (ts.date_naive(), ts.time());
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 {
        return None;
    }
    let fields = [
        (year, 4, b'-'),
        (date.month(), 2, b'-'),
        (date.day(), 2, b'T'),
        (time.hour(), 2, b':'),
        (time.minute(), 2, b':'),
        (time.second(), 2, b'.'),
        (nanos / 1_000, 6, b'Z'),
    ];
    let mut out = Vec::with_capacity(27);
    for (value, width, separator) in fields {
        let start = out.len();
        let mut rest = value;
        out.resize(start + width, b'0');
        for digit in out[start..].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
        out.push(separator);
    }
    Some(String::from_utf8(out).expect("ASCII digits"))
}

mod micros_rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ts: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_ts(ts))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        if let Some(ts) = super::parse_canonical_ts(&text) {
            return Ok(ts);
        }
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// Reads the one layout [`format_ts`] writes, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, without
/// chrono's general RFC 3339 parser: every event carries two of them, and decoding them
/// was a fifth of decoding an event. Anything else (another layout, a leap second, an
/// impossible date) gives `None`, and the caller falls back to the general parser.
fn parse_canonical_ts(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ];
    if b.len() != 27 || b[26] != b'Z' || separators.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0u32, |value, &digit| {
            digit
                .is_ascii_digit()
                .then(|| value * 10 + u32::from(digit - b'0'))
        })
    };
    let date =
        chrono::NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_micro_opt(
        number(11..13)?,
        number(14..16)?,
        number(17..19)?,
        number(20..26)?,
    )?;
    Some(date.and_time(time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_round_trips_through_json() {
        let order = Order {
            order_id: 7,
            customer_id: 9,
            pizza_type: PizzaType::MeatLover,
            qty: 2,
            retail_price_cents: 2599,
            order_ts: "2026-03-01T18:30:00.123456Z".parse().unwrap(),
        };
        let event = OrderEvent::new(&order, "2026-03-01T18:30:01Z".parse().unwrap());
        let json = event.to_json();
        assert!(json.contains(r#""type":"meat lover""#), "{json}");
        assert!(
            json.contains(r#""order_ts":"2026-03-01T18:30:00.123456Z""#),
            "{json}"
        );
        let back: OrderEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }

    proptest::proptest! {
        /// The canonical fast path reads exactly what the general parser reads.
        #[test]
        fn canonical_timestamps_read_as_the_general_parser_reads_them(
            micros in -62_135_596_800_000_000i64..253_402_300_799_999_999i64,
        ) {
            let ts = DateTime::from_timestamp_micros(micros).unwrap();
            let text = format_ts(&ts);
            let general = DateTime::parse_from_rfc3339(&text).unwrap().with_timezone(&Utc);
            proptest::prop_assert_eq!(parse_canonical_ts(&text), Some(general));
            proptest::prop_assert_eq!(general, ts);
        }

        /// The digit-by-digit writer writes what chrono writes.
        #[test]
        fn canonical_timestamps_are_written_as_chrono_writes_them(
            micros in -62_135_596_800_000_000i64..253_402_300_799_999_999i64,
        ) {
            let ts = DateTime::from_timestamp_micros(micros).unwrap();
            proptest::prop_assert_eq!(format_ts(&ts), ts.to_rfc3339_opts(SecondsFormat::Micros, true));
        }

        /// Any other text either reads as the general parser reads it, or is left to it.
        #[test]
        fn other_text_is_never_misread(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{6}[Z+-]") {
            if let Some(fast) = parse_canonical_ts(&text) {
                let general = DateTime::parse_from_rfc3339(&text).unwrap().with_timezone(&Utc);
                proptest::prop_assert_eq!(fast, general);
            }
        }
    }

    #[test]
    fn timestamps_the_digit_writer_leaves_to_chrono() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_micro_opt(23, 59, 59, 1_500_000)
            .unwrap()
            .and_utc();
        let far = DateTime::from_timestamp_micros(253_402_300_800_000_000).unwrap(); // year 10000
        let before = DateTime::from_timestamp_micros(-62_167_219_200_000_001).unwrap(); // year -1
        for ts in [leap, far, before] {
            assert_eq!(write_canonical_ts(&ts), None, "{ts:?}");
            assert_eq!(
                format_ts(&ts),
                ts.to_rfc3339_opts(SecondsFormat::Micros, true)
            );
        }
        assert_eq!(
            format_ts(&"0000-01-01T00:00:00Z".parse().unwrap()),
            "0000-01-01T00:00:00.000000Z"
        );
    }

    #[test]
    fn the_fast_path_leaves_other_layouts_to_the_general_parser() {
        for text in [
            "2026-03-01T18:30:00Z",             // no fraction
            "2026-03-01T18:30:00.123Z",         // milliseconds
            "2026-03-01T18:30:00.123456+00:00", // an offset
            "2026-02-30T18:30:00.000000Z",      // no such day
            "2016-12-31T23:59:60.000000Z",      // a leap second
            "2026-03-01 18:30:00.123456Z",      // a space
            "+026-03-01T18:30:00.123456Z",      // a sign is not a digit
        ] {
            assert_eq!(parse_canonical_ts(text), None, "{text}");
        }
        let event: OrderEvent = serde_json::from_str(
            r#"{"order_id":1,"customer_id":2,"type":"veggie","qty":1,"retail_price_cents":5,
                "order_ts":"2026-03-01T18:30:00+02:00","received_at":"2016-12-31T23:59:60.5Z"}"#,
        )
        .unwrap();
        assert_eq!(
            event.order_ts,
            "2026-03-01T16:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            event.received_at,
            DateTime::parse_from_rfc3339("2016-12-31T23:59:60.5Z").unwrap()
        );
    }

    fn any_event() -> impl proptest::strategy::Strategy<Value = OrderEvent> {
        use proptest::prelude::*;
        let ts = || {
            (-62_135_596_800_000_000i64..253_402_300_799_999_999i64)
                .prop_map(|m| DateTime::from_timestamp_micros(m).unwrap())
        };
        (
            any::<i64>(),
            any::<i64>(),
            0..5usize,
            any::<i32>(),
            any::<i64>(),
            ts(),
            ts(),
        )
            .prop_map(
                |(order_id, customer_id, t, qty, cents, order_ts, received_at)| OrderEvent {
                    order_id,
                    customer_id,
                    pizza_type: PizzaType::ALL[t],
                    qty,
                    retail_price_cents: cents,
                    order_ts,
                    received_at,
                },
            )
    }

    proptest::proptest! {
        /// Every event the pipeline writes is read by the fast path, as serde reads it.
        #[test]
        fn written_events_read_back_by_the_fast_path(event in any_event()) {
            let json = event.to_json();
            proptest::prop_assert_eq!(parse_canonical_event(&json), Some(event.clone()));
            proptest::prop_assert_eq!(serde_json::from_str::<OrderEvent>(&json).unwrap(), event);
        }

        /// A body one edit away from a written one is read as serde reads it, or refused
        /// as serde refuses it: the fast path never accepts what serde would not.
        #[test]
        fn near_canonical_bodies_read_as_serde_reads_them(
            event in any_event(),
            at in proptest::prelude::any::<proptest::sample::Index>(),
            edit in 0..3u8,
            byte in proptest::prelude::prop_oneof![
                proptest::prelude::Just(b'0'), proptest::prelude::Just(b'9'),
                proptest::prelude::Just(b'-'), proptest::prelude::Just(b'"'),
                proptest::prelude::Just(b' '), proptest::prelude::Just(b','),
                proptest::prelude::Just(b'.'), proptest::prelude::Just(b'e'),
                proptest::prelude::Just(b'\\'), proptest::prelude::Just(b'}'),
                proptest::prelude::Just(b'Z'), 0x20u8..0x7f,
            ],
        ) {
            let mut bytes = event.to_json().into_bytes();
            let i = at.index(bytes.len());
            match edit {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => { bytes.remove(i); }
            }
            let text = String::from_utf8(bytes).unwrap();
            let by_serde = serde_json::from_str::<OrderEvent>(&text).ok();
            if let Some(fast) = parse_canonical_event(&text) {
                proptest::prop_assert_eq!(Some(fast), by_serde.clone(), "{}", text);
            }
            proptest::prop_assert_eq!(OrderEvent::from_json(&text).ok(), by_serde);
        }
    }

    #[test]
    fn the_event_fast_path_leaves_other_layouts_to_serde() {
        let canonical = r#"{"order_id":1,"customer_id":2,"type":"veggie","qty":1,"retail_price_cents":5,"order_ts":"2026-03-01T18:30:00.000000Z","received_at":"2026-03-01T18:30:01.000000Z"}"#;
        assert!(parse_canonical_event(canonical).is_some());
        for other in [
            canonical.replace(r#""qty":1"#, r#""qty":01"#), // a leading zero
            canonical.replace(r#""qty":1"#, r#""qty":1.0"#), // a fraction
            canonical.replace(r#""qty":1"#, r#""qty":4294967296"#), // past i32
            canonical.replace(r#""order_id":1"#, r#""order_id":99999999999999999999"#),
            canonical.replace("veggie", "Veggie"), // not canonical
            canonical.replace("veggie", r"vegg\u0069e"), // an escape
            canonical.replace(",", ", "),          // spaces
            format!("{canonical} "),               // trailing space
            canonical.replace(".000000Z\",\"received", "Z\",\"received"), // another layout
        ] {
            assert_eq!(parse_canonical_event(&other), None, "{other}");
        }
        // The layouts serde reads still read, through serde.
        let spaced = canonical.replace(",", ", ");
        assert_eq!(
            OrderEvent::from_json(&spaced).unwrap(),
            parse_canonical_event(canonical).unwrap()
        );
        assert!(OrderEvent::from_json(&canonical.replace(r#""qty":1"#, r#""qty":01"#)).is_err());
    }

    #[test]
    fn same_order_ignores_received_at_only() {
        let order = Order {
            order_id: 1,
            customer_id: 2,
            pizza_type: PizzaType::Cheese,
            qty: 1,
            retail_price_cents: 100,
            order_ts: "2026-01-01T00:00:00Z".parse().unwrap(),
        };
        let a = OrderEvent::new(&order, "2026-01-01T00:00:01Z".parse().unwrap());
        let mut b = OrderEvent::new(&order, "2026-01-01T00:00:09Z".parse().unwrap());
        assert!(a.same_order_as(&b));
        b.qty = 3;
        assert!(!a.same_order_as(&b));
    }
}
