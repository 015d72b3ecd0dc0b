//! reqwest traced through its public hooks (`httptrace_tower::ReqwestTracing`): two requests
//! to a server this example starts on 127.0.0.1, and the hooks each fired.
//!
//! ```text
//! cargo run --features reqwest --example reqwest_trace
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use httptrace::EventLog;
use httptrace_tower::ReqwestTracing;
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://localhost:{}/", listener.local_addr()?.port());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let answer = hyper::service::service_fn(|_| async {
                    Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from_static(b"ok"))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), answer)
                    .await;
            });
        }
    });

    let tracing = ReqwestTracing::new();
    let client = tracing.install(reqwest::Client::builder()).build()?;
    for n in 1..=2 {
        let log = EventLog::new();
        let res = tracing.send(client.get(&url), log.trace()).await?;
        println!("request {n}: {}", res.status());
        res.bytes().await?;
        for event in log.events() {
            println!("  {}", event.to_json(&httptrace::SENSITIVE_HEADERS));
        }
    }
    Ok(())
}
