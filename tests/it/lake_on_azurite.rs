//! The ADLS Gen2 lake adapter (Azure Blob SDK) against Azurite: the object-store
//! contract the lake kernel relies on, and a storage outage in the middle of a stream.

use crate::common::azurite::Azurite;
use crate::common::{
    client, expect_failures_and_backlog, lake_order_ids, metric, post_order, stream_order,
    wait_until_landed, Dev,
};
use bytes::Bytes;
use pizza_pipeline::lake::{AdlsLake, LakeStore};
use std::collections::BTreeSet;

async fn lake_on(azurite: &Azurite, container: &str) -> AdlsLake {
    let lake = AdlsLake::new(&azurite.container_url(container), None).unwrap();
    lake.ensure_container().await.unwrap();
    lake.ensure_container()
        .await
        .expect("creating it twice is fine");
    lake
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adls_lake_keeps_the_object_store_contract() {
    let azurite = Azurite::start();
    let lake = lake_on(&azurite, "contract").await;
    let day = "orders_enriched/order_date=2026-03-01";
    lake.put(&format!("{day}/p0-1-2.parquet"), Bytes::from_static(b"one"))
        .await
        .unwrap();
    lake.put(&format!("{day}/p0-3-4.parquet"), Bytes::from_static(b"two"))
        .await
        .unwrap();
    // an overwrite replaces the whole object (a retried batch rewrites its file)
    lake.put(
        &format!("{day}/p0-1-2.parquet"),
        Bytes::from_static(b"one again"),
    )
    .await
    .unwrap();
    // a sibling folder whose name starts with the table's must not be listed with it
    lake.put("orders_enriched_old/x.parquet", Bytes::from_static(b"x"))
        .await
        .unwrap();
    lake.put(
        "quarantine/enrich/p0-5-5.jsonl",
        Bytes::from_static(b"{}\n"),
    )
    .await
    .unwrap();

    assert_eq!(
        lake.list("orders_enriched").await.unwrap(),
        [
            format!("{day}/p0-1-2.parquet"),
            format!("{day}/p0-3-4.parquet")
        ]
    );
    assert_eq!(
        lake.get(&format!("{day}/p0-1-2.parquet")).await.unwrap(),
        Bytes::from_static(b"one again")
    );
    lake.delete(&format!("{day}/p0-3-4.parquet")).await.unwrap();
    lake.delete(&format!("{day}/p0-3-4.parquet"))
        .await
        .expect("deleting a deleted object is fine");
    assert_eq!(lake.list("orders_enriched").await.unwrap().len(), 1);
    assert!(lake.get("orders_enriched/missing.parquet").await.is_err());
    assert_eq!(
        lake.list("nothing-here").await.unwrap(),
        Vec::<String>::new()
    );

    // Listing pages through more objects than one page of the service holds (5,000).
    let names: Vec<String> = (0..5_050)
        .map(|i| format!("many/order_date=2026-01-01/f{i:05}.parquet"))
        .collect();
    let lake = std::sync::Arc::new(lake);
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in names.chunks(names.len() / 16 + 1) {
        let (lake, chunk) = (lake.clone(), chunk.to_vec());
        tasks.spawn(async move {
            for name in chunk {
                lake.put(&name, Bytes::from_static(b"")).await.unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let listed = lake.list("many").await.unwrap();
    assert_eq!(listed, names, "every object, sorted, across pages");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_sas_is_a_clear_error() {
    let azurite = Azurite::start();
    let good = azurite.container_url("sas");
    lake_on(&azurite, "sas").await;
    let forged = format!("{}AAAA", good.trim_end_matches("%3D")); // a different signature
    let lake = AdlsLake::new(&forged, None).unwrap();
    let error = pizza_pipeline::errors::chain(&lake.list("orders_enriched").await.unwrap_err());
    assert!(
        error.contains("403") || error.to_lowercase().contains("authentic"),
        "{error}"
    );
    assert!(
        !error.contains("sig="),
        "the SAS token is not in the message: {error}"
    );
}

/// The storage service goes down mid-stream: ingest keeps accepting (the log absorbs
/// it), enrichment fails and retries, the backlog shows, and when Azurite is back every
/// accepted order lands in the container exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_outage_is_absorbed_and_drained() {
    let mut azurite = Azurite::start();
    let lake_url = azurite.container_url("lake");
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let dev = Dev::start(&data_dir, &["--lake-url", &lake_url]);
    let http = client();
    for id in 1..=50 {
        assert_eq!(post_order(&http, &dev, &stream_order(id)).await, 202);
    }
    wait_until_landed(&http, &dev).await;

    azurite.stop();
    for id in 51..=300 {
        assert_eq!(
            post_order(&http, &dev, &stream_order(id)).await,
            202,
            "ingest keeps accepting while storage is down"
        );
    }
    expect_failures_and_backlog(&http, &dev, 250.0).await;

    azurite.resume();
    wait_until_landed(&http, &dev).await;
    let failures = metric(&http, &dev, "pizza_enrich_failures_total").await;
    dev.stop();

    let lake = AdlsLake::new(&lake_url, None).unwrap();
    let ids = lake_order_ids(&lake).await;
    let unique: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(unique, (1..=300).collect::<BTreeSet<_>>(), "nothing lost");
    // Landing is at-least-once; a batch retried after a half-finished put may have
    // landed twice under the same file name (overwritten), never as a second file.
    assert_eq!(ids.len(), unique.len(), "each order once in the container");
    println!("storage outage: {failures} failed enrich_orders invocations retried; backlog of 250 drained");
}

/// An ADLS Gen2 account lists each directory through the Blob API as a zero-length
/// entry with metadata `hdi_isfolder=true`. Azurite has no hierarchical namespace, but
/// a blob of that name and metadata lists exactly the same way: the lake adapter must
/// list files only, and every listing consumer then sees files only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_entries_of_an_adls_gen2_listing_are_not_files() {
    use azure_core::http::{RequestContent, Url};
    use azure_storage_blob::models::BlobClientUploadOptions;
    use azure_storage_blob::BlobContainerClient;

    let azurite = Azurite::start();
    let lake = lake_on(&azurite, "hns").await;
    let container = BlobContainerClient::new(
        Url::parse(&azurite.container_url("hns")).unwrap(),
        None,
        None,
    )
    .unwrap();
    let day = "orders_enriched/order_date=2026-03-01";
    let old_run = "reports/state_top_pizzas/run=20261123T020000000000Z";
    for folder in [
        "orders_enriched",
        day,
        "reports",
        "reports/state_top_pizzas",
        old_run,
    ] {
        let options = BlobClientUploadOptions {
            metadata: Some(std::collections::HashMap::from([(
                "hdi_isfolder".to_string(),
                "true".to_string(),
            )])),
            ..Default::default()
        };
        container
            .blob_client(folder)
            .upload(RequestContent::from(Vec::<u8>::new()), Some(options))
            .await
            .unwrap();
    }
    lake.put(&format!("{day}/p0-1-2.parquet"), Bytes::from_static(b"one"))
        .await
        .unwrap();
    // A genuinely empty file is still a file.
    lake.put("orders_enriched/empty.parquet", Bytes::new())
        .await
        .unwrap();

    assert_eq!(
        lake.list("orders_enriched").await.unwrap(),
        [
            "orders_enriched/empty.parquet".to_string(),
            format!("{day}/p0-1-2.parquet"),
        ]
    );
    let runs = lake.list("reports/state_top_pizzas").await.unwrap();
    assert!(
        runs.is_empty(),
        "an emptied run folder is no file: {runs:?}"
    );
    assert_eq!(lake.list("").await.unwrap().len(), 2);
}

/// The stream backlog in Azure reads the `enrich_orders` trigger's checkpoints where the
/// Functions host keeps them: one blob per partition in its storage account's
/// `azure-webjobs-eventhub` container, the sequence number in the blob's metadata. Event
/// Hubs itself cannot run here; its side (the partitions' last sequence numbers) is the
/// SDK's `get_partition_properties`, and the arithmetic is unit-tested
/// (`stream::backlog`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backlog_reads_the_checkpoints_the_functions_host_writes() {
    use azure_core::http::{RequestContent, Url};
    use azure_storage_blob::models::BlobClientUploadOptions;
    use azure_storage_blob::BlobContainerClient;
    use pizza_pipeline::stream::backlog::{
        checkpoint_prefix, checkpoints, partition_backlog, PartitionState, CHECKPOINT_CONTAINER,
    };

    let azurite = Azurite::start();
    let store = lake_on(&azurite, CHECKPOINT_CONTAINER).await;
    let container = BlobContainerClient::new(
        Url::parse(&azurite.container_url(CHECKPOINT_CONTAINER)).unwrap(),
        None,
        None,
    )
    .unwrap();
    let ours = checkpoint_prefix("Pizza-Prod.servicebus.windows.net", "orders", "enrich");
    // Another consumer group's checkpoints sit beside ours and must not be read.
    let theirs = checkpoint_prefix("Pizza-Prod.servicebus.windows.net", "orders", "$default");
    for (blob, sequence) in [
        (format!("{ours}/0"), "41"),
        (format!("{ours}/1"), "7"),
        (format!("{theirs}/0"), "1000"),
    ] {
        let options = BlobClientUploadOptions {
            metadata: Some(std::collections::HashMap::from([
                ("sequencenumber".to_string(), sequence.to_string()),
                ("offset".to_string(), "4096".to_string()),
            ])),
            ..Default::default()
        };
        container
            .blob_client(&blob)
            .upload(RequestContent::from(Vec::<u8>::new()), Some(options))
            .await
            .unwrap();
    }
    let listing = store.list_with_metadata(&ours).await.unwrap();
    let read = checkpoints(&listing);
    assert_eq!(
        read,
        std::collections::HashMap::from([("0".to_string(), 41), ("1".to_string(), 7)])
    );
    let state = |last| PartitionState {
        beginning_sequence_number: 0,
        last_enqueued_sequence_number: last,
        is_empty: false,
    };
    let waiting: u64 = [("0", 50), ("1", 7), ("2", 3)]
        .into_iter()
        .map(|(p, last)| partition_backlog(state(last), read.get(p).copied()))
        .sum();
    // Partition 0: 50 − 41; partition 1: all landed; partition 2 never checkpointed, so
    // all of it (sequence numbers 0 to 3) waits.
    assert_eq!(waiting, 9 + 4);
}
