//! A traced tonic channel (`httptrace_tower::tonic_channel`): checks the health of a
//! tonic-health server it starts on 127.0.0.1, and prints every hook of the connection and
//! of the two calls.
//!
//! ```text
//! cargo run --features tonic --example tonic_health
//! ```

use httptrace::EventLog;
use httptrace_tower::{TraceConnector, TraceHttpConnector};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("inventory", tonic_health::ServingStatus::Serving)
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let health = TowerToHyperService::new(health.clone());
            tokio::spawn(async move {
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .http2_only()
                    .serve_connection(TokioIo::new(stream), health)
                    .await;
            });
        }
    });

    let log = EventLog::new();
    let endpoint = tonic::transport::Endpoint::from_shared(url)?;
    let mut dialer = TraceHttpConnector::new();
    dialer.set_nodelay(true);
    let connector = TraceConnector::new(dialer);
    let channel =
        httptrace_tower::tonic_channel::connect(endpoint, connector, log.trace_beyond_go()).await?;
    let mut client = HealthClient::new(channel);
    for _ in 0..2 {
        let status = client
            .check(HealthCheckRequest {
                service: "inventory".into(),
            })
            .await?
            .into_inner()
            .status;
        println!("inventory: {status:?}");
    }
    for event in log.events() {
        println!("{}", event.to_json());
    }
    Ok(())
}
