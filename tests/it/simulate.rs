//! `pizza-pipeline simulate` against a running `dev`: the stream holds fresh orders,
//! exact repeats and broken orders, each answered as it must be, and every fresh order
//! it reports accepted lands.

use crate::common::{client, landed_ids, refresh_at, wait_until_landed, Dev, BIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_stream_is_answered_and_landed() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let dev = Dev::start(&data_dir, &[]);
    let output = tokio::process::Command::new(BIN)
        .args([
            "simulate",
            "--url",
            &dev.url,
            "--rate",
            "300",
            "--duration",
            "3s",
        ])
        .args([
            "--duplicates",
            "0.1",
            "--bad",
            "0.05",
            "--first-order-id",
            "1",
            "--strict",
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "simulate failed:\n{stderr}");
    assert!(stderr.contains("] sent "), "a progress line:\n{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let count = |key: &str| report[key].as_u64().unwrap();
    assert!(count("sent") > 300, "{report}");
    assert!(count("duplicates_acknowledged") > 0, "{report}");
    assert!(count("refused_as_expected") > 0, "{report}");
    assert_eq!(count("unexpected"), 0, "{report}");
    assert_eq!(
        count("sent"),
        count("accepted")
            + count("duplicates_acknowledged")
            + count("refused_as_expected")
            + count("shed")
            + count("transport_errors"),
        "{report}"
    );
    assert!(report["latency_ms_p99"].as_f64().unwrap() > 0.0);

    let http = client();
    wait_until_landed(&http, &dev).await;
    // a refresh points the warehouse's view at the files landed since it started
    refresh_at(&http, &dev, "2026-11-30T00:00:00Z").await;
    dev.stop();
    assert_eq!(
        landed_ids(&data_dir).len() as u64,
        count("accepted"),
        "every fresh order accepted has landed, once"
    );
}
