//! An axum service whose handler calls another service through a traced client, and answers
//! with the call's hooks and timings (`httptrace_suite::integrations::axum`).
//!
//! ```text
//! cargo run --features axum --example axum_timings
//! ```
//! Starts an upstream server and the axum service on 127.0.0.1, asks the service for
//! `/inventory` once, prints its `Server-Timing` header and its answer, and exits.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioExecutor;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The upstream: answers every request with a short body.
    let upstream_url = format!(
        "http://{}/stock",
        httptrace_suite::serve_on_loopback(b"42 widgets").await?
    );

    // The axum service that calls it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let service_url = format!("http://{}/inventory", listener.local_addr()?);
    let app = httptrace_suite::integrations::axum::router(&upstream_url);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Empty<Bytes>>();
    let res = client.get(service_url.parse()?).await?;
    if let Some(timing) = res.headers().get("server-timing") {
        println!("server-timing: {}\n", timing.to_str()?);
    }
    let body = res.into_body().collect().await?.to_bytes();
    let answer: serde_json::Value = serde_json::from_slice(&body)?;
    println!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}
