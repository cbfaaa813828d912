//! A client that trickles its headers in (slowloris) is cut off after the header
//! deadline, and never stops others from being served meanwhile.

use crate::common::{client, get_status, Dev};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_headers_are_cut_off() {
    let tmp = tempfile::tempdir().unwrap();
    let dev = Dev::start(&tmp.path().join("data"), &[]);
    let address = dev.url.trim_start_matches("http://").to_string();
    let mut slow = Vec::new();
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"POST /api/orders HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    let http = client();
    assert_eq!(
        get_status(&http, &dev, "/healthz").await,
        200,
        "others are served meanwhile"
    );

    let started = Instant::now();
    for mut stream in slow {
        let mut buffer = [0u8; 256];
        // The server closes the connection (read returns 0 or an error) once the
        // header deadline has passed; bounded wait so a hang fails instead of blocking.
        let read = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match stream.read(&mut buffer).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => continue, // e.g. a 408 answer before the close
                }
            }
        })
        .await;
        assert!(read.is_ok(), "a slow client was never cut off");
    }
    println!(
        "20 slow clients cut off after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(get_status(&http, &dev, "/healthz").await, 200);
    dev.stop();
}
