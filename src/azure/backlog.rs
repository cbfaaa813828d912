//! The order stream's backlog in Azure: Event Hubs' partitions against the checkpoints
//! the Functions host keeps for the `enrich_orders` trigger (`crate::stream::backlog`
//! says how). Read with the app's identity: Event Hubs Data Receiver on the hub (the
//! management link's partition properties) and Storage Blob Data Owner on the host's
//! storage account, both of which the trigger needs anyway.

use crate::lake::AdlsLake;
use crate::stream::backlog::{
    checkpoint_prefix, checkpoints, partition_backlog, Backlog, PartitionBacklog, StreamBacklog,
};
use crate::stream::{EventHubsStream, StreamError};
use futures::future::BoxFuture;
use std::sync::Arc;

/// How long the backlog may take to read: it is a figure for operators, never worth
/// holding up the hourly tick or the nightly build.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub struct EventHubsBacklog {
    stream: Arc<EventHubsStream>,
    /// The host's checkpoint container.
    checkpoints: AdlsLake,
    /// The checkpoint blobs of the trigger's hub and consumer group.
    prefix: String,
}

impl EventHubsBacklog {
    pub fn new(
        stream: Arc<EventHubsStream>,
        checkpoints: AdlsLake,
        namespace: &str,
        hub: &str,
        consumer_group: &str,
    ) -> Self {
        EventHubsBacklog {
            stream,
            checkpoints,
            prefix: checkpoint_prefix(namespace, hub, consumer_group),
        }
    }

    async fn read(&self) -> Result<Backlog, StreamError> {
        let both = async {
            futures::join!(
                self.stream.partition_states(),
                self.checkpoints.list_with_metadata(&self.prefix)
            )
        };
        let (states, listing) =
            tokio::time::timeout(READ_TIMEOUT, both)
                .await
                .map_err(|elapsed| StreamError::Unavailable {
                    service: "Event Hubs or the host's checkpoints".into(),
                    source: elapsed.into(),
                })?;
        let listing = listing.map_err(|e| StreamError::Unavailable {
            service: "the host's Event Hubs checkpoints".into(),
            source: e.into(),
        })?;
        let checkpointed = checkpoints(&listing);
        let partitions = states?
            .into_iter()
            .map(|(partition, state)| {
                let checkpointed = checkpointed.get(&partition).copied();
                PartitionBacklog {
                    waiting: partition_backlog(state, checkpointed),
                    checkpointed,
                    partition,
                }
            })
            .collect();
        Ok(Backlog { partitions })
    }
}

impl StreamBacklog for EventHubsBacklog {
    fn backlog(&self) -> BoxFuture<'_, Result<Backlog, StreamError>> {
        Box::pin(self.read())
    }
}
