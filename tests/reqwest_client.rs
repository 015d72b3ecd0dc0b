//! reqwest (feature `reqwest`): a real reqwest client against a real server on loopback,
//! traced through reqwest's public hooks; exactly the hooks its table promises, in order.
#![cfg(feature = "reqwest")]

mod support;

use std::net::SocketAddr;

use httptrace::{EventKind, EventLog};
use httptrace_tower::{ReqwestTracing, TracedDns};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use support::*;

/// Resolves every name to 127.0.0.1: no public DNS in tests.
struct Loopback;

impl Resolve for Loopback {
    fn resolve(&self, _: Name) -> Resolving {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as Addrs) })
    }
}

fn story(log: &EventLog) -> Vec<String> {
    log.events()
        .iter()
        .map(|e| match &e.kind {
            EventKind::GetConn(i) => format!("GetConn({})", i.host_port),
            EventKind::DnsStart(i) => format!("DNSStart({})", i.host),
            EventKind::DnsDone(i) => format!("DNSDone({:?}, err={})", i.addrs, i.err.is_some()),
            EventKind::GotConn(i) => format!(
                "GotConn(reused={}, remote={})",
                i.reused,
                i.conn.remote_addr.unwrap()
            ),
            _ => e.name().to_owned(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reqwest_client_reports_lookup_connection_reuse_and_first_byte() {
    let server = TestServer::start().await;
    let tracing = ReqwestTracing::new();
    let client = tracing
        .install_with_resolver(reqwest::Client::builder(), TracedDns::new(Loopback))
        .build()
        .unwrap();
    let url = server.url("api.test", "/");
    let remote = format!("127.0.0.1:{}", server.port());

    let mut ids = Vec::new();
    for n in 0..2 {
        let log = EventLog::new();
        let res = within("the request", tracing.send(client.get(&url), log.trace()))
            .await
            .unwrap();
        assert_eq!(res.text().await.unwrap(), "ok");
        let mut expected = vec![format!("GetConn(api.test:{})", server.port())];
        if n == 0 {
            expected.push("DNSStart(api.test)".to_owned());
            expected.push("DNSDone([127.0.0.1], err=false)".to_owned());
        }
        expected.push(format!("GotConn(reused={}, remote={remote})", n > 0));
        expected.push("GotFirstResponseByte".to_owned());
        assert_eq!(story(&log), expected, "request {n}");
        ids.push(got_conn(&log.events()).conn.id);
        // hyper-util returns the connection to the pool from a task of its own, after the
        // body's end; reqwest shows no event for it, so give that task time to run.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(ids[0], ids[1], "the same connection, known by the same id");
    assert_eq!(server.connection_count(), 1);
}
