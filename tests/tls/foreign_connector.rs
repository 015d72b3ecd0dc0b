//! A user who keeps hyper-rustls' connector instead of ours: wrapped in `TraceConnector`, with
//! our dialer inside it, every hook fires but the two TLS ones (hyper-rustls has no hook for
//! its handshake). This is the table in ARCHITECTURE.md, "Foreign connectors".

use httptrace::EventLog;
use httptrace_tower::{HttpTrace, TraceConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::*;

#[tokio::test]
async fn hyper_rustls_with_our_dialer_inside_gets_every_hook_but_tls() {
    let pki = TestPki::new("test CA");
    for (alpn, version) in [
        (&[&b"http/1.1"[..]][..], http::Version::HTTP_11),
        (&[&b"h2"[..]][..], http::Version::HTTP_2),
    ] {
        let server =
            TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), alpn)).await;
        let mut inner = dialer(TestResolver::new().with("localhost", &["127.0.0.1"]));
        inner.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config((*pki.client_config(&[])).clone())
            .https_or_http()
            .enable_all_versions()
            .wrap_connector(inner);
        let log = EventLog::new();
        let client = HttpTrace::new(
            Client::builder(TokioExecutor::new()).build::<_, httptrace_tower::TracedRequestBody<
                http_body_util::Full<bytes::Bytes>,
            >>(TraceConnector::new(https)),
            log.trace(),
        );
        for round in 0..2 {
            let res = client
                .request(get(&server.url("localhost", "/")))
                .await
                .unwrap();
            assert_eq!(res.version(), version);
            read_body(res.into_body()).await;
            let events = log.take();
            let names = names(&events);
            let mut expected: Vec<&str> = vec!["GetConn"];
            if round == 0 {
                expected.extend(["DNSStart", "DNSDone", "ConnectStart", "ConnectDone"]);
            }
            expected.push("GotConn");
            if version == http::Version::HTTP_11 {
                expected.extend([
                    "WroteHeaderField(host)",
                    "WroteHeaders",
                    "WroteRequest",
                    "GotFirstResponseByte",
                    "PutIdleConn",
                ]);
            } else {
                expected.extend(GO_HTTP2_PSEUDO_FIELDS);
                expected.extend(["WroteHeaders", "WroteRequest", "GotFirstResponseByte"]);
            }
            assert_eq!(names, expected, "{version:?}, request {round}");
            assert_eq!(got_conn(&events).reused, round == 1);
        }
    }
}
