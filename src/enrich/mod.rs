//! Enrichment: stream events + customers → enriched rows (CONTRACT §4).
//!
//! A customer that cannot be found never drops an order: the row is kept with empty
//! customer fields and `customer_found = false`. A body that is not an order event at
//! all (a poison message) is set aside with its reason, never silently dropped.

use crate::customers::{Customer, CustomerDirectory, CustomerLookupError};
use crate::order::OrderEvent;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// One event as the stream delivered it.
#[derive(Debug, Clone)]
pub struct StreamedEvent {
    pub partition: String,
    pub seq: i64,
    pub body: String,
}

/// An order joined with its customer, ready for the lake.
#[derive(Debug, Clone)]
pub struct EnrichedOrder {
    pub event: OrderEvent,
    pub customer: Option<Arc<Customer>>,
    pub stream_partition: String,
    pub stream_seq: i64,
    pub enriched_at: DateTime<Utc>,
}

/// An event that could not be read as an order.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PoisonEvent {
    pub partition: String,
    pub seq: i64,
    pub reason: String,
    pub body: String,
}

#[derive(Debug, Default)]
pub struct Enriched {
    pub rows: Vec<EnrichedOrder>,
    pub poison: Vec<PoisonEvent>,
}

impl Enriched {
    pub fn unknown_customers(&self) -> usize {
        self.rows.iter().filter(|r| r.customer.is_none()).count()
    }
}

/// Decodes a batch and joins it with its customers in one batched lookup.
pub async fn enrich_batch(
    events: Vec<StreamedEvent>,
    directory: &dyn CustomerDirectory,
) -> Result<Enriched, CustomerLookupError> {
    let enriched_at = crate::order::truncate_to_micros(Utc::now());
    // Rows are built as events decode (each body is freed at once), then joined in place.
    let mut rows = Vec::with_capacity(events.len());
    let mut poison = Vec::new();
    for streamed in events {
        match OrderEvent::from_json(&streamed.body) {
            Ok(event) => rows.push(EnrichedOrder {
                event,
                customer: None,
                stream_partition: streamed.partition,
                stream_seq: streamed.seq,
                enriched_at,
            }),
            Err(e) => poison.push(PoisonEvent {
                partition: streamed.partition,
                seq: streamed.seq,
                reason: format!("not an order event: {e}"),
                body: streamed.body,
            }),
        }
    }
    let mut ids: Vec<i64> = rows.iter().map(|r| r.event.customer_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let customers = directory.lookup(&ids).await?;
    for row in &mut rows {
        row.customer = customers.get(&row.event.customer_id).cloned();
    }
    Ok(Enriched { rows, poison })
}
