//! The order stream: where `ingest_order` publishes accepted orders and where
//! `enrich_orders` reads them from. Event Hubs in Azure; a durable SQLite log embedded.
//!
//! A publish resolves only once the order is durable (fsync'd / acknowledged): the
//! 202 that follows is a promise that the order reaches the warehouse.

pub mod backlog;
#[cfg(feature = "embedded")]
mod embedded_log;
#[cfg(feature = "azure")]
mod event_hubs;

pub use backlog::{Backlog, StreamBacklog};
#[cfg(feature = "embedded")]
pub use embedded_log::{
    door_ledger, order_days_of, EmbeddedLog, LogBatch, LogError, LogEvent, LogStats,
};
#[cfg(feature = "azure")]
pub use event_hubs::{
    partition_key, plan_sends, EventHubsStream, PlannedEvent, PlannedSend, EVENT_CONTENT_TYPE,
    ORDER_ID_PROPERTY,
};

use crate::order::OrderEvent;
use futures::future::BoxFuture;

/// What became of one published order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishOutcome {
    /// Newly appended to the stream.
    Appended,
    /// The same order was already in the stream: nothing appended, counted once.
    Duplicate,
    /// The `order_id` was already in the stream with a different payload: the first
    /// one stands, this one is quarantined.
    Conflict,
}

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The stream's service could not be reached or refused: `service` names it.
    #[error("{service} unavailable")]
    Unavailable {
        service: String,
        #[source]
        source: crate::errors::BoxError,
    },
    #[error("order log is shutting down")]
    ShuttingDown,
    /// Every slot of the writer's queue is taken: shed the request instead of letting
    /// memory and latency grow without bound.
    #[error("order log is at capacity")]
    Overloaded,
}

/// Publishing side of the order stream.
pub trait OrderStream: Send + Sync + 'static {
    /// Appends the events durably, in order, and says what became of each.
    fn publish(
        &self,
        events: Vec<OrderEvent>,
    ) -> BoxFuture<'_, Result<Vec<PublishOutcome>, StreamError>>;
}
