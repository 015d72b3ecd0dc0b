//! reqwest traced by `httptrace_reqwest::ReqwestTrace`, a `reqwest_middleware` middleware: two
//! requests to a server this example starts on 127.0.0.1, the hooks each fired and its
//! timings. The call site is reqwest's own.
//!
//! ```text
//! cargo run --features reqwest --example reqwest_trace
//! ```

use httptrace::{EventLog, TimingsRecorder};
use httptrace_reqwest::ReqwestTrace;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = httptrace_suite::serve_on_loopback(b"ok").await?.port();
    let url = format!("http://localhost:{port}/");

    let client = ReqwestTrace::new(httptrace::ClientTrace::new())
        .record_timings()
        .client(reqwest::Client::builder().no_proxy())?
        .build();
    for n in 1..=2 {
        let log = EventLog::new();
        let res = client.get(&url).with_extension(log.trace()).send().await?;
        println!("request {n}: {}", res.status());
        let timings = res.extensions().get::<TimingsRecorder>().cloned();
        res.bytes().await?;
        for event in log.events() {
            println!("  {}", event.to_json());
        }
        if let Some(timings) = timings {
            println!("  timings: {}", timings.timings().to_json());
        }
    }
    Ok(())
}
