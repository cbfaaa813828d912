//! A remote lake (ADLS Gen2 / Blob Storage) with a local mirror, for the embedded
//! warehouse. Why it exists: the embedded DuckDB reads local Parquet files only (its
//! Azure extension would be a download at run time), so `dev --lake-url` keeps a copy of
//! the remote lake on disk, and [`LakeStore::local_path`] points DuckDB at the copy. The
//! warehouse itself lists and writes through [`LakeStore`] like every other reader. The
//! remote lake is the system of record:
//!
//! - a put goes to the remote lake first, then to the mirror — an order counts as
//!   landed only once it is in the remote lake;
//! - a listing asks the remote lake; a read prefers the mirror;
//! - a delete removes the remote object, then the local copy;
//! - [`MirroredLake::sync`] makes the mirror equal to the remote lake (at start, after
//!   another process or a crash changed one side).

use super::{without_folders, LakeError, LakeStore, LocalLake};
use bytes::Bytes;
use futures::future::BoxFuture;
use std::collections::BTreeSet;
use std::sync::Arc;

pub struct MirroredLake {
    remote: Arc<dyn LakeStore>,
    mirror: Arc<LocalLake>,
}

/// What a [`MirroredLake::sync`] changed in the mirror.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub downloaded: usize,
    pub removed: usize,
}

impl MirroredLake {
    pub fn new(remote: Arc<dyn LakeStore>, mirror: Arc<LocalLake>) -> Self {
        MirroredLake { remote, mirror }
    }

    pub fn mirror(&self) -> &Arc<LocalLake> {
        &self.mirror
    }

    /// Downloads what the mirror lacks under `prefix` and removes what the remote lake
    /// no longer has. Files are immutable once named (a retried batch rewrites the same
    /// rows under the same name), so a file present on both sides is left alone.
    pub async fn sync(&self, prefix: &str) -> Result<SyncReport, LakeError> {
        // Files only: a folder entry of the remote listing is not a file to download.
        let remote: BTreeSet<String> = without_folders(self.remote.list(prefix).await?)
            .into_iter()
            .collect();
        let local: BTreeSet<String> = self.mirror.list(prefix).await?.into_iter().collect();
        let mut report = SyncReport::default();
        for path in remote.difference(&local) {
            let bytes = self.remote.get(path).await?;
            self.mirror.put(path, bytes).await?;
            report.downloaded += 1;
        }
        for path in local.difference(&remote) {
            self.mirror.delete(path).await?;
            report.removed += 1;
        }
        if report != SyncReport::default() {
            tracing::info!(?report, prefix, "lake mirror synced with the remote lake");
        }
        Ok(report)
    }
}

impl LakeStore for MirroredLake {
    fn put<'a>(&'a self, path: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), LakeError>> {
        Box::pin(async move {
            self.remote.put(path, bytes.clone()).await?;
            self.mirror.put(path, bytes).await
        })
    }

    fn get<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Bytes, LakeError>> {
        Box::pin(async move {
            // Only a file the mirror lacks is fetched from the remote lake; a mirror that
            // cannot be read is an error, not a reason to read elsewhere.
            match self.mirror.get(path).await {
                Err(e) if e.is_not_found() => self.remote.get(path).await,
                read => read,
            }
        })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, LakeError>> {
        self.remote.list(prefix)
    }

    fn delete<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), LakeError>> {
        Box::pin(async move {
            self.remote.delete(path).await?;
            self.mirror.delete(path).await
        })
    }

    /// The mirror's copy, once it has one: a file another process put in the remote
    /// lake is read after the next [`MirroredLake::sync`].
    fn local_path(&self, path: &str) -> Option<std::path::PathBuf> {
        Some(self.mirror.path_of(path)).filter(|local| local.exists())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn puts_reach_both_sides_and_sync_repairs_the_mirror() {
        let remote_dir = tempfile::tempdir().unwrap();
        let mirror_dir = tempfile::tempdir().unwrap();
        let remote = Arc::new(LocalLake::new(remote_dir.path()));
        let mirror = Arc::new(LocalLake::new(mirror_dir.path()));
        let lake = MirroredLake::new(remote.clone(), mirror.clone());
        lake.put("t/a.parquet", Bytes::from_static(b"a"))
            .await
            .unwrap();
        assert_eq!(remote.list("t").await.unwrap(), ["t/a.parquet"]);
        assert_eq!(mirror.list("t").await.unwrap(), ["t/a.parquet"]);

        // another writer adds b and removes a behind the mirror's back
        remote
            .put("t/b.parquet", Bytes::from_static(b"b"))
            .await
            .unwrap();
        remote.delete("t/a.parquet").await.unwrap();
        assert_eq!(lake.list("t").await.unwrap(), ["t/b.parquet"]);
        let report = lake.sync("t").await.unwrap();
        assert_eq!(
            report,
            SyncReport {
                downloaded: 1,
                removed: 1
            }
        );
        assert_eq!(mirror.list("t").await.unwrap(), ["t/b.parquet"]);
        assert_eq!(
            lake.get("t/b.parquet").await.unwrap(),
            Bytes::from_static(b"b")
        );
        assert_eq!(lake.sync("t").await.unwrap(), SyncReport::default());

        lake.delete("t/b.parquet").await.unwrap();
        assert!(remote.list("t").await.unwrap().is_empty());
        assert!(mirror.list("t").await.unwrap().is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sync_takes_files_only_from_a_listing_with_folder_entries() {
        let remote_dir = tempfile::tempdir().unwrap();
        let mirror_dir = tempfile::tempdir().unwrap();
        let remote = Arc::new(super::super::hns::HnsListing(LocalLake::new(
            remote_dir.path(),
        )));
        let mirror = Arc::new(LocalLake::new(mirror_dir.path()));
        let day = "orders_enriched/order_date=2026-03-01";
        remote
            .put(&format!("{day}/p0-1-2.parquet"), Bytes::from_static(b"a"))
            .await
            .unwrap();
        assert!(
            remote
                .list("orders_enriched")
                .await
                .unwrap()
                .contains(&day.to_string()),
            "the remote lists its folders"
        );
        let lake = MirroredLake::new(remote, mirror.clone());
        let report = lake.sync("orders_enriched").await.unwrap();
        assert_eq!(report.downloaded, 1, "the file, not its folder");
        assert_eq!(
            mirror.list("orders_enriched").await.unwrap(),
            [format!("{day}/p0-1-2.parquet")]
        );
        assert_eq!(
            lake.sync("orders_enriched").await.unwrap(),
            SyncReport::default()
        );
    }
}
