//! Stop `dev` (SIGTERM) in the middle of a stream, start it again: every order that got a
//! 202 is in the warehouse exactly once.

use crate::common::{
    assert_every_acknowledged_order_landed_once, balanced_books, client, refresh_at, spawn_posters,
    wait_for_acks, wait_until_landed, Acknowledged, Dev,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_mid_stream_loses_no_acknowledged_order() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let dev = Dev::start(&data_dir, &["--batch-max", "200"]);
    let http = client();
    let acknowledged: Acknowledged = Default::default();

    // Four posters stream orders (singles and arrays) until the server goes away.
    let posters = spawn_posters(&http, dev.url("/api/orders"), 1, &acknowledged);
    wait_for_acks(&acknowledged, 3000).await;
    dev.stop();
    for poster in posters {
        poster.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 3000);

    // Start again on the same data: the backlog drains, nothing is missing or doubled.
    let dev = Dev::start(&data_dir, &[]);
    wait_until_landed(&http, &dev).await;
    refresh_at(&http, &dev, "2026-02-01T00:00:00Z").await;
    let books = balanced_books(&http, &dev).await;
    dev.stop();

    // The books balance across the restart, every landed order accepted once.
    let landed = assert_every_acknowledged_order_landed_once(&data_dir, &acknowledged, &books);
    println!(
        "acknowledged {} orders, landed {} after restart",
        acknowledged.len(),
        landed.len()
    );
}

/// A stop that arrives while `dev` is still starting (here: creating the demo customers of
/// a first start) is caught rather than left to the signal's default action, which would
/// kill the process: `dev` finishes starting, then stops cleanly. A stop sent right after
/// `dev` says it is ready is the same case, seen a moment later.
#[test]
fn sigterm_during_start_up_is_a_clean_stop() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let log = tmp.path().join("dev.log");
    let mut child = std::process::Command::new(crate::common::BIN)
        .args([
            "dev",
            "--listen",
            "127.0.0.1:0",
            "--summary-schedule",
            "off",
            "--data-dir",
        ])
        .arg(&data_dir)
        .env("PIZZA_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    // The data dir is created after the stop handlers are installed and before the
    // first start's demo customers are written, which takes a good part of a second.
    while !data_dir.exists() {
        assert!(
            Instant::now() < deadline,
            "dev made no data dir within 60 s"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    crate::common::sigterm(&child);
    let Some(status) = crate::common::exit_within(
        &mut child,
        deadline.saturating_duration_since(Instant::now()),
    ) else {
        child.kill().unwrap();
        panic!("dev did not stop within 60 s of a SIGTERM");
    };
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(status.success(), "dev exited with {status}; log:\n{log}");
    assert!(log.contains("stopped cleanly"), "{log}");
}
