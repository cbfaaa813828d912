//! `population fetch` end to end against a local stand-in for census.gov: the Census
//! spreadsheet is served over HTTP on loopback; a good table replaces the CSV, a bad one
//! leaves it untouched with a clear error.

use axum::routing::get;
use axum::Router;
use std::process::Command;

const XLSX: &[u8] = include_bytes!("../../data/census/SCPRC-EST2024-18+POP.xlsx");
const SHIPPED_CSV: &str = include_str!("../../data/census/adult_population_by_state.csv");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_validates_before_replacing() {
    let app = Router::new()
        .route("/good.xlsx", get(|| async { XLSX }))
        .route("/broken.xlsx", get(|| async { "<html>maintenance</html>" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("adult_population_by_state.csv");
    std::fs::write(&out, "untouched").unwrap();
    let fetch = |path: &str| {
        let url = format!("{base}{path}");
        let out = out.clone();
        std::thread::spawn(move || {
            Command::new(crate::common::BIN)
                .args([
                    "population",
                    "fetch",
                    "--vintage",
                    "2024",
                    "--url",
                    &url,
                    "--out",
                ])
                .arg(&out)
                .output()
                .unwrap()
        })
    };

    let broken = fetch("/broken.xlsx").join().unwrap();
    assert!(!broken.status.success());
    assert!(
        String::from_utf8_lossy(&broken.stderr).contains("spreadsheet cannot be read"),
        "{broken:?}"
    );
    let missing = fetch("/gone.xlsx").join().unwrap();
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("HTTP 404"),
        "{missing:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "untouched",
        "a failed fetch replaces nothing"
    );

    let good = fetch("/good.xlsx").join().unwrap();
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let written = std::fs::read_to_string(&out).unwrap();
    let numbers = |csv: &str| -> Vec<(String, String)> {
        csv.lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.splitn(5, ',').collect();
                (f[1].to_string(), f[3].to_string())
            })
            .collect()
    };
    assert_eq!(
        numbers(&written),
        numbers(SHIPPED_CSV),
        "the spreadsheet reads back as the shipped table"
    );
}
