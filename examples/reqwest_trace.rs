//! reqwest traced through its public hooks (`httptrace_tower::ReqwestTracing`): two requests
//! to a server this example starts on 127.0.0.1, and the hooks each fired.
//!
//! ```text
//! cargo run --features reqwest --example reqwest_trace
//! ```

use httptrace::EventLog;
use httptrace_tower::ReqwestTracing;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = httptrace_suite::serve_on_loopback(b"ok").await?.port();
    let url = format!("http://localhost:{port}/");

    let tracing = ReqwestTracing::new();
    let client = tracing.install(reqwest::Client::builder()).build()?;
    for n in 1..=2 {
        let log = EventLog::new();
        let res = tracing.send(client.get(&url), log.trace()).await?;
        println!("request {n}: {}", res.status());
        res.bytes().await?;
        for event in log.events() {
            println!("  {}", event.to_json());
        }
    }
    Ok(())
}
