//! The lake on ADLS Gen2 (or any Blob Storage container), through the Azure Blob SDK
//! (`azure_storage_blob`). Same layout and file names as the local lake: the kernel in
//! this module's parent decides both, this back-end only moves bytes.
//!
//! Sign-in: a container URL carrying a SAS token (`…/lake?sv=…&sig=…`) is used as it is;
//! any other URL signs in with the given Entra ID credential (the Function App's managed
//! identity in Azure), which must then be `https`.
//!
//! A put is one Put Blob (or a staged block list committed at once for large files):
//! readers see the old blob or the new one, never a part, as [`LakeStore::put`] requires.

use super::{LakeError, LakeStore, NotFound};
use azure_core::credentials::TokenCredential;
use azure_core::http::{
    ClientOptions, ExponentialRetryOptions, RequestContent, RetryOptions, StatusCode, Url,
};
use azure_core::time::Duration;
use azure_storage_blob::models::{BlobContainerClientListBlobsOptions, ListBlobsIncludeItem};
use azure_storage_blob::{BlobContainerClient, BlobContainerClientOptions};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::TryStreamExt;
use std::collections::HashMap;
use std::sync::Arc;

/// A container URL, whose text is kept out of the error (a SAS token is a secret).
fn parse_container_url(container_url: &str) -> Result<Url, LakeError> {
    Url::parse(container_url.trim())
        .map_err(|e| LakeError::remote("<the lake URL, not shown: it may hold a SAS token>", e))
}

pub struct AdlsLake {
    container: BlobContainerClient,
    /// The container URL without its query (a SAS token is a secret: never logged).
    display: String,
}

/// Whether a container URL carries its own SAS token.
pub fn has_sas(url: &Url) -> bool {
    url.query_pairs().any(|(key, _)| key == "sig")
}

/// The container URL with any query (SAS token) removed, for messages and logs.
pub fn redacted(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}

/// The SDK's own retries are kept short (about 10 s at most): a longer outage is the
/// caller's to ride out — the embedded dispatcher retries the batch with backoff, and in
/// Azure the function's retry policy runs the invocation again — so a dead service shows
/// as failed invocations and a growing backlog instead of requests that hang.
fn client_options() -> BlobContainerClientOptions {
    BlobContainerClientOptions {
        client_options: ClientOptions {
            retry: RetryOptions::exponential(ExponentialRetryOptions {
                initial_delay: Duration::milliseconds(200),
                max_retries: 4,
                max_total_elapsed: Duration::seconds(10),
                max_delay: Duration::seconds(2),
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

impl AdlsLake {
    pub fn new(
        container_url: &str,
        credential: Option<Arc<dyn TokenCredential>>,
    ) -> Result<Self, LakeError> {
        let url = parse_container_url(container_url)?;
        let display = redacted(&url);
        let credential = if has_sas(&url) { None } else { credential };
        if credential.is_none() && !has_sas(&url) {
            return Err(LakeError::remote(
                &display,
                "no SAS token in the URL and no Entra ID credential to sign in with",
            ));
        }
        let container = BlobContainerClient::new(url, credential, Some(client_options()))
            .map_err(|e| LakeError::remote(&display, e))?;
        Ok(AdlsLake { container, display })
    }

    /// The container at `container_url`: a SAS URL signs in with its token, any other URL
    /// as the developer (`az login` or `azd auth login`): `dev --lake-url`.
    pub fn with_developer_sign_in(container_url: &str) -> Result<Self, LakeError> {
        let url = parse_container_url(container_url)?;
        let credential: Option<Arc<dyn TokenCredential>> = if has_sas(&url) {
            None
        } else {
            Some(
                azure_identity::DeveloperToolsCredential::new(None)
                    .map_err(|e| LakeError::remote(redacted(&url), e))?,
            )
        };
        AdlsLake::new(container_url, credential)
    }

    pub fn display(&self) -> &str {
        &self.display
    }

    /// The lake's error for `error` on `path`; a blob or container that does not exist
    /// is [`NotFound`], so that callers can tell it from a store that failed.
    fn error(&self, path: &str, error: azure_core::Error) -> LakeError {
        let at = format!("{}/{path}", self.display);
        if error.http_status() == Some(StatusCode::NotFound) {
            LakeError::remote(at, NotFound)
        } else {
            LakeError::remote(at, error)
        }
    }

    /// Creates the container when it does not exist yet (Bicep creates it in Azure).
    pub async fn ensure_container(&self) -> Result<(), LakeError> {
        match self.container.create(None).await {
            Ok(_) => Ok(()),
            Err(e) if e.http_status() == Some(StatusCode::Conflict) => Ok(()),
            Err(e) => Err(self.error("", e)),
        }
    }

    async fn list_all(&self, prefix: &str) -> Result<Vec<String>, LakeError> {
        let entries = self
            .list_with_metadata(prefix)
            .await?
            .into_iter()
            .map(|(name, metadata)| Listed {
                folder_marker: is_folder_marker(&metadata),
                name,
            })
            .collect();
        Ok(files_only(entries))
    }

    /// Every blob under the folder `prefix`, with its metadata (directory entries of an
    /// ADLS Gen2 account included: they are told apart by their metadata).
    pub async fn list_with_metadata(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, HashMap<String, String>)>, LakeError> {
        // "orders_enriched" must not also match "orders_enriched_old/…".
        let folder = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        let options = BlobContainerClientListBlobsOptions {
            prefix: (!folder.is_empty()).then(|| folder.clone()),
            include: Some(vec![ListBlobsIncludeItem::Metadata]),
            ..Default::default()
        };
        let mut pager = self
            .container
            .list_blobs(Some(options))
            .map_err(|e| self.error(prefix, e))?;
        let mut entries = Vec::new();
        while let Some(blob) = pager.try_next().await.map_err(|e| self.error(prefix, e))? {
            if let Some(name) = blob.name {
                let metadata = blob.metadata.and_then(|m| m.values).unwrap_or_default();
                entries.push((name, metadata));
            }
        }
        Ok(entries)
    }
}

/// One entry of a blob listing, as much of it as tells a file from a directory.
#[derive(Debug, Clone)]
struct Listed {
    name: String,
    folder_marker: bool,
}

/// `hdi_isfolder=true`: the metadata an account with a hierarchical namespace (ADLS
/// Gen2) puts on the entry the Blob API lists for each directory.
fn is_folder_marker(metadata: &HashMap<String, String>) -> bool {
    metadata.iter().any(|(key, value)| {
        key.eq_ignore_ascii_case("hdi_isfolder") && value.eq_ignore_ascii_case("true")
    })
}

/// The files of a listing, sorted. On ADLS Gen2 the Blob API also lists every directory
/// (`orders_enriched/order_date=2026-03-01`, `reports/state_top_pizzas/run=…`) as a
/// zero-length entry; the lake's objects are files only, so such entries are dropped:
/// those marked `hdi_isfolder` (an emptied directory is only known by its mark), and —
/// should the mark be missing — any entry that others sit under ([`super::without_folders`]).
fn files_only(entries: Vec<Listed>) -> Vec<String> {
    let names: Vec<String> = entries
        .into_iter()
        .filter(|entry| !entry.folder_marker)
        .map(|entry| entry.name)
        .collect();
    super::without_folders(names)
}

impl LakeStore for AdlsLake {
    fn put<'a>(&'a self, path: &'a str, bytes: Bytes) -> BoxFuture<'a, Result<(), LakeError>> {
        Box::pin(async move {
            self.container
                .blob_client(path)
                .upload(RequestContent::from(bytes.to_vec()), None)
                .await
                .map_err(|e| self.error(path, e))?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Bytes, LakeError>> {
        Box::pin(async move {
            let response = self
                .container
                .blob_client(path)
                .download(None)
                .await
                .map_err(|e| self.error(path, e))?;
            response
                .body
                .collect()
                .await
                .map_err(|e| self.error(path, e))
        })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<String>, LakeError>> {
        Box::pin(self.list_all(prefix))
    }

    fn delete<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<(), LakeError>> {
        Box::pin(async move {
            match self.container.blob_client(path).delete(None).await {
                Ok(_) => Ok(()),
                // Already gone: a delete is idempotent, like the local lake's.
                Err(e) if e.http_status() == Some(StatusCode::NotFound) => Ok(()),
                Err(e) => Err(self.error(path, e)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, folder_marker: bool) -> Listed {
        Listed {
            name: name.to_string(),
            folder_marker,
        }
    }

    #[test]
    fn directory_entries_of_a_hierarchical_namespace_are_not_files() {
        // A flat Blob API listing of an ADLS Gen2 container, as the service returns it:
        // each directory is an entry of its own (zero bytes), marked hdi_isfolder=true.
        let day = "orders_enriched/order_date=2026-03-01";
        let run = "reports/state_top_pizzas/run=20261125T020000000000Z";
        let listing = vec![
            entry("orders_enriched", true),
            entry(day, true),
            entry(&format!("{day}/p0-1-2.parquet"), false),
            entry("reports", true),
            entry("reports/state_top_pizzas", true),
            entry(run, true),
            entry(&format!("{run}/part-1.parquet"), false),
            // an emptied run folder stays behind as a lone directory entry
            entry("reports/state_top_pizzas/run=20261124T020000000000Z", true),
            // a directory whose marker metadata did not come back: it has entries below it
            entry("quarantine/enrich", false),
            entry("quarantine/enrich/p0-5-5.jsonl", false),
            // a genuinely empty file is a file
            entry("quarantine/empty.jsonl", false),
        ];
        assert_eq!(
            files_only(listing),
            [
                format!("{day}/p0-1-2.parquet"),
                "quarantine/empty.jsonl".to_string(),
                "quarantine/enrich/p0-5-5.jsonl".to_string(),
                format!("{run}/part-1.parquet"),
            ]
        );
        let marker =
            std::collections::HashMap::from([("hdi_isfolder".to_string(), "true".to_string())]);
        assert!(is_folder_marker(&marker));
        let other =
            std::collections::HashMap::from([("hdi_isfolder".to_string(), "false".to_string())]);
        assert!(!is_folder_marker(&other));
    }

    #[test]
    fn sas_tokens_are_recognised_and_never_shown() {
        let url =
            Url::parse("https://acct.blob.core.windows.net/lake?sv=2024-08-04&ss=b&sig=SECRET%3D")
                .unwrap();
        assert!(has_sas(&url));
        assert_eq!(redacted(&url), "https://acct.blob.core.windows.net/lake");
        let plain = Url::parse("https://acct.blob.core.windows.net/lake").unwrap();
        assert!(!has_sas(&plain));
    }

    #[test]
    fn a_url_without_sas_needs_a_credential() {
        let error = AdlsLake::new("https://acct.blob.core.windows.net/lake", None)
            .err()
            .expect("refused");
        let said = crate::errors::chain(&error);
        assert!(said.contains("no SAS token"), "{said}");
        assert!(AdlsLake::new("not a url", None).is_err());
        let lake = AdlsLake::new(
            "http://127.0.0.1:10000/devstoreaccount1/lake?sv=1&sig=x",
            None,
        )
        .expect("a SAS URL needs no credential");
        assert_eq!(
            lake.display(),
            "http://127.0.0.1:10000/devstoreaccount1/lake"
        );
    }
}
