//! The stream's backlog: events accepted into the stream that its consumer has not yet
//! checkpointed, i.e. orders not yet landed (or landed since the last checkpoint). In
//! Azure it is the one figure of the books that only Event Hubs knows.
//!
//! Per partition: the sequence number of the last event enqueued (Event Hubs' partition
//! properties) minus the one the `enrich_orders` trigger checkpointed. The Functions
//! host keeps that checkpoint as a blob in its own storage account, one per partition:
//! `azure-webjobs-eventhub/<namespace>/<hub>/<consumer group>/checkpoint/<partition>`,
//! names in lower case, the sequence number in the blob's metadata `sequencenumber`
//! (the Event Hubs extension's blob checkpoint store).

use super::StreamError;
use futures::future::BoxFuture;
use std::collections::HashMap;

/// The container of the Functions host's Event Hubs checkpoints.
pub const CHECKPOINT_CONTAINER: &str = "azure-webjobs-eventhub";
/// The blob metadata key holding a checkpoint's sequence number.
pub const SEQUENCE_NUMBER_KEY: &str = "sequencenumber";

/// What Event Hubs says of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionState {
    pub beginning_sequence_number: i64,
    pub last_enqueued_sequence_number: i64,
    pub is_empty: bool,
}

/// The backlog of one partition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartitionBacklog {
    pub partition: String,
    /// Events after the checkpoint (all retained events when there is none yet).
    pub waiting: u64,
    /// The checkpointed sequence number (`None`: the consumer never checkpointed).
    pub checkpointed: Option<i64>,
}

/// The backlog of the whole stream, partition by partition.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Backlog {
    pub partitions: Vec<PartitionBacklog>,
}

impl Backlog {
    pub fn waiting(&self) -> u64 {
        self.partitions.iter().map(|p| p.waiting).sum()
    }

    /// The log line of the backlog, which the `stream-backlog` alert reads.
    pub fn line(&self) -> String {
        let detail: Vec<String> = self
            .partitions
            .iter()
            .filter(|p| p.waiting > 0)
            .map(|p| format!("partition {}: {}", p.partition, p.waiting))
            .collect();
        format!(
            "{BACKLOG_LINE} {} events not yet landed{}",
            self.waiting(),
            if detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", detail.join(", "))
            }
        )
    }
}

/// How the backlog's log line begins.
pub const BACKLOG_LINE: &str = "stream backlog:";

/// Events of a partition after its checkpoint.
pub fn partition_backlog(state: PartitionState, checkpointed: Option<i64>) -> u64 {
    if state.is_empty {
        return 0;
    }
    let after = match checkpointed {
        Some(sequence) => {
            state.last_enqueued_sequence_number - sequence.max(state.beginning_sequence_number - 1)
        }
        None => state.last_enqueued_sequence_number - state.beginning_sequence_number + 1,
    };
    after.max(0) as u64
}

/// The checkpoint blobs' folder for one hub and consumer group, as the host names it.
pub fn checkpoint_prefix(namespace: &str, hub: &str, consumer_group: &str) -> String {
    format!(
        "{}/{}/{}/checkpoint",
        namespace.to_lowercase(),
        hub.to_lowercase(),
        consumer_group.to_lowercase()
    )
}

/// Each partition's checkpointed sequence number, from a listing of the checkpoint
/// blobs under [`checkpoint_prefix`] with their metadata.
pub fn checkpoints(listing: &[(String, HashMap<String, String>)]) -> HashMap<String, i64> {
    listing
        .iter()
        .filter_map(|(name, metadata)| {
            let partition = name.rsplit('/').next()?.to_string();
            let sequence = metadata
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(SEQUENCE_NUMBER_KEY))
                .and_then(|(_, value)| value.parse::<i64>().ok())?;
            Some((partition, sequence))
        })
        .collect()
}

/// Where the backlog is read from.
pub trait StreamBacklog: Send + Sync + 'static {
    fn backlog(&self) -> BoxFuture<'_, Result<Backlog, StreamError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(beginning: i64, last: i64) -> PartitionState {
        PartitionState {
            beginning_sequence_number: beginning,
            last_enqueued_sequence_number: last,
            is_empty: false,
        }
    }

    #[test]
    fn a_partition_backlog_is_what_follows_its_checkpoint() {
        assert_eq!(partition_backlog(state(0, 99), Some(89)), 10);
        assert_eq!(partition_backlog(state(0, 99), Some(99)), 0, "all landed");
        assert_eq!(
            partition_backlog(state(0, 99), None),
            100,
            "never checkpointed"
        );
        assert_eq!(
            partition_backlog(state(50, 99), Some(10)),
            50,
            "events older than the retention are gone, not waiting"
        );
        let empty = PartitionState {
            is_empty: true,
            ..state(0, -1)
        };
        assert_eq!(partition_backlog(empty, None), 0);
    }

    #[test]
    fn checkpoints_are_read_from_the_blob_metadata() {
        let prefix = checkpoint_prefix("Pizza.servicebus.windows.net", "Orders", "Enrich");
        assert_eq!(
            prefix,
            "pizza.servicebus.windows.net/orders/enrich/checkpoint"
        );
        let blob = |p: &str, seq: &str| {
            (
                format!("{prefix}/{p}"),
                HashMap::from([
                    ("offset".to_string(), "1234".to_string()),
                    ("SequenceNumber".to_string(), seq.to_string()),
                ]),
            )
        };
        let read = checkpoints(&[blob("0", "41"), blob("1", "not a number")]);
        assert_eq!(read, HashMap::from([("0".to_string(), 41)]));
        let backlog = Backlog {
            partitions: vec![
                PartitionBacklog {
                    partition: "0".into(),
                    waiting: 3,
                    checkpointed: Some(41),
                },
                PartitionBacklog {
                    partition: "1".into(),
                    waiting: 0,
                    checkpointed: None,
                },
            ],
        };
        assert_eq!(
            backlog.line(),
            "stream backlog: 3 events not yet landed (partition 0: 3)"
        );
    }
}
