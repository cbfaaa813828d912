//! The lake: all history of enriched orders as Parquet, one folder per UTC order day
//! (CONTRACT §5): `orders_enriched/order_date=YYYY-MM-DD/<file>.parquet`.
//!
//! Storage back-ends sit behind [`LakeStore`] (a local folder embedded, ADLS Gen2 in
//! Azure, or ADLS with a local mirror for the embedded warehouse); the file format
//! (`parquet`), the file names and which files make up a day (below), and compaction are
//! one kernel shared by every back-end and by both report engines.

#[cfg(feature = "azure")]
pub mod adls;
mod compaction;
pub mod day_summary;
mod landing;
mod local;
mod mirrored;
pub mod month_rollup;
pub mod parquet;
pub mod paths;
pub mod repeats;
pub mod rollup;

#[cfg(feature = "azure")]
pub use adls::AdlsLake;
pub use compaction::{compact_days, compact_lake, needs_compaction, CompactionReport};
pub use landing::{
    land_batch, quarantine_invocation, quarantine_poison, read_quarantine, QuarantinedEvent,
};
pub use local::LocalLake;
pub use mirrored::MirroredLake;
pub use paths::{day_of, LakePath, COMPACTED_PREFIX, ORDERS_TABLE, QUARANTINE};

use bytes::Bytes;
use chrono::NaiveDate;
use futures::future::BoxFuture;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;

/// The `stream_partition` of orders written straight into the lake by the generator
/// (`generate-lake`, `dev --demo-history`): they never passed the order API's door.
pub const GENERATED_PARTITION: &str = "generated";

pub use crate::errors::BoxError;

#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("lake {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// A file is not what the lake expects: not Parquet, another schema, a roll-up of
    /// another format, or rows that do not fit.
    #[error("lake file {path}")]
    Format {
        path: String,
        #[source]
        source: BoxError,
    },
    /// Object storage refused or could not be reached (ADLS Gen2 / Blob Storage).
    #[error("lake storage {path}")]
    Remote {
        path: String,
        #[source]
        source: BoxError,
    },
    /// A worker thread of the lake's CPU work (decoding, rolling up) failed.
    #[error("{what} of {path} failed")]
    Task {
        what: &'static str,
        path: String,
        #[source]
        source: tokio::task::JoinError,
    },
}

impl LakeError {
    pub fn format(path: impl Into<String>, source: impl Into<BoxError>) -> Self {
        LakeError::Format {
            path: path.into(),
            source: source.into(),
        }
    }

    /// A failed worker thread doing `what` for `path`.
    pub fn task(
        what: &'static str,
        path: impl Into<String>,
    ) -> impl FnOnce(tokio::task::JoinError) -> Self {
        let path = path.into();
        move |source| LakeError::Task { what, path, source }
    }

    pub fn remote(path: impl Into<String>, source: impl Into<BoxError>) -> Self {
        LakeError::Remote {
            path: path.into(),
            source: source.into(),
        }
    }

    /// Whether the file or container asked for does not exist (as against a store that
    /// failed to answer).
    pub fn is_not_found(&self) -> bool {
        match self {
            LakeError::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            LakeError::Remote { source, .. } => source.is::<NotFound>(),
            LakeError::Format { .. } | LakeError::Task { .. } => false,
        }
    }
}

/// The cause of a [`LakeError::Remote`] for a file or container that does not exist.
#[derive(Debug, thiserror::Error)]
#[error("not found")]
pub struct NotFound;

/// Object storage as the pipeline needs it: whole-object, atomic puts of immutable files.
pub trait LakeStore: Send + Sync + 'static {
    /// Writes `path` atomically: readers see the old object or the new one, never a part.
    fn put<'a>(&'a self, path: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), LakeError>>;
    fn get<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Bytes, LakeError>>;
    /// Every object under `prefix` (recursively), as lake-relative paths, sorted.
    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, LakeError>>;
    fn delete<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), LakeError>>;

    /// Where an engine that opens files itself (DuckDB embedded) finds `path` on this
    /// machine; `None` for a lake with no local copy of it.
    fn local_path(&self, path: &str) -> Option<PathBuf> {
        let _ = path;
        None
    }

    /// Whether listing one folder costs so little that a range of day folders is best
    /// listed one folder at a time (a local disk), rather than in one listing of the
    /// whole table (an object store, where every listing is a request).
    fn lists_folders_cheaply(&self) -> bool {
        false
    }
}

/// The Parquet files of one day partition (`orders_enriched/order_date=…/`), sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayFiles {
    pub day: NaiveDate,
    pub files: Vec<String>,
}

impl DayFiles {
    /// Whether the day's only file is a compacted one: its rows are de-duplicated (each
    /// `order_id` once) already, and readers may take them as they are.
    pub fn is_compacted(&self) -> bool {
        is_one_compacted_file(&self.files)
    }
}

/// Whether a day's `files` are one compacted file ([`DayFiles::is_compacted`]).
pub fn is_one_compacted_file(files: &[String]) -> bool {
    matches!(files, [only] if file_name(only).starts_with(COMPACTED_PREFIX))
}

/// Ranges of at most this many days are listed a day at a time: a lookup of one order
/// lists its day's folder, never the whole lake. A lake whose folders list cheaply lists
/// every range a day at a time: a year's window of a lake of five years then reads a
/// fifth of its folders.
const LISTED_DAY_BY_DAY: i64 = 7;

/// Whether `lake` lists the days of `range` one folder at a time.
pub fn lists_day_by_day(lake: &dyn LakeStore, range: &RangeInclusive<NaiveDate>) -> bool {
    (*range.end() - *range.start()).num_days() < LISTED_DAY_BY_DAY || lake.lists_folders_cheaply()
}

/// The day partitions of `orders_enriched` that hold files, those of `days` only when
/// given, in day order. Only Parquet files count: not folder entries, nor the hidden
/// temporary files of puts in progress.
pub async fn day_partitions(
    lake: &dyn LakeStore,
    days: Option<&RangeInclusive<NaiveDate>>,
) -> Result<Vec<DayFiles>, LakeError> {
    if let Some(range) = days.filter(|r| lists_day_by_day(lake, r)) {
        let mut partitions = Vec::new();
        for day in range
            .start()
            .iter_days()
            .take_while(|day| day <= range.end())
        {
            partitions.extend(day_files(lake, day).await?);
        }
        return Ok(partitions);
    }
    let mut by_day: std::collections::BTreeMap<NaiveDate, Vec<String>> = Default::default();
    for path in lake.list(ORDERS_TABLE).await? {
        let name = file_name(&path);
        if !name.ends_with(".parquet") || name.starts_with('.') {
            continue;
        }
        if let Some(day) = day_of(&path).filter(|d| days.is_none_or(|r| r.contains(d))) {
            by_day.entry(day).or_default().push(path);
        }
    }
    Ok(by_day
        .into_iter()
        .map(|(day, mut files)| {
            files.sort();
            DayFiles { day, files }
        })
        .collect())
}

/// The last segment of a lake path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A listing without its folder entries: any path that another path sits under (`a/b`
/// when `a/b/c` is listed) or that ends in `/`. A file cannot have files below it, so
/// what remains are files. Object stores with directories (ADLS Gen2) list them as
/// entries of their own; every consumer of a listing (compaction, the report-run
/// clean-up, the mirror) must see files only.
pub fn without_folders(mut paths: Vec<String>) -> Vec<String> {
    paths.sort();
    paths.dedup();
    let is_folder = |i: usize| {
        let path = &paths[i];
        path.ends_with('/')
            || paths[i + 1..]
                .iter()
                .take_while(|next| next.starts_with(path.as_str()))
                .any(|next| next.as_bytes().get(path.len()) == Some(&b'/'))
    };
    let keep: Vec<bool> = (0..paths.len()).map(|i| !is_folder(i)).collect();
    paths
        .into_iter()
        .zip(keep)
        .filter_map(|(path, keep)| keep.then_some(path))
        .collect()
}

/// Readers of the lake hold this shared; compaction takes it exclusively only for the
/// moment it deletes the files it replaced, so no reader ever opens a deleted file.
/// It also lets one compaction run at a time.
#[derive(Clone, Default)]
pub struct LakeGate {
    readers: Arc<tokio::sync::RwLock<()>>,
    compaction: Arc<tokio::sync::Mutex<()>>,
}

impl LakeGate {
    /// Shared access for a (blocking) reader; call it off the async workers.
    pub fn read(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.readers.blocking_read()
    }

    pub async fn write(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.readers.write().await
    }

    /// The one turn to compact: while it is held, no file of the lake is removed but by
    /// its holder, so a reader holding it needs no read access besides.
    pub async fn compaction_turn(&self) -> CompactionTurn<'_> {
        CompactionTurn(self.compaction.lock().await)
    }
}

/// Proof that the lake's compaction turn is held (`LakeGate::compaction_turn`).
pub struct CompactionTurn<'a>(#[allow(dead_code)] tokio::sync::MutexGuard<'a, ()>);

/// The files of UTC day `day` (listing that day's folder only), `None` when it has none.
pub async fn day_files(
    lake: &dyn LakeStore,
    day: NaiveDate,
) -> Result<Option<DayFiles>, LakeError> {
    let mut files: Vec<String> = lake
        .list(&LakePath::day(day).folder())
        .await?
        .into_iter()
        .filter(|path| {
            let name = file_name(path);
            name.ends_with(".parquet") && !name.starts_with('.') && day_of(path) == Some(day)
        })
        .collect();
    files.sort();
    Ok((!files.is_empty()).then_some(DayFiles { day, files }))
}

/// A lake that lists like an ADLS Gen2 account seen through the Blob API: every folder
/// above a file is an entry of its own, and reading or deleting one fails, as it would
/// there. For the tests of every listing consumer.
#[cfg(test)]
pub(crate) mod hns {
    use super::{LakeError, LakeStore, LocalLake};
    use bytes::Bytes;
    use futures::future::BoxFuture;
    use std::collections::BTreeSet;

    pub(crate) struct HnsListing(pub LocalLake);

    fn is_folder(files: &[String], path: &str) -> bool {
        files.iter().any(|f| f.starts_with(&format!("{path}/")))
    }

    fn refused(path: &str) -> LakeError {
        LakeError::remote(path, "409 the path is a directory")
    }

    impl LakeStore for HnsListing {
        fn put<'a>(&'a self, path: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), LakeError>> {
            self.0.put(path, bytes)
        }

        fn get<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Bytes, LakeError>> {
            Box::pin(async move {
                let files = self.0.list("").await?;
                if is_folder(&files, path) {
                    return Err(refused(path));
                }
                self.0.get(path).await
            })
        }

        fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, LakeError>> {
            Box::pin(async move {
                let files = self.0.list(prefix).await?;
                let mut listed: BTreeSet<String> = files.iter().cloned().collect();
                for file in &files {
                    let mut folder = file.as_str();
                    while let Some((parent, _)) = folder.rsplit_once('/') {
                        if parent.len() > prefix.trim_end_matches('/').len() {
                            listed.insert(parent.to_string());
                        }
                        folder = parent;
                    }
                }
                Ok(listed.into_iter().collect())
            })
        }

        fn delete<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), LakeError>> {
            Box::pin(async move {
                let files = self.0.list("").await?;
                if is_folder(&files, path) {
                    return Err(refused(path));
                }
                self.0.delete(path).await
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_entries_are_not_files() {
        let listing = [
            "orders_enriched",
            "orders_enriched/order_date=2026-03-01",
            "orders_enriched/order_date=2026-03-01/p0-1-2.parquet",
            "orders_enriched/order_date=2026-03-01.bak",
            "orders_enriched/order_date=2026-03-02/",
            "reports/state_top_pizzas/run=1/part-1.parquet",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            without_folders(listing),
            [
                "orders_enriched/order_date=2026-03-01.bak",
                "orders_enriched/order_date=2026-03-01/p0-1-2.parquet",
                "reports/state_top_pizzas/run=1/part-1.parquet",
            ]
        );
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let kept = LakePath::quarantined_invocation("enrich_orders", day, b"{");
        assert!(
            kept.starts_with("quarantine/invocations/enrich_orders/received_date=2026-03-01/"),
            "{kept}"
        );
        assert_eq!(
            kept,
            LakePath::quarantined_invocation("enrich_orders", day, b"{")
        );
        assert_ne!(
            kept,
            LakePath::quarantined_invocation("enrich_orders", day, b"}")
        );
    }

    /// A lake that records the prefixes it is asked to list (an object store: its
    /// folders do not list cheaply).
    struct RecordedListings {
        lake: LocalLake,
        listed: std::sync::Mutex<Vec<String>>,
    }

    impl LakeStore for RecordedListings {
        fn put<'a>(&'a self, path: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), LakeError>> {
            self.lake.put(path, bytes)
        }

        fn get<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Bytes, LakeError>> {
            self.lake.get(path)
        }

        fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, LakeError>> {
            self.listed.lock().unwrap().push(prefix.to_string());
            self.lake.list(prefix)
        }

        fn delete<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), LakeError>> {
            self.lake.delete(path)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_few_days_list_their_own_folders_and_never_the_whole_lake() {
        let dir = tempfile::tempdir().unwrap();
        let lake = RecordedListings {
            lake: LocalLake::new(dir.path().to_path_buf()),
            listed: Default::default(),
        };
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        for d in [1, 2, 20] {
            let path = LakePath::batch(day(d), "0", 1, 2);
            lake.put(&path, Bytes::from_static(b"PAR1")).await.unwrap();
        }
        let one_day = day_partitions(&lake, Some(&(day(2)..=day(2))))
            .await
            .unwrap();
        assert_eq!(one_day.len(), 1);
        assert_eq!(
            lake.listed.lock().unwrap().drain(..).collect::<Vec<_>>(),
            ["orders_enriched/order_date=2026-03-02/"],
            "a lookup lists its day's folder only"
        );
        let month = day_partitions(&lake, Some(&(day(1)..=day(31))))
            .await
            .unwrap();
        assert_eq!(
            month.iter().map(|d| d.day).collect::<Vec<_>>(),
            [day(1), day(2), day(20)]
        );
        assert_eq!(
            lake.listed.lock().unwrap().drain(..).collect::<Vec<_>>(),
            [ORDERS_TABLE],
            "a long range is one listing of the table, not a request per day"
        );
        assert!(
            lists_day_by_day(&lake.lake, &(day(1)..=day(31))),
            "a local disk lists folders cheaply"
        );
    }

    #[test]
    fn names_are_derived_from_day_and_range() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let file = LakePath::batch(day, "0", 17, 42);
        assert_eq!(
            file,
            "orders_enriched/order_date=2026-03-01/p0-00000000000000000017-00000000000000000042.parquet"
        );
        assert_eq!(day_of(&file), Some(day));
        assert_eq!(day_of("orders_enriched/x.parquet"), None);
    }
}
