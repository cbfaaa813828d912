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

#[derive(Debug, Deserialize)]
pub struct InvocationRequest<'a> {
    #[serde(rename = "Data", default, borrow)]
    pub data: HashMap<String, &'a RawValue>,
    #[serde(rename = "Metadata", default)]
    pub metadata: Map<String, Value>,
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

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvocationError {
    #[error("invocation payload is not JSON: {0}")]
    NotJson(String),
    #[error("invocation has no Data.{0}")]
    MissingBinding(&'static str),
    #[error("invocation field {field}: {message}")]
    BadField { field: String, message: String },
}

fn bad(field: &str, message: impl Into<String>) -> InvocationError {
    InvocationError::BadField {
        field: field.to_string(),
        message: message.into(),
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
    let request: InvocationRequest =
        serde_json::from_slice(body).map_err(|e| InvocationError::NotJson(e.to_string()))?;
    let raw = request
        .data
        .get(ORDERS_BINDING)
        .ok_or(InvocationError::MissingBinding(ORDERS_BINDING))?;
    let bodies = event_bodies(raw)?;
    let seqs: Vec<i64> = nested_array(
        request.metadata.get("SequenceNumberArray"),
        "Metadata.SequenceNumberArray",
    )?
    .iter()
    .map(|v| {
        v.as_i64()
            .ok_or_else(|| bad("Metadata.SequenceNumberArray", "holds a non-integer"))
    })
    .collect::<Result<_, _>>()?;
    if seqs.len() != bodies.len() {
        return Err(bad(
            "Metadata.SequenceNumberArray",
            format!("has {} entries for {} events", seqs.len(), bodies.len()),
        ));
    }
    let partition = request
        .metadata
        .get("PartitionContext")
        .map(decode_nested)
        .and_then(|ctx| {
            ctx.get("PartitionId")
                .and_then(|p| p.as_str().map(str::to_string))
        })
        .unwrap_or_else(|| "0".to_string());
    if partition.is_empty() || !partition.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad(
            "Metadata.PartitionContext.PartitionId",
            format!("{partition:?} is not a partition id"),
        ));
    }
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

/// The event bodies of `Data.orders`: an array (or a string holding one) whose items
/// are JSON objects (default) or strings (`"dataType": "string"`).
fn event_bodies(raw: &RawValue) -> Result<Vec<String>, InvocationError> {
    let field = "Data.orders";
    let text = raw.get().trim_start();
    let holder: String;
    let array_text = if text.starts_with('"') {
        holder = serde_json::from_str::<String>(text).map_err(|e| bad(field, e.to_string()))?;
        holder.as_str()
    } else {
        text
    };
    let items: Vec<&RawValue> = serde_json::from_str(array_text)
        .map_err(|e| bad(field, format!("not an array of events: {e}")))?;
    items
        .into_iter()
        .map(|item| {
            let item = item.get();
            if item.starts_with('"') {
                serde_json::from_str::<String>(item).map_err(|e| bad(field, e.to_string()))
            } else {
                Ok(item.to_string())
            }
        })
        .collect()
}

/// A metadata value the host may have encoded as a JSON string.
fn decode_nested(value: &Value) -> Value {
    match value {
        Value::String(text) => serde_json::from_str(text).unwrap_or_else(|_| value.clone()),
        other => other.clone(),
    }
}

fn nested_array(value: Option<&Value>, field: &str) -> Result<Vec<Value>, InvocationError> {
    match value.map(decode_nested) {
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(bad(field, "is not an array")),
        None => Err(bad(field, "is missing")),
    }
}

/// Builds the Event Hubs trigger request the Functions host would send for `events`
/// (bodies are JSON objects), so the embedded host drives the same contract.
pub fn encode_eventhub_batch(
    partition: &str,
    events: &[(i64, &str, DateTime<Utc>)],
    hub: &str,
    consumer_group: &str,
) -> Vec<u8> {
    let mut array =
        String::with_capacity(events.iter().map(|(_, b, _)| b.len() + 1).sum::<usize>() + 2);
    array.push('[');
    for (i, (_, body, _)) in events.iter().enumerate() {
        if i > 0 {
            array.push(',');
        }
        array.push_str(body);
    }
    array.push(']');
    let seqs: Vec<i64> = events.iter().map(|(s, _, _)| *s).collect();
    let enqueued: Vec<String> = events
        .iter()
        .map(|(_, _, t)| t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
        .collect();
    let nulls = vec![Value::Null; events.len()];
    let empties = vec![Value::Object(Map::new()); events.len()];
    let request = serde_json::json!({
        "Data": { ORDERS_BINDING: array },
        "Metadata": {
            "PartitionContext": {
                "FullyQualifiedNamespace": "embedded",
                "EventHubName": hub,
                "ConsumerGroup": consumer_group,
                "PartitionId": partition,
            },
            "PartitionKeyArray": serde_json::to_string(&nulls).unwrap(),
            "SequenceNumberArray": serde_json::to_string(&seqs).unwrap(),
            "EnqueuedTimeUtcArray": serde_json::to_string(&enqueued).unwrap(),
            "PropertiesArray": serde_json::to_string(&empties).unwrap(),
            "sys": sys_metadata("enrich_orders"),
        }
    });
    serde_json::to_vec(&request).expect("json")
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
        serde_json::from_slice(body).map_err(|e| InvocationError::NotJson(e.to_string()))?;
    let raw = request
        .data
        .get(TIMER_BINDING)
        .ok_or(InvocationError::MissingBinding(TIMER_BINDING))?;
    let timer = decode_nested(
        &serde_json::from_str::<Value>(raw.get()).map_err(|e| bad("Data.timer", e.to_string()))?,
    );
    let is_past_due = timer
        .get("IsPastDue")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let utc_now = request
        .metadata
        .get("sys")
        .map(decode_nested)
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
        "Metadata": { "sys": {
            "MethodName": "build_state_summary",
            "UtcNow": now.format("%Y-%m-%dT%H:%M:%S%.fZ").to_string(),
            "RandGuid": "00000000-0000-0000-0000-000000000000",
        }}
    });
    serde_json::to_vec(&request).expect("json")
}

fn sys_metadata(method: &str) -> Value {
    serde_json::json!({
        "MethodName": method,
        "UtcNow": Utc::now().format("%Y-%m-%dT%H:%M:%S%.fZ").to_string(),
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
    fn refuses_broken_batches_clearly() {
        assert!(matches!(
            decode_eventhub_batch(b"nope"),
            Err(InvocationError::NotJson(_))
        ));
        assert_eq!(
            decode_eventhub_batch(br#"{"Data":{}}"#).unwrap_err(),
            InvocationError::MissingBinding("orders")
        );
        let mismatch = br#"{"Data":{"orders":"[{},{}]"},"Metadata":{"SequenceNumberArray":"[1]"}}"#;
        assert!(decode_eventhub_batch(mismatch)
            .unwrap_err()
            .to_string()
            .contains("1 entries for 2 events"));
        let bad_partition = br#"{"Data":{"orders":"[]"},"Metadata":{"SequenceNumberArray":"[]","PartitionContext":{"PartitionId":"../x"}}}"#;
        assert!(decode_eventhub_batch(bad_partition).is_err());
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
