//! A flood of orders from many connections: every answer is a 202 or a 503 with
//! Retry-After (load shed), nothing else, and the server's memory stays bounded.

use crate::common::{client, stream_order, wait_until_landed, Dev};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_is_absorbed_or_shed_with_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = Dev::start(&tmp.path().join("data"), &[]);
    let pid = dev.child.id();
    let idle = rss_kib(pid);
    let (accepted, shed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let stop_at = Instant::now() + Duration::from_secs(8);
    let mut flooders = Vec::new();
    for task in 0..256i64 {
        let (http, url, accepted, shed) = (
            client(),
            dev.url("/api/orders"),
            accepted.clone(),
            shed.clone(),
        );
        flooders.push(tokio::spawn(async move {
            let mut id = 1 + task * 1_000_000;
            while Instant::now() < stop_at {
                let batch: Vec<_> = (id..id + 50).map(stream_order).collect();
                id += 50;
                let response = http.post(&url).json(&batch).send().await.unwrap();
                match response.status().as_u16() {
                    202 => accepted.fetch_add(50, Ordering::Relaxed),
                    503 => {
                        assert_eq!(response.headers()["retry-after"], "1");
                        shed.fetch_add(50, Ordering::Relaxed)
                    }
                    other => panic!("unexpected {other} under a flood"),
                };
            }
        }));
    }
    let mut peak = idle;
    while Instant::now() < stop_at {
        peak = peak.max(rss_kib(pid));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for flooder in flooders {
        flooder.await.unwrap();
    }
    let http = client();
    wait_until_landed(&http, &dev).await;
    peak = peak.max(rss_kib(pid));
    println!(
        "flood: {} orders accepted, {} shed with 503; RSS idle {} MiB, peak {} MiB",
        accepted.load(Ordering::Relaxed),
        shed.load(Ordering::Relaxed),
        idle / 1024,
        peak / 1024
    );
    assert!(accepted.load(Ordering::Relaxed) > 0);
    // Bounded: requests are capped at 1 MiB, the log queue at 8,192 requests and
    // batches at --batch-max; a leak or an unbounded buffer would blow far past this.
    assert!(peak < 1024 * 1024, "peak RSS {} MiB", peak / 1024);
    dev.stop();
}
