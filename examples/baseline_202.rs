//! The do-nothing baseline of the ingest benchmark: an axum handler that reads the body
//! and answers 202, on the same hyper server `dev` uses, so `bench/run.sh` can say how
//! close durable ingest comes to what the HTTP stack alone allows on this machine.
//!
//! cargo run --release --example baseline_202 -- 127.0.0.1:18090

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18090".into());
    let app = Router::new()
        .route(
            "/api/orders",
            post(|_body: axum::body::Bytes| async { StatusCode::ACCEPTED }),
        )
        .route("/healthz", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("baseline listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
