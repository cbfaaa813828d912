//! The embedded stand-in for Event Hubs: an append-only SQLite log (WAL, `synchronous =
//! FULL`) with group commit.
//!
//! One writer thread owns the write connection. Requests queue on a channel; the writer
//! takes everything queued, appends it in one transaction and commits once, so many
//! concurrent requests share one fsync. Each request is answered only after that commit.
//!
//! The log is also the embedded door's idempotency index: `order_id` is unique, so a
//! repeated order is recognised at the door (duplicate, or conflict → quarantine) and
//! never re-enters the stream. Consumers read by sequence number and keep a checkpoint,
//! like an Event Hubs consumer group.

use super::{OrderStream, PublishOutcome, StreamError};
use crate::ledger::DoorDay;
use crate::order::OrderEvent;
use chrono::{DateTime, NaiveDate, Utc};
use futures::future::BoxFuture;
use rusqlite::{params, Connection, OptionalExtension};
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, Notify};

/// Most requests one commit takes; bounds a transaction's size under a flood.
const MAX_REQUESTS_PER_COMMIT: usize = 2048;
/// Requests waiting for the writer; beyond it `publish` is refused (load shedding).
const QUEUE_DEPTH: usize = 8192;

type Reply = oneshot::Sender<Result<Vec<PublishOutcome>, StreamError>>;

/// What the writer thread is asked to do. Checkpoints go through the writer too: a
/// second writing connection would have to win SQLite's write lock against a writer
/// that commits all the time, and could stall for seconds under load.
enum WriteRequest {
    Append {
        events: Vec<OrderEvent>,
        reply: Reply,
    },
    Checkpoint {
        consumer: String,
        seq: i64,
        reply: oneshot::Sender<rusqlite::Result<()>>,
    },
}

/// One event read back from the log.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub seq: i64,
    pub body: String,
    pub enqueued_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct LogBatch {
    pub events: Vec<LogEvent>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct LogStats {
    pub last_seq: i64,
    pub checkpoint: i64,
}

impl LogStats {
    pub fn backlog(&self) -> i64 {
        (self.last_seq - self.checkpoint).max(0)
    }
}

pub struct EmbeddedLog {
    path: PathBuf,
    sender: Mutex<Option<mpsc::Sender<WriteRequest>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    reader: Mutex<Connection>,
    appended: Arc<Notify>,
    /// The sequence number of the last committed event: lets a reader wait for "N
    /// after my checkpoint" without querying SQLite on every commit.
    last_seq: Arc<AtomicI64>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("order log {}", .path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

impl EmbeddedLog {
    /// Opens (creating if needed) the log at `path` and starts its writer thread.
    pub fn open(path: &Path) -> Result<Arc<Self>, LogError> {
        Self::open_with_queue_depth(path, QUEUE_DEPTH)
    }

    /// As [`EmbeddedLog::open`], with at most `queue_depth` requests waiting for the
    /// writer; beyond that, publishing fails fast with [`StreamError::Overloaded`].
    pub fn open_with_queue_depth(path: &Path, queue_depth: usize) -> Result<Arc<Self>, LogError> {
        let wrap = sqlite_error(path);
        let writer_conn = open_connection(path).map_err(wrap)?;
        writer_conn.execute_batch(SCHEMA).map_err(wrap)?;
        let reader = open_connection(path).map_err(wrap)?;
        let last_seq: i64 = reader
            .query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))
            .map_err(wrap)?;

        let (sender, receiver) = mpsc::channel(queue_depth.max(1));
        let appended = Arc::new(Notify::new());
        let last_seq = Arc::new(AtomicI64::new(last_seq));
        let notify = appended.clone();
        let committed = last_seq.clone();
        let writer = std::thread::Builder::new()
            .name("order-log-writer".into())
            .spawn(move || run_writer(writer_conn, receiver, notify, committed))
            .expect("spawn the order log writer");
        Ok(Arc::new(EmbeddedLog {
            path: path.to_path_buf(),
            sender: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
            reader: Mutex::new(reader),
            appended,
            last_seq,
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Woken after every commit that appended something.
    pub fn appended(&self) -> Arc<Notify> {
        self.appended.clone()
    }

    /// The sequence number of the last committed event (0: none yet).
    pub fn last_seq(&self) -> i64 {
        self.last_seq.load(Ordering::Acquire)
    }

    /// Stops taking new appends, finishes every queued one, and waits for the writer.
    pub fn close(&self) {
        self.sender.lock().unwrap().take();
        if let Some(handle) = self.writer.lock().unwrap().take() {
            let _ = handle.join();
        }
    }

    /// Up to `max` events after `after_seq`, in sequence order.
    pub fn read_after(&self, after_seq: i64, max: usize) -> Result<LogBatch, LogError> {
        let conn = self.reader.lock().unwrap();
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, body, enqueued_at_us FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(|e| self.error(e))?;
        let rows = stmt
            .query_map(params![after_seq, max as i64], |row| {
                Ok(LogEvent {
                    seq: row.get(0)?,
                    body: row.get(1)?,
                    enqueued_at: micros_to_ts(row.get(2)?),
                })
            })
            .map_err(|e| self.error(e))?;
        let events = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.error(e))?;
        Ok(LogBatch { events })
    }

    pub fn checkpoint(&self, consumer: &str) -> Result<i64, LogError> {
        let conn = self.reader.lock().unwrap();
        conn.query_row(
            "SELECT seq FROM checkpoints WHERE consumer = ?1",
            [consumer],
            |r| r.get(0),
        )
        .optional()
        .map(|seq| seq.unwrap_or(0))
        .map_err(|e| self.error(e))
    }

    /// Records that `consumer` has processed everything up to `seq` (durably). Blocking:
    /// call it off the async workers.
    pub fn set_checkpoint(&self, consumer: &str, seq: i64) -> Result<(), LogError> {
        let closed = || self.error(rusqlite::Error::InvalidQuery);
        let sender = self.sender.lock().unwrap().clone().ok_or_else(closed)?;
        let (reply, answer) = oneshot::channel();
        let request = WriteRequest::Checkpoint {
            consumer: consumer.to_string(),
            seq,
            reply,
        };
        sender.blocking_send(request).map_err(|_| closed())?;
        answer
            .blocking_recv()
            .map_err(|_| closed())?
            .map_err(|e| self.error(e))
    }

    pub fn stats(&self, consumer: &str) -> Result<LogStats, LogError> {
        Ok(LogStats {
            last_seq: self.last_seq(),
            checkpoint: self.checkpoint(consumer)?,
        })
    }

    /// The accepted event for `order_id` and its sequence number, if any.
    pub fn find(&self, order_id: i64) -> Result<Option<(i64, OrderEvent)>, LogError> {
        let conn = self.reader.lock().unwrap();
        let row: Option<(i64, String)> = conn
            .query_row(
                "SELECT seq, body FROM events WHERE order_id = ?1",
                [order_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.error(e))?;
        Ok(row.and_then(|(seq, body)| OrderEvent::from_json(&body).ok().map(|e| (seq, e))))
    }

    /// How many events were appended at or after `since` (their commit time). The commit
    /// time grows with `seq` (one writer stamps each commit), so a binary search over
    /// `seq` finds the first such event in a few indexed reads, however long the log.
    pub fn appended_since(&self, since: DateTime<Utc>) -> Result<i64, LogError> {
        let since = since.timestamp_micros();
        let conn = self.reader.lock().unwrap();
        // Every event before `low` was appended before `since`; every one from `high` on
        // at or after it.
        let (mut low, mut high) = (0i64, self.last_seq() + 1);
        while low < high {
            let middle = low + (high - low) / 2;
            let next: Option<(i64, i64)> = conn
                .prepare_cached(
                    "SELECT seq, enqueued_at_us FROM events WHERE seq >= ?1 ORDER BY seq LIMIT 1",
                )
                .and_then(|mut s| {
                    s.query_row([middle], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .map_err(|e| self.error(e))?;
            match next {
                Some((seq, at)) if at < since => low = seq + 1,
                _ => high = middle,
            }
        }
        conn.query_row("SELECT count(*) FROM events WHERE seq >= ?1", [low], |r| {
            r.get(0)
        })
        .map_err(|e| self.error(e))
    }

    /// Number of conflicting duplicates held in quarantine.
    pub fn quarantined(&self) -> Result<i64, LogError> {
        let conn = self.reader.lock().unwrap();
        conn.query_row("SELECT count(*) FROM quarantine", [], |r| r.get(0))
            .map_err(|e| self.error(e))
    }

    fn error(&self, source: rusqlite::Error) -> LogError {
        sqlite_error(&self.path)(source)
    }
}

/// An SQLite error of the log at `path`, as a [`LogError`].
fn sqlite_error(path: &Path) -> impl Fn(rusqlite::Error) -> LogError + Copy + '_ {
    move |source| LogError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

impl OrderStream for EmbeddedLog {
    fn publish(
        &self,
        events: Vec<OrderEvent>,
    ) -> BoxFuture<'_, Result<Vec<PublishOutcome>, StreamError>> {
        let sender = self.sender.lock().unwrap().clone();
        Box::pin(async move {
            let sender = sender.ok_or(StreamError::ShuttingDown)?;
            let (reply, answer) = oneshot::channel();
            sender
                .try_send(WriteRequest::Append { events, reply })
                .map_err(|e| match e {
                    mpsc::error::TrySendError::Full(_) => StreamError::Overloaded,
                    mpsc::error::TrySendError::Closed(_) => StreamError::ShuttingDown,
                })?;
            answer.await.map_err(|_| StreamError::ShuttingDown)?
        })
    }
}

impl Drop for EmbeddedLog {
    fn drop(&mut self) {
        self.close();
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq            INTEGER PRIMARY KEY,
    order_id       INTEGER NOT NULL UNIQUE,
    body           TEXT    NOT NULL,
    enqueued_at_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    consumer TEXT PRIMARY KEY,
    seq      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantine (
    id                INTEGER PRIMARY KEY,
    order_id          INTEGER NOT NULL,
    reason            TEXT    NOT NULL,
    body              TEXT    NOT NULL,
    quarantined_at_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS duplicates (
    id             INTEGER PRIMARY KEY,
    order_id       INTEGER NOT NULL,
    received_at_us INTEGER NOT NULL
);
";

/// The door's half of the ledger (`sql/sqlite/ledger_door.sql`).
const LEDGER_DOOR_SQL: &str = include_str!("../../sql/sqlite/ledger_door.sql");

/// The door's books of the log at `path` for `days`, as `consumer` has delivered it. Reads
/// on a connection of its own, so `dev` may keep running.
pub fn door_ledger(
    path: &Path,
    consumer: &str,
    days: &RangeInclusive<NaiveDate>,
) -> Result<Vec<DoorDay>, LogError> {
    let wrap = sqlite_error(path);
    let conn = open_connection(path).map_err(wrap)?;
    conn.execute_batch(SCHEMA).map_err(wrap)?;
    let checkpoint: i64 = conn
        .query_row(
            "SELECT coalesce(max(seq), 0) FROM checkpoints WHERE consumer = ?1",
            [consumer],
            |r| r.get(0),
        )
        .map_err(wrap)?;
    let (first, last) = (days.start().to_string(), days.end().to_string());
    let mut statement = conn.prepare(LEDGER_DOOR_SQL).map_err(wrap)?;
    let rows = statement
        .query_map(params![first, last, checkpoint], |r| {
            let day: String = r.get(0)?;
            let oldest: Option<i64> = r.get(5)?;
            Ok((day, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, oldest))
        })
        .map_err(wrap)?;
    let mut door = Vec::new();
    for row in rows {
        let (day, accepted, duplicates, conflicts, not_yet_landed, oldest) = row.map_err(wrap)?;
        // Every body in the log was written by `OrderEvent::to_json`: its day parses.
        let Ok(day) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") else {
            continue;
        };
        door.push(DoorDay {
            day,
            accepted,
            duplicates,
            conflicts,
            not_yet_landed,
            oldest_not_landed: oldest.and_then(DateTime::from_timestamp_micros),
        });
    }
    Ok(door)
}

/// The UTC order day of each event `seq` of the log at `path` (`None`: no such event).
pub fn order_days_of(path: &Path, seqs: &[i64]) -> Result<Vec<Option<NaiveDate>>, LogError> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let wrap = sqlite_error(path);
    let conn = open_connection(path).map_err(wrap)?;
    let mut statement = conn
        .prepare("SELECT body FROM events WHERE seq = ?1")
        .map_err(wrap)?;
    seqs.iter()
        .map(|seq| {
            let body: Option<String> = statement
                .query_row([seq], |r| r.get(0))
                .optional()
                .map_err(wrap)?;
            Ok(body
                .and_then(|b| OrderEvent::from_json(&b).ok())
                .map(|event| event.order_ts.date_naive()))
        })
        .collect()
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // WAL + FULL: a commit returns only after the WAL is fsync'd, so a crash (or power
    // loss) after a 202 cannot lose the order.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    Ok(conn)
}

fn run_writer(
    mut conn: Connection,
    mut receiver: mpsc::Receiver<WriteRequest>,
    appended: Arc<Notify>,
    last_seq: Arc<AtomicI64>,
) {
    while let Some(first) = receiver.blocking_recv() {
        let mut requests = vec![first];
        while requests.len() < MAX_REQUESTS_PER_COMMIT {
            match receiver.try_recv() {
                Ok(request) => requests.push(request),
                Err(_) => break,
            }
        }
        let mut appends = Vec::new();
        let mut checkpoints = Vec::new();
        for request in requests {
            match request {
                WriteRequest::Append { events, reply } => {
                    appends.push(AppendRequest { events, reply })
                }
                WriteRequest::Checkpoint {
                    consumer,
                    seq,
                    reply,
                } => checkpoints.push((consumer, seq, reply)),
            }
        }
        for (consumer, seq, reply) in checkpoints {
            let _ = reply.send(save_checkpoint(&conn, &consumer, seq));
        }
        if appends.is_empty() {
            continue;
        }
        match append_group(&mut conn, &appends) {
            Ok((outcomes, last_appended)) => {
                // Published before any 202 goes out: whoever saw the 202 also sees the
                // event in `last_seq` (and so in the backlog metric).
                if let Some(seq) = last_appended {
                    last_seq.fetch_max(seq, Ordering::AcqRel);
                    appended.notify_one();
                }
                for (request, outcome) in appends.into_iter().zip(outcomes) {
                    let _ = request.reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %crate::errors::Chain(&e), "order log commit failed; requests are refused, nothing was acknowledged");
                let cause = Arc::new(e);
                for request in appends {
                    let _ = request.reply.send(Err(StreamError::Unavailable {
                        service: "the order log".into(),
                        source: Box::new(cause.clone()),
                    }));
                }
            }
        }
    }
}

/// One queued append.
struct AppendRequest {
    events: Vec<OrderEvent>,
    reply: Reply,
}

fn save_checkpoint(conn: &Connection, consumer: &str, seq: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO checkpoints(consumer, seq) VALUES (?1, ?2)
         ON CONFLICT(consumer) DO UPDATE SET seq = max(seq, excluded.seq)",
        params![consumer, seq],
    )
    .map(|_| ())
}

/// The outcomes of one group, and the sequence number of its last appended event.
type GroupOutcome = (Vec<Vec<PublishOutcome>>, Option<i64>);

/// Appends every request of the group in one transaction (one fsync).
fn append_group(conn: &mut Connection, group: &[AppendRequest]) -> rusqlite::Result<GroupOutcome> {
    let tx = conn.transaction()?;
    let enqueued_at = Utc::now().timestamp_micros();
    let mut outcomes = Vec::with_capacity(group.len());
    let mut last_appended = None;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO events(order_id, body, enqueued_at_us) VALUES (?1, ?2, ?3)
             ON CONFLICT(order_id) DO NOTHING",
        )?;
        let mut existing = tx.prepare_cached("SELECT body FROM events WHERE order_id = ?1")?;
        let mut quarantine = tx.prepare_cached(
            "INSERT INTO quarantine(order_id, reason, body, quarantined_at_us) VALUES (?1, ?2, ?3, ?4)",
        )?;
        // Kept so the ledger can count them per day (they are answered 202, stored once).
        let mut duplicate =
            tx.prepare_cached("INSERT INTO duplicates(order_id, received_at_us) VALUES (?1, ?2)")?;
        for request in group {
            let mut request_outcomes = Vec::with_capacity(request.events.len());
            for event in &request.events {
                let body = event.to_json();
                let outcome = if insert.execute(params![event.order_id, body, enqueued_at])? == 1 {
                    last_appended = Some(tx.last_insert_rowid());
                    PublishOutcome::Appended
                } else {
                    let first: String = existing.query_row([event.order_id], |r| r.get(0))?;
                    let same = OrderEvent::from_json(&first)
                        .map(|first| first.same_order_as(event))
                        .unwrap_or(false);
                    if same {
                        duplicate.execute(params![event.order_id, enqueued_at])?;
                        PublishOutcome::Duplicate
                    } else {
                        let reason = format!(
                            "conflicting duplicate of order_id {}; first received: {first}",
                            event.order_id
                        );
                        quarantine.execute(params![event.order_id, reason, body, enqueued_at])?;
                        PublishOutcome::Conflict
                    }
                };
                request_outcomes.push(outcome);
            }
            outcomes.push(request_outcomes);
        }
    }
    tx.commit()?;
    Ok((outcomes, last_appended))
}

fn micros_to_ts(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::{Order, PizzaType};

    fn event(order_id: i64, qty: i32) -> OrderEvent {
        let order = Order {
            order_id,
            customer_id: 5,
            pizza_type: PizzaType::Veggie,
            qty,
            retail_price_cents: 1000,
            order_ts: "2026-01-02T03:04:05Z".parse().unwrap(),
        };
        OrderEvent::new(&order, Utc::now())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn counts_the_events_appended_since_a_time() {
        let tmp = tempfile::tempdir().unwrap();
        let log = EmbeddedLog::open(&tmp.path().join("log.sqlite")).unwrap();
        let before = Utc::now();
        assert_eq!(log.appended_since(before).unwrap(), 0);
        for id in 1..=7 {
            log.publish(vec![event(id, 1)]).await.unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        let middle = Utc::now();
        std::thread::sleep(std::time::Duration::from_millis(5));
        log.publish((8..=12).map(|id| event(id, 1)).collect())
            .await
            .unwrap();
        log.publish(vec![event(3, 1)]).await.unwrap(); // a duplicate appends nothing
        assert_eq!(log.appended_since(before).unwrap(), 12);
        assert_eq!(log.appended_since(middle).unwrap(), 5);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(log.appended_since(Utc::now()).unwrap(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn appends_dedupes_and_quarantines_conflicts() {
        let dir = tempfile::tempdir().unwrap();
        let log = EmbeddedLog::open(&dir.path().join("log.sqlite")).unwrap();
        let out = log
            .publish(vec![event(1, 1), event(2, 1), event(1, 1)])
            .await
            .unwrap();
        assert_eq!(
            out,
            vec![
                PublishOutcome::Appended,
                PublishOutcome::Appended,
                PublishOutcome::Duplicate
            ]
        );
        let out = log.publish(vec![event(2, 9)]).await.unwrap();
        assert_eq!(out, vec![PublishOutcome::Conflict]);
        assert_eq!(log.quarantined().unwrap(), 1);

        let batch = log.read_after(0, 10).unwrap();
        assert_eq!(
            batch.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1, 2]
        );
        let first: OrderEvent = serde_json::from_str(&batch.events[1].body).unwrap();
        assert_eq!(first.qty, 1, "the first received version stands");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_sheds_load_and_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sqlite");
        let log = EmbeddedLog::open_with_queue_depth(&path, 2).unwrap();
        // Another process holds SQLite's write lock: the writer stalls on its commit.
        let blocker = open_connection(&path).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let stalled = {
            let log = log.clone();
            tokio::spawn(async move { log.publish(vec![event(1, 1)]).await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(200)).await; // the writer took it
        let queued: Vec<_> = (2..=3)
            .map(|id| {
                let log = log.clone();
                tokio::spawn(async move { log.publish(vec![event(id, 1)]).await })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(matches!(
            log.publish(vec![event(4, 1)]).await,
            Err(StreamError::Overloaded)
        ));
        blocker.execute_batch("COMMIT").unwrap();
        assert_eq!(
            stalled.await.unwrap().unwrap(),
            vec![PublishOutcome::Appended]
        );
        for task in queued {
            assert_eq!(task.await.unwrap().unwrap(), vec![PublishOutcome::Appended]);
        }
        assert_eq!(
            log.publish(vec![event(4, 1)]).await.unwrap(),
            vec![PublishOutcome::Appended]
        );
        assert!(log.find(4).unwrap().is_some());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_publishers_share_commits_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sqlite");
        let log = EmbeddedLog::open(&path).unwrap();
        let mut tasks = Vec::new();
        for id in 1..=500 {
            let log = log.clone();
            tasks.push(tokio::spawn(async move {
                log.publish(vec![event(id, 1)]).await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), vec![PublishOutcome::Appended]);
        }
        tokio::task::block_in_place(|| {
            log.set_checkpoint("c", 100).unwrap();
            log.set_checkpoint("c", 50).unwrap(); // never moves backwards
        });
        log.close();
        drop(log);

        let reopened = EmbeddedLog::open(&path).unwrap();
        let stats = reopened.stats("c").unwrap();
        assert_eq!(
            (stats.last_seq, stats.checkpoint, stats.backlog()),
            (500, 100, 400)
        );
        assert!(reopened.find(250).unwrap().is_some());
        assert!(reopened.find(501).unwrap().is_none());
        assert!(matches!(
            {
                reopened.close();
                reopened.publish(vec![event(9999, 1)]).await
            },
            Err(StreamError::ShuttingDown)
        ));
    }
}
