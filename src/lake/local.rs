//! The embedded lake: a local folder. Puts go through a hidden temporary file, fsync and
//! rename, so a crash never leaves half a Parquet file where readers look.

use super::{LakeError, LakeStore};
use bytes::Bytes;
use futures::future::BoxFuture;
use std::path::{Path, PathBuf};

pub struct LocalLake {
    root: PathBuf,
}

impl LocalLake {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalLake { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn io(&self, path: &Path, source: std::io::Error) -> LakeError {
        LakeError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    fn put_blocking(&self, relative: &str, bytes: &[u8]) -> Result<(), LakeError> {
        let target = self.root.join(relative);
        crate::files::write_atomically(&target, bytes).map_err(|e| self.io(&target, e))
    }

    /// Where `relative` lies on this machine.
    pub fn path_of(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn list_blocking(&self, prefix: &str) -> Result<Vec<String>, LakeError> {
        let start = self.root.join(prefix);
        let mut found = Vec::new();
        let mut pending = vec![start];
        while let Some(dir) = pending.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(self.io(&dir, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| self.io(&dir, e))?;
                let name = entry.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue; // temporary files of puts in progress
                }
                let path = entry.path();
                if entry.file_type().map_err(|e| self.io(&path, e))?.is_dir() {
                    pending.push(path);
                } else if let Ok(relative) = path.strip_prefix(&self.root) {
                    found.push(relative.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        found.sort();
        Ok(found)
    }
}

impl LakeStore for LocalLake {
    fn put<'a>(&'a self, path: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), LakeError>> {
        Box::pin(async move { tokio::task::block_in_place(|| self.put_blocking(path, &bytes)) })
    }

    fn get<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Bytes, LakeError>> {
        Box::pin(async move {
            let full = self.root.join(path);
            tokio::task::block_in_place(|| std::fs::read(&full))
                .map(Bytes::from)
                .map_err(|e| self.io(&full, e))
        })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, LakeError>> {
        Box::pin(async move { tokio::task::block_in_place(|| self.list_blocking(prefix)) })
    }

    fn local_path(&self, path: &str) -> Option<PathBuf> {
        Some(self.path_of(path))
    }

    fn lists_folders_cheaply(&self) -> bool {
        true
    }

    fn delete<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), LakeError>> {
        Box::pin(async move {
            let full = self.root.join(path);
            match tokio::task::block_in_place(|| std::fs::remove_file(&full)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(self.io(&full, e)),
                _ => Ok(()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn put_list_get_delete() {
        let dir = tempfile::tempdir().unwrap();
        let lake = LocalLake::new(dir.path());
        lake.put(
            "t/order_date=2026-01-01/b.parquet",
            Bytes::from_static(b"2"),
        )
        .await
        .unwrap();
        lake.put(
            "t/order_date=2026-01-01/a.parquet",
            Bytes::from_static(b"1"),
        )
        .await
        .unwrap();
        lake.put(
            "t/order_date=2026-01-01/a.parquet",
            Bytes::from_static(b"1b"),
        )
        .await
        .unwrap();
        assert_eq!(
            lake.list("t").await.unwrap(),
            vec![
                "t/order_date=2026-01-01/a.parquet",
                "t/order_date=2026-01-01/b.parquet"
            ]
        );
        assert_eq!(
            &lake.get("t/order_date=2026-01-01/a.parquet").await.unwrap()[..],
            b"1b"
        );
        lake.delete("t/order_date=2026-01-01/a.parquet")
            .await
            .unwrap();
        lake.delete("t/order_date=2026-01-01/a.parquet")
            .await
            .unwrap();
        assert_eq!(lake.list("t").await.unwrap().len(), 1);
        assert!(lake.list("missing").await.unwrap().is_empty());
    }
}
