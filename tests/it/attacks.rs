//! An attacker's first hour against `dev` as it starts by default (loopback, no key): the
//! requests a review tried, each with the answer it must get, and the process still up.

use crate::common::{client, get_status, post_order, Dev, BIN};
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_cannot_rebuild_the_report_even_without_a_key() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = Dev::start(&tmp.path().join("data"), &[]);
    let http = client();
    // A form post from any page: text/plain is a "simple" request a browser sends
    // cross-site without asking.
    let form = http
        .post(dev.url("/admin/refresh"))
        .header("content-type", "text/plain")
        .header("origin", "https://attacker.example")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert!(
        [403, 415].contains(&form.status().as_u16()),
        "{}",
        form.status()
    );
    let fetch = http
        .post(dev.url("/admin/refresh"))
        .header("content-type", "application/json")
        .header("sec-fetch-site", "cross-site")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(fetch.status(), 403);
    let plain = http
        .post(dev.url("/admin/refresh"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415, "JSON only");
    // The operator's own call (curl, no Origin) still works.
    let own = http
        .post(dev.url("/admin/refresh"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    dev.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn far_years_are_refused_and_the_process_stays_up() {
    let tmp = tempfile::tempdir().unwrap();
    // The default order horizon (the tests' harness lifts it; this test puts it back).
    let dev = Dev::start(&tmp.path().join("data"), &["--order-horizon-days", "400"]);
    let http = client();
    for as_of in [
        "-262143-01-01T00:00:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ] {
        let answer = http
            .post(dev.url("/admin/refresh"))
            .json(&json!({ "as_of": as_of }))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 422, "as_of {as_of}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert!(body["error"].is_string(), "a reason: {body}");
    }
    // An order dated in year 1 would make a lake partition of its own: refused, naming
    // the rule.
    let ancient = json!({"order_id": 1, "customer_id": 1, "type": "cheese", "qty": 1,
                         "retail_price": 9.5, "order_date": "0001-01-01T00:00:00Z"});
    let answer = http
        .post(dev.url("/api/orders"))
        .json(&ancient)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("400 days"),
        "{body}"
    );
    // What JSON Schema calls an integer is one: 1252.0 is order 1252.
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    let integral = json!({"order_id": 1252.0, "customer_id": 7.0, "type": "cheese",
                          "qty": 2.0, "retail_price": 9.5, "order_date": yesterday});
    assert_eq!(post_order(&http, &dev, &integral).await, 202);
    assert_eq!(get_status(&http, &dev, "/healthz").await, 200, "still up");
    dev.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_trickling_connections_are_closed_within_a_minute() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = Dev::start(&tmp.path().join("data"), &[]);
    let address = dev.url.trim_start_matches("http://").to_string();
    let mut silent = Vec::new();
    for _ in 0..50 {
        silent.push(tokio::net::TcpStream::connect(&address).await.unwrap());
    }
    // A body announced, then sent a byte at a time, slower than any real client.
    let mut trickle = tokio::net::TcpStream::connect(&address).await.unwrap();
    trickle
        .write_all(
            b"POST /api/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        )
        .await
        .unwrap();
    let trickler = tokio::spawn(async move {
        let started = Instant::now();
        let mut answer = Vec::new();
        loop {
            let mut buffer = [0u8; 512];
            tokio::select! {
                read = trickle.read(&mut buffer) => match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buffer[..n]),
                },
                _ = tokio::time::sleep(Duration::from_secs(5)) => {
                    if trickle.write_all(b" ").await.is_err() {
                        break;
                    }
                }
            }
            if started.elapsed() > Duration::from_secs(90) {
                panic!("a trickling body was never cut off");
            }
        }
        (
            started.elapsed(),
            String::from_utf8_lossy(&answer).to_string(),
        )
    });
    let http = client();
    assert_eq!(
        get_status(&http, &dev, "/healthz").await,
        200,
        "others are served"
    );

    let started = Instant::now();
    for mut stream in silent {
        let mut buffer = [0u8; 64];
        let closed = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue,
                }
            }
        })
        .await;
        assert!(
            closed.is_ok(),
            "a silent connection was still open after a minute"
        );
    }
    let (trickled, answer) = trickler.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(trickled < Duration::from_secs(60), "{trickled:?}");
    println!(
        "50 silent connections closed within {:.1} s; a trickling body answered 408 after {:.1} s",
        started.elapsed().as_secs_f64(),
        trickled.as_secs_f64()
    );
    assert_eq!(get_status(&http, &dev, "/healthz").await, 200);
    dev.stop();
}

#[test]
fn listening_beyond_this_machine_without_a_key_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(BIN)
        .args(["dev", "--data-dir"])
        .arg(tmp.path().join("data"))
        .args(["--listen", "0.0.0.0:0"])
        .env_remove("PIZZA_API_KEY")
        .env_remove("PIZZA_DEMO_HISTORY")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("no API key is set") && said.contains("PIZZA_API_KEY"),
        "{said}"
    );
}
