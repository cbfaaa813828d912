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
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
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
