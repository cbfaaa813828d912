//! The order stream in Azure: Event Hubs, through `azure_messaging_eventhubs`.
//!
//! `publish` resolves only once the service has acknowledged every send (the AMQP
//! disposition is `Accepted`), so `ingest_order`'s 202 still means "durable": Event Hubs
//! keeps the events (replicated) until `enrich_orders` has landed them.
//!
//! Events are keyed by customer: all orders of one customer go to one partition, in the
//! order they were accepted, and a client's retry of the same order lands in the same
//! partition as the first try. Event Hubs has no unique index at the door, so repeats
//! are appended; the lake keeps each `order_id` once (compaction, and the
//! `orders_enriched` view in Synapse), as CONTRACT §5 asks of at-least-once landing.

use super::backlog::PartitionState;
use super::{OrderStream, PublishOutcome, StreamError};
use crate::order::OrderEvent;
use azure_core::credentials::TokenCredential;
use azure_messaging_eventhubs::models::EventData;
use azure_messaging_eventhubs::{EventDataBatchOptions, ProducerClient};
use futures::future::BoxFuture;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// Content type of every event body: an [`OrderEvent`] as JSON.
pub const EVENT_CONTENT_TYPE: &str = "application/json";
/// Application property naming the order, for tracing an order through Event Hubs.
pub const ORDER_ID_PROPERTY: &str = "order_id";

/// The events of one request that share a partition key: sent as one batch (or more,
/// when they do not fit in one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSend {
    pub partition_key: String,
    pub events: Vec<PlannedEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedEvent {
    pub order_id: i64,
    pub body: Vec<u8>,
}

/// The partition key of an order: its customer.
pub fn partition_key(event: &OrderEvent) -> String {
    event.customer_id.to_string()
}

/// Groups a request's events by partition key, keeping the accepted order within each
/// group and the groups in order of first appearance.
pub fn plan_sends(events: &[OrderEvent]) -> Vec<PlannedSend> {
    let mut sends: Vec<PlannedSend> = Vec::new();
    let mut index_of_key = std::collections::HashMap::new();
    for event in events {
        let key = partition_key(event);
        let index = *index_of_key.entry(key.clone()).or_insert_with(|| {
            sends.push(PlannedSend {
                partition_key: key,
                events: Vec::new(),
            });
            sends.len() - 1
        });
        sends[index].events.push(PlannedEvent {
            order_id: event.order_id,
            body: serde_json::to_vec(event).expect("an order event serializes"),
        });
    }
    sends
}

/// The Event Hubs message of one order.
fn event_data(event: &PlannedEvent) -> EventData {
    EventData::builder()
        .with_body(event.body.clone())
        .with_content_type(EVENT_CONTENT_TYPE.to_string())
        .add_property(ORDER_ID_PROPERTY.to_string(), event.order_id)
        .build()
}

/// Publishing side of the order stream on Event Hubs.
pub struct EventHubsStream {
    namespace: String,
    hub: String,
    credential: Arc<dyn TokenCredential>,
    producer: OnceCell<ProducerClient>,
}

impl EventHubsStream {
    /// `namespace` is the fully qualified host, e.g. `pizza-ns.servicebus.windows.net`.
    /// The connection opens on the first publish, so a handler starts without waiting
    /// for the network.
    pub fn new(namespace: &str, hub: &str, credential: Arc<dyn TokenCredential>) -> Self {
        EventHubsStream {
            namespace: namespace.to_string(),
            hub: hub.to_string(),
            credential,
            producer: OnceCell::new(),
        }
    }

    async fn producer(&self) -> Result<&ProducerClient, StreamError> {
        self.producer
            .get_or_try_init(|| async {
                ProducerClient::builder()
                    .with_application_id("pizza-pipeline".to_string())
                    .open(&self.namespace, &self.hub, self.credential.clone())
                    .await
                    .map_err(|e| unavailable(&self.hub, e))
            })
            .await
    }

    async fn send(&self, planned: &PlannedSend) -> Result<(), StreamError> {
        let producer = self.producer().await?;
        let options = || {
            Some(EventDataBatchOptions {
                partition_key: Some(planned.partition_key.clone()),
                ..Default::default()
            })
        };
        let mut batch = producer
            .create_batch(options())
            .await
            .map_err(|e| unavailable(&self.hub, e))?;
        for event in &planned.events {
            if batch
                .try_add_event_data(event_data(event), None)
                .map_err(|e| unavailable(&self.hub, e))?
            {
                continue;
            }
            // The batch is full: send it and start the next one with this event.
            producer
                .send_batch(batch, None)
                .await
                .map_err(|e| unavailable(&self.hub, e))?;
            batch = producer
                .create_batch(options())
                .await
                .map_err(|e| unavailable(&self.hub, e))?;
            let fits = batch
                .try_add_event_data(event_data(event), None)
                .map_err(|e| unavailable(&self.hub, e))?;
            if !fits {
                return Err(StreamError::Unavailable {
                    service: format!("Event Hubs {}", self.hub),
                    source: format!(
                        "order {} does not fit in an empty Event Hubs batch",
                        event.order_id
                    )
                    .into(),
                });
            }
        }
        if !batch.is_empty() {
            producer
                .send_batch(batch, None)
                .await
                .map_err(|e| unavailable(&self.hub, e))?;
        }
        Ok(())
    }
}

impl EventHubsStream {
    /// Each partition of the hub as Event Hubs sees it now: the stream side of the
    /// backlog (`super::backlog`).
    pub async fn partition_states(&self) -> Result<Vec<(String, PartitionState)>, StreamError> {
        let producer = self.producer().await?;
        let hub = producer
            .get_eventhub_properties()
            .await
            .map_err(|e| unavailable(&self.hub, e))?;
        let mut states = Vec::with_capacity(hub.partition_ids.len());
        for id in hub.partition_ids {
            let partition = producer
                .get_partition_properties(&id)
                .await
                .map_err(|e| unavailable(&self.hub, e))?;
            states.push((
                id,
                PartitionState {
                    beginning_sequence_number: partition.beginning_sequence_number,
                    last_enqueued_sequence_number: partition.last_enqueued_sequence_number,
                    is_empty: partition.is_empty,
                },
            ));
        }
        Ok(states)
    }
}

fn unavailable(hub: &str, error: impl Into<crate::errors::BoxError>) -> StreamError {
    StreamError::Unavailable {
        service: format!("Event Hubs {hub}"),
        source: error.into(),
    }
}

impl OrderStream for EventHubsStream {
    fn publish(
        &self,
        events: Vec<OrderEvent>,
    ) -> BoxFuture<'_, Result<Vec<PublishOutcome>, StreamError>> {
        Box::pin(async move {
            let sends = plan_sends(&events);
            // Every partition key's batch in flight at once; the answer waits for all.
            futures::future::try_join_all(sends.iter().map(|send| self.send(send))).await?;
            Ok(vec![PublishOutcome::Appended; events.len()])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::PizzaType;
    use chrono::{TimeZone, Utc};

    fn event(order_id: i64, customer_id: i64) -> OrderEvent {
        let ts = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        OrderEvent {
            order_id,
            customer_id,
            pizza_type: PizzaType::parse_lenient("pepperoni").unwrap(),
            qty: 1,
            retail_price_cents: 1299,
            order_ts: ts,
            received_at: ts,
        }
    }

    #[test]
    fn groups_by_customer_keeping_order() {
        let events = [event(1, 7), event(2, 9), event(3, 7), event(4, 7)];
        let plan = plan_sends(&events);
        let keys: Vec<&str> = plan.iter().map(|s| s.partition_key.as_str()).collect();
        assert_eq!(keys, ["7", "9"]);
        let ids: Vec<i64> = plan[0].events.iter().map(|e| e.order_id).collect();
        assert_eq!(ids, [1, 3, 4]);
        assert_eq!(plan[1].events[0].order_id, 2);
    }

    #[test]
    fn bodies_are_the_order_event_the_enricher_reads() {
        let original = event(42, 7);
        let plan = plan_sends(std::slice::from_ref(&original));
        let body = &plan[0].events[0].body;
        let decoded: OrderEvent = serde_json::from_slice(body).unwrap();
        assert_eq!(decoded, original);
        // a retry of the same order gets the same key, so the same partition
        assert_eq!(partition_key(&original), partition_key(&event(42, 7)));
    }

    #[test]
    fn messages_carry_content_type_and_order_id() {
        let plan = plan_sends(&[event(42, 7)]);
        let data = event_data(&plan[0].events[0]);
        assert_eq!(data.content_type(), Some(EVENT_CONTENT_TYPE));
        assert_eq!(data.body(), Some(plan[0].events[0].body.as_slice()));
        let properties = data.properties().expect("application properties");
        assert!(properties.contains_key(ORDER_ID_PROPERTY));
    }
}
