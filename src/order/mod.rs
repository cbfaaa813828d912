//! The order contract (SPEC §3): what a client may post, and the canonical event that
//! travels through the order stream once an order is accepted.
//!
//! `parse` turns request bytes into validated [`Order`]s (or a typed [`Rejection`]);
//! `money` holds the exact decimal → cents conversion. Nothing downstream re-validates:
//! an [`OrderEvent`] in the stream is already canonical (UTC, exact cents, canonical type).

mod money;
mod parse;
mod pizza_type;

pub use money::{cents_to_decimal_string, parse_price_cents, PriceError};
pub use parse::{parse_orders, parse_timestamp, Rejection, MAX_BATCH_ORDERS, MAX_BODY_BYTES};
pub use pizza_type::PizzaType;

use chrono::{DateTime, SecondsFormat, Utc};
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
}

/// Drops sub-microsecond precision: Parquet and DuckDB store microseconds, and the
/// window test must see exactly what the warehouse sees. Truncation (not rounding)
/// can never move a timestamp across a window edge upwards.
pub fn truncate_to_micros(ts: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(ts.timestamp_micros()).expect("micros of a valid time")
}

/// RFC 3339 with microseconds and a `Z`, the one timestamp format on the wire.
pub fn format_ts(ts: &DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Micros, true)
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
