//! The Azure Functions custom-handler invocation contract, for non-HTTP triggers.
//!
//! The host POSTs `{"Data": {...}, "Metadata": {...}}` to `/<function name>` and reads
//! `{"Outputs": {...}, "Logs": [...], "ReturnValue": ...}` back; a non-2xx status fails
//! the invocation. Values that are not JSON objects arrive *encoded as JSON strings*
//! (an Event Hubs batch is a string holding an array). Sources and sample payloads:
//! `tests/fixtures/functions_host/SOURCES.md` (learn.microsoft.com, "Azure Functions
//! custom handlers", request/response payload; azure-functions-host and the Event Hubs
//! extension's binding data for `cardinality: many`).

use crate::enrich::StreamedEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Binding name of the Event Hubs trigger in `functions/enrich_orders/function.json`.
pub const ORDERS_BINDING: &str = "orders";
/// Binding name of the timer trigger in `functions/build_state_summary/function.json`.
pub const TIMER_BINDING: &str = "timer";

/// Both members are kept as raw JSON and read only where a trigger asks for a key: an
/// Event Hubs batch carries several per-event arrays (`PropertiesArray`,
/// `SystemPropertiesArray`, …) that `enrich_orders` never reads, and building value
/// trees for them was most of the cost of decoding a batch.
#[derive(Debug, Deserialize)]
pub struct InvocationRequest<'a> {
    #[serde(rename = "Data", default, borrow)]
    pub data: HashMap<String, &'a RawValue>,
    #[serde(rename = "Metadata", default, borrow)]
    pub metadata: HashMap<String, &'a RawValue>,
}

#[derive(Debug, Serialize, Deserialize, Default)]
pub struct InvocationResponse {
    #[serde(rename = "Outputs")]
    pub outputs: Map<String, Value>,
    #[serde(rename = "Logs")]
    pub logs: Vec<String>,
    #[serde(rename = "ReturnValue")]
    pub return_value: Value,
}

#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error("invocation payload is not JSON")]
    NotJson(#[source] serde_json::Error),
    #[error("invocation has no Data.{0}")]
    MissingBinding(&'static str),
    #[error("invocation field {field}: {problem}")]
    BadField {
        field: String,
        problem: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    /// The host sent no usable `Metadata.PartitionContext.PartitionId`. Lake files are
    /// named by partition and sequence range, so such a batch has no safe name: with a
    /// made-up partition, two partitions with overlapping sequence numbers would overwrite
    /// each other's files. The invocation fails (and is retried) rather than guess.
    #[error("invocation has no usable Metadata.PartitionContext.PartitionId: {why}")]
    NoPartition {
        why: String,
        #[source]
        source: Option<serde_json::Error>,
    },
}

impl InvocationError {
    /// Whether the invocation itself is unreadable (broken JSON, a missing binding, a
    /// value of the wrong shape): no retry can mend it, so it is kept raw in quarantine
    /// and acknowledged. A missing partition is the host's problem, not the data's: that
    /// invocation fails instead, and is retried.
    pub fn is_unreadable(&self) -> bool {
        !matches!(self, InvocationError::NoPartition { .. })
    }
}

fn bad(field: &str, problem: impl Into<String>) -> InvocationError {
    InvocationError::BadField {
        field: field.to_string(),
        problem: problem.into(),
        source: None,
    }
}

/// A field whose JSON does not read as `problem` says it should.
fn bad_json(field: &str, problem: &str) -> impl FnOnce(serde_json::Error) -> InvocationError {
    let (field, problem) = (field.to_string(), problem.to_string());
    move |source| InvocationError::BadField {
        field,
        problem,
        source: Some(source),
    }
}

/// An Event Hubs batch as `enrich_orders` needs it.
#[derive(Debug)]
pub struct EventHubBatch {
    pub partition: String,
    pub events: Vec<StreamedEvent>,
}

impl EventHubBatch {
    pub fn first_seq(&self) -> Option<i64> {
        self.events.first().map(|e| e.seq)
    }

    pub fn last_seq(&self) -> Option<i64> {
        self.events.last().map(|e| e.seq)
    }
}

/// Reads an Event Hubs trigger invocation (`cardinality: many`, binding `orders`).
pub fn decode_eventhub_batch(body: &[u8]) -> Result<EventHubBatch, InvocationError> {
    let (bodies, metadata) = match serde_json::from_slice::<EventHubRequestIn>(body) {
        Ok(request) => (request.data.orders.into_bodies()?, request.metadata),
        // Anything unusual (a missing binding, a value of the wrong type, broken JSON)
        // is read the general way, which says what is wrong with it.
        Err(_) => {
            let request: InvocationRequest =
                serde_json::from_slice(body).map_err(InvocationError::NotJson)?;
            let raw = request
                .data
                .get(ORDERS_BINDING)
                .ok_or(InvocationError::MissingBinding(ORDERS_BINDING))?;
            (event_bodies(raw)?, request.metadata)
        }
    };
    let seqs = sequence_numbers(metadata.get("SequenceNumberArray").copied())?;
    if seqs.len() != bodies.len() {
        return Err(bad(
            "Metadata.SequenceNumberArray",
            format!("has {} entries for {} events", seqs.len(), bodies.len()),
        ));
    }
    let partition = partition_id(metadata.get("PartitionContext").copied())?;
    let events = bodies
        .into_iter()
        .zip(seqs)
        .map(|(body, seq)| StreamedEvent {
            partition: partition.clone(),
            seq,
            body,
        })
        .collect();
    Ok(EventHubBatch { partition, events })
}

/// `Metadata.SequenceNumberArray`: one integer per event.
fn sequence_numbers(raw: Option<&RawValue>) -> Result<Vec<i64>, InvocationError> {
    let field = "Metadata.SequenceNumberArray";
    let raw = raw.ok_or_else(|| bad(field, "is missing"))?;
    match nested::<Vec<i64>>(raw) {
        Ok(seqs) => Ok(seqs),
        // Read again as values only to say what is wrong with it.
        Err(_) => match nested::<Value>(raw) {
            Ok(Value::Array(_)) => Err(bad(field, "holds a non-integer")),
            _ => Err(bad(field, "is not an array")),
        },
    }
}

/// `Metadata.PartitionContext.PartitionId`, which the host sends with every Event Hubs
/// batch; without it the invocation fails ([`InvocationError::NoPartition`]).
fn partition_id(raw: Option<&RawValue>) -> Result<String, InvocationError> {
    #[derive(Deserialize)]
    struct PartitionContext {
        #[serde(rename = "PartitionId")]
        partition_id: Option<String>,
    }
    let no_partition = |why: String| InvocationError::NoPartition { why, source: None };
    let raw = raw.ok_or_else(|| no_partition("Metadata.PartitionContext is missing".into()))?;
    let context = nested::<PartitionContext>(raw).map_err(|e| InvocationError::NoPartition {
        why: "Metadata.PartitionContext is unreadable".into(),
        source: Some(e),
    })?;
    let partition = context
        .partition_id
        .ok_or_else(|| no_partition("Metadata.PartitionContext has no PartitionId".into()))?;
    if partition.is_empty() || !partition.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(no_partition(format!("{partition:?} is not a partition id")));
    }
    Ok(partition)
}

/// An Event Hubs invocation as the host sends it, read in one pass: `Data.orders` is
/// unescaped while the request is read. Borrowing it as raw JSON first and unescaping
/// it afterwards scanned the largest string of the request twice.
#[derive(Deserialize)]
struct EventHubRequestIn<'a> {
    #[serde(rename = "Data", borrow)]
    data: EventHubDataIn<'a>,
    #[serde(rename = "Metadata", default, borrow)]
    metadata: HashMap<String, &'a RawValue>,
}

/// `Data`, keyed by the binding name ([`ORDERS_BINDING`]).
#[derive(Deserialize)]
struct EventHubDataIn<'a> {
    #[serde(borrow)]
    orders: OrdersBinding<'a>,
}

/// `Data.orders`: a string holding the array of events (what the host sends), or the
/// array itself.
enum OrdersBinding<'a> {
    Text(String),
    Items(Vec<&'a RawValue>),
}

impl<'de: 'a, 'a> Deserialize<'de> for OrdersBinding<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Binding<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Binding<'a> {
            type Value = OrdersBinding<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of events, or a string holding one")
            }
            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(OrdersBinding::Text(text.to_owned()))
            }
            fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
                Ok(OrdersBinding::Text(text))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element::<&'a RawValue>()? {
                    items.push(item);
                }
                Ok(OrdersBinding::Items(items))
            }
        }
        deserializer.deserialize_any(Binding(std::marker::PhantomData))
    }
}

impl OrdersBinding<'_> {
    fn into_bodies(self) -> Result<Vec<String>, InvocationError> {
        match self {
            OrdersBinding::Text(array_text) => bodies_of_array(&array_text),
            OrdersBinding::Items(items) => items.into_iter().map(event_body).collect(),
        }
    }
}

/// The event bodies of `Data.orders`, already borrowed as raw JSON: an array (or a
/// string holding one) whose items are JSON objects (default) or strings
/// (`"dataType": "string"`), read as the one-pass path reads them.
fn event_bodies(raw: &RawValue) -> Result<Vec<String>, InvocationError> {
    serde_json::from_str::<OrdersBinding>(raw.get())
        .map_err(bad_json(ORDERS_FIELD, "not an array of events"))?
        .into_bodies()
}

const ORDERS_FIELD: &str = "Data.orders";

fn bodies_of_array(array_text: &str) -> Result<Vec<String>, InvocationError> {
    let items: Vec<&RawValue> = serde_json::from_str(array_text)
        .map_err(bad_json(ORDERS_FIELD, "not an array of events"))?;
    items.into_iter().map(event_body).collect()
}

/// One event's body: an object as it is, a string (`"dataType": "string"`) unescaped.
fn event_body(item: &RawValue) -> Result<String, InvocationError> {
    let item = item.get();
    if item.starts_with('"') {
        serde_json::from_str::<String>(item)
            .map_err(bad_json(ORDERS_FIELD, "an event is not a string"))
    } else {
        Ok(item.to_string())
    }
}

/// A value the host may have encoded as a JSON string (it does so for every value that
/// is not a JSON object), read as `T` either way.
fn nested<T: serde::de::DeserializeOwned>(raw: &RawValue) -> serde_json::Result<T> {
    let text = raw.get();
    if text.starts_with('"') {
        let inner: String = serde_json::from_str(text)?;
        serde_json::from_str(&inner)
    } else {
        serde_json::from_str(text)
    }
}

/// Builds the Event Hubs trigger request the Functions host would send for `events`
/// (bodies are JSON objects), so the embedded host drives the same contract: the batch
/// and every per-event metadata array travel as JSON strings, as the host encodes them.
pub fn encode_eventhub_batch(
    partition: &str,
    events: &[(i64, &str, DateTime<Utc>)],
    hub: &str,
    consumer_group: &str,
) -> Vec<u8> {
    let request = EventHubRequest {
        data: EventHubData {
            orders: json_array(events.iter().map(|(_, body, _)| *body)),
        },
        metadata: EventHubMetadata {
            partition_context: PartitionContextOut {
                fully_qualified_namespace: "embedded",
                event_hub_name: hub,
                consumer_group,
                partition_id: partition,
            },
            partition_key_array: json_array(events.iter().map(|_| "null")),
            sequence_number_array: json_array(events.iter().map(|(seq, _, _)| seq.to_string())),
            // The host writes .NET's round-trip DateTime without an offset.
            enqueued_time_utc_array: json_array(events.iter().map(|(_, _, at)| {
                let mut text = crate::order::format_ts(at);
                text.pop(); // the trailing Z
                format!("\"{text}\"")
            })),
            properties_array: json_array(events.iter().map(|_| "{}")),
            sys: sys_metadata("enrich_orders", Utc::now()),
        },
    };
    serde_json::to_vec(&request).expect("json")
}

#[derive(Serialize)]
struct EventHubRequest<'a> {
    #[serde(rename = "Data")]
    data: EventHubData,
    #[serde(rename = "Metadata")]
    metadata: EventHubMetadata<'a>,
}

/// `Data`, keyed by the binding name ([`ORDERS_BINDING`]).
#[derive(Serialize)]
struct EventHubData {
    orders: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventHubMetadata<'a> {
    partition_context: PartitionContextOut<'a>,
    partition_key_array: String,
    sequence_number_array: String,
    enqueued_time_utc_array: String,
    properties_array: String,
    #[serde(rename = "sys")]
    sys: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PartitionContextOut<'a> {
    fully_qualified_namespace: &'a str,
    event_hub_name: &'a str,
    consumer_group: &'a str,
    partition_id: &'a str,
}

/// `[a,b,…]` from items that are already JSON.
fn json_array<T: AsRef<str>>(items: impl Iterator<Item = T>) -> String {
    let mut array = String::from("[");
    for (i, item) in items.enumerate() {
        if i > 0 {
            array.push(',');
        }
        array.push_str(item.as_ref());
    }
    array.push(']');
    array
}

/// The timer trigger's view of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerRun {
    /// When the host invoked us (`Metadata.sys.UtcNow`).
    pub utc_now: DateTime<Utc>,
    pub is_past_due: bool,
}

/// Reads a timer trigger invocation (binding `timer`).
pub fn decode_timer(body: &[u8]) -> Result<TimerRun, InvocationError> {
    let request: InvocationRequest =
        serde_json::from_slice(body).map_err(InvocationError::NotJson)?;
    let raw = request
        .data
        .get(TIMER_BINDING)
        .ok_or(InvocationError::MissingBinding(TIMER_BINDING))?;
    let timer: Value = nested(raw).map_err(bad_json("Data.timer", "not a timer's JSON"))?;
    let is_past_due = timer
        .get("IsPastDue")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let utc_now = request
        .metadata
        .get("sys")
        .and_then(|raw| nested::<Value>(raw).ok())
        .and_then(|sys| {
            sys.get("UtcNow")
                .and_then(|v| v.as_str().map(str::to_string))
        })
        .and_then(|text| crate::order::parse_timestamp(&text))
        .unwrap_or_else(Utc::now);
    Ok(TimerRun {
        utc_now,
        is_past_due,
    })
}

/// Builds the timer request the Functions host would send.
pub fn encode_timer(
    now: DateTime<Utc>,
    last: Option<DateTime<Utc>>,
    next: DateTime<Utc>,
    is_past_due: bool,
) -> Vec<u8> {
    let stamp = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%.f+00:00").to_string();
    let request = serde_json::json!({
        "Data": { TIMER_BINDING: {
            "Schedule": { "AdjustForDST": true },
            "ScheduleStatus": {
                "Last": last.map(stamp).unwrap_or_else(|| "0001-01-01T00:00:00".to_string()),
                "Next": stamp(next),
                "LastUpdated": stamp(now),
            },
            "IsPastDue": is_past_due,
        }},
        "Metadata": { "sys": sys_metadata("build_state_summary", now) }
    });
    serde_json::to_vec(&request).expect("json")
}

/// `Metadata.sys`, the host's system binding data for every trigger.
fn sys_metadata(method: &str, now: DateTime<Utc>) -> Value {
    serde_json::json!({
        "MethodName": method,
        "UtcNow": now.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string(),
        "RandGuid": "00000000-0000-0000-0000-000000000000",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/tests/fixtures/functions_host/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn reads_the_documented_eventhub_payload() {
        let batch = decode_eventhub_batch(&fixture("eventhub_many_request.json")).unwrap();
        assert_eq!(batch.partition, "0");
        assert_eq!(
            batch.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1200, 1201, 1202]
        );
        let first: crate::order::OrderEvent = serde_json::from_str(&batch.events[0].body).unwrap();
        assert_eq!(first.order_id, 1);
        let second: crate::order::OrderEvent = serde_json::from_str(&batch.events[1].body).unwrap();
        assert_eq!(
            crate::order::format_ts(&second.received_at),
            "2026-03-01T18:30:05.400000Z"
        );
    }

    #[test]
    fn reads_the_string_datatype_variant() {
        let batch =
            decode_eventhub_batch(&fixture("eventhub_many_request_datatype_string.json")).unwrap();
        assert_eq!(batch.events.len(), 3);
        for event in &batch.events {
            serde_json::from_str::<crate::order::OrderEvent>(&event.body).unwrap();
        }
    }

    #[test]
    fn our_encoding_reads_back_like_the_hosts() {
        let now = Utc::now();
        let bodies = [r#"{"a":1}"#, r#"{"b":"x"}"#];
        let events: Vec<(i64, &str, DateTime<Utc>)> =
            vec![(5, bodies[0], now), (6, bodies[1], now)];
        let batch =
            decode_eventhub_batch(&encode_eventhub_batch("3", &events, "orders", "$Default"))
                .unwrap();
        assert_eq!(batch.partition, "3");
        assert_eq!(batch.events[1].body, bodies[1]);
        assert_eq!((batch.first_seq(), batch.last_seq()), (Some(5), Some(6)));
    }

    #[test]
    fn reads_the_batch_as_an_array_as_well_as_a_string() {
        let as_string = fixture("eventhub_many_request.json");
        let mut request: Value = serde_json::from_slice(&as_string).unwrap();
        let array: Value =
            serde_json::from_str(request["Data"]["orders"].as_str().unwrap()).unwrap();
        let strings: Vec<String> = array
            .as_array()
            .unwrap()
            .iter()
            .map(Value::to_string)
            .collect();
        let bodies = |payload: &[u8]| -> Vec<(i64, crate::order::OrderEvent)> {
            decode_eventhub_batch(payload)
                .unwrap()
                .events
                .into_iter()
                .map(|e| (e.seq, serde_json::from_str(&e.body).unwrap()))
                .collect()
        };
        let expected = bodies(&as_string);
        assert_eq!(expected.len(), 3);
        request["Data"]["orders"] = array;
        assert_eq!(bodies(&serde_json::to_vec(&request).unwrap()), expected);
        request["Data"]["orders"] = serde_json::json!(strings);
        assert_eq!(bodies(&serde_json::to_vec(&request).unwrap()), expected);
    }

    #[test]
    fn our_encoding_has_the_hosts_shape() {
        let documented: Value =
            serde_json::from_slice(&fixture("eventhub_many_request.json")).unwrap();
        let now = Utc::now();
        let ours: Value = serde_json::from_slice(&encode_eventhub_batch(
            "0",
            &[(7, r#"{"a":1}"#, now)],
            "orders",
            "$Default",
        ))
        .unwrap();
        let documented_keys = documented["Metadata"].as_object().unwrap();
        for (key, value) in ours["Metadata"].as_object().unwrap() {
            let theirs = &documented_keys[key];
            assert_eq!(value.is_string(), theirs.is_string(), "Metadata.{key}");
        }
        assert!(
            ours["Data"][ORDERS_BINDING].is_string(),
            "the batch is a string"
        );
        let enqueued: Vec<String> =
            serde_json::from_str(ours["Metadata"]["EnqueuedTimeUtcArray"].as_str().unwrap())
                .unwrap();
        let written = chrono::NaiveDateTime::parse_from_str(&enqueued[0], "%Y-%m-%dT%H:%M:%S%.f")
            .unwrap()
            .and_utc();
        assert_eq!(written, crate::order::truncate_to_micros(now));
    }

    #[test]
    fn refuses_broken_batches_clearly() {
        assert!(matches!(
            decode_eventhub_batch(b"nope"),
            Err(InvocationError::NotJson(_))
        ));
        assert!(matches!(
            decode_eventhub_batch(br#"{"Data":{}}"#).unwrap_err(),
            InvocationError::MissingBinding("orders")
        ));
        let mismatch = br#"{"Data":{"orders":"[{},{}]"},"Metadata":{"SequenceNumberArray":"[1]"}}"#;
        assert!(
            crate::errors::chain(&decode_eventhub_batch(mismatch).unwrap_err())
                .contains("1 entries for 2 events")
        );
        let fractional =
            br#"{"Data":{"orders":"[{}]"},"Metadata":{"SequenceNumberArray":"[1.5]"}}"#;
        assert!(decode_eventhub_batch(fractional)
            .unwrap_err()
            .to_string()
            .contains("holds a non-integer"));
        let not_array = br#"{"Data":{"orders":"[{}]"},"Metadata":{"SequenceNumberArray":"seven"}}"#;
        assert!(decode_eventhub_batch(not_array)
            .unwrap_err()
            .to_string()
            .contains("is not an array"));
        let wrong_type = br#"{"Data":{"orders":5},"Metadata":{"SequenceNumberArray":"[1]"}}"#;
        assert!(decode_eventhub_batch(wrong_type)
            .unwrap_err()
            .to_string()
            .contains("Data.orders: not an array of events"));
        let missing = br#"{"Data":{"orders":"[{}]"},"Metadata":{}}"#;
        assert!(decode_eventhub_batch(missing)
            .unwrap_err()
            .to_string()
            .contains("is missing"));
        let bad_partition = br#"{"Data":{"orders":"[]"},"Metadata":{"SequenceNumberArray":"[]","PartitionContext":{"PartitionId":"../x"}}}"#;
        assert!(decode_eventhub_batch(bad_partition).is_err());
    }

    #[test]
    fn a_batch_without_its_partition_fails_rather_than_guessing_one() {
        let documented: Value =
            serde_json::from_slice(&fixture("eventhub_many_request.json")).unwrap();
        let without = |edit: &dyn Fn(&mut Value)| {
            let mut request = documented.clone();
            edit(&mut request);
            decode_eventhub_batch(&serde_json::to_vec(&request).unwrap()).unwrap_err()
        };
        let no_context = without(&|r| {
            r["Metadata"]
                .as_object_mut()
                .unwrap()
                .remove("PartitionContext");
        });
        assert!(
            matches!(&no_context, InvocationError::NoPartition { why, .. } if why.contains("missing")),
            "{no_context}"
        );
        let no_id = without(&|r| {
            r["Metadata"]["PartitionContext"]
                .as_object_mut()
                .unwrap()
                .remove("PartitionId");
        });
        assert!(
            matches!(no_id, InvocationError::NoPartition { .. }),
            "{no_id}"
        );
        let traversal =
            without(&|r| r["Metadata"]["PartitionContext"]["PartitionId"] = "../x".into());
        assert!(matches!(traversal, InvocationError::NoPartition { .. }));
        for error in [no_context, no_id, traversal] {
            assert!(!error.is_unreadable(), "{error}: fails, is not quarantined");
        }
    }

    #[test]
    fn unreadable_invocations_are_the_ones_kept_in_quarantine() {
        for body in [
            &b"nope"[..],
            br#"{"Data":{}}"#,
            br#"{"Data":{"orders":5},"Metadata":{"SequenceNumberArray":"[1]"}}"#,
            br#"{"Data":{"orders":"[{}]"},"Metadata":{}}"#,
        ] {
            let error = decode_eventhub_batch(body).unwrap_err();
            assert!(error.is_unreadable(), "{error}");
        }
    }

    #[test]
    fn a_non_json_event_of_a_string_batch_is_one_event_not_a_broken_batch() {
        // With "dataType": "string" the host hands over each body as text, JSON or not.
        let mut request: Value =
            serde_json::from_slice(&fixture("eventhub_many_request_datatype_string.json")).unwrap();
        let mut bodies: Vec<String> =
            serde_json::from_str(request["Data"]["orders"].as_str().unwrap()).unwrap();
        bodies[1] = "\u{1}not json at all <xml/>".to_string();
        request["Data"]["orders"] = serde_json::to_string(&bodies).unwrap().into();
        let batch = decode_eventhub_batch(&serde_json::to_vec(&request).unwrap()).unwrap();
        assert_eq!(batch.events.len(), 3);
        assert_eq!(batch.events[1].body, bodies[1]);
        assert!(crate::order::OrderEvent::from_json(&batch.events[1].body).is_err());
        assert!(crate::order::OrderEvent::from_json(&batch.events[0].body).is_ok());
    }

    #[test]
    fn reads_the_documented_timer_payload() {
        let run = decode_timer(&fixture("timer_request.json")).unwrap();
        assert!(!run.is_past_due);
        assert_eq!(
            run.utc_now,
            "2026-03-01T18:30:00.0121905Z"
                .parse::<DateTime<Utc>>()
                .unwrap()
        );
        let ours = decode_timer(&encode_timer(run.utc_now, None, run.utc_now, true)).unwrap();
        assert!(ours.is_past_due);
        assert_eq!(ours.utc_now, run.utc_now);
    }

    #[test]
    fn response_shape_matches_the_documentation() {
        let documented: InvocationResponse =
            serde_json::from_slice(&fixture("response_example.json")).unwrap();
        let ours = serde_json::to_value(InvocationResponse {
            logs: vec!["x".into()],
            ..Default::default()
        })
        .unwrap();
        let keys: Vec<&String> = ours.as_object().unwrap().keys().collect();
        assert_eq!(keys, vec!["Logs", "Outputs", "ReturnValue"]);
        let _ = documented;
    }
}
