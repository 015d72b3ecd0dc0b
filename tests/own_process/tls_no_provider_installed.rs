//! A process of its own: it needs a process where no crypto provider was ever installed.
//!
//! An app with reqwest 0.13 on its default features (rustls over aws-lc-rs, the platform
//! verifier) and this crate's `https_client`, in one process, with no crypto provider
//! installed: both make a TLS request. (rustls' own `ClientConfig::builder()` would panic
//! here: this test binary has both aws-lc-rs and ring compiled in.) Its own binary, so that
//! nothing else installs a provider first.
#![cfg(feature = "reqwest")]

extern crate httptrace_test_support as support;

use http_body_util::BodyExt;
use httptrace::{EventLog, TlsHandshakeDoneInfo};
use httptrace_tower::{https_client_with, ClientTls, Timeouts};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reqwest_and_https_client_both_make_tls_requests_with_no_provider_installed() {
    let pki = TestPki::new("test CA");
    let server = TestServer::start_tls(
        pki.server_config(pki.leaf(&["localhost"], false), &[b"h2", b"http/1.1"]),
    )
    .await;
    let url = server.url("localhost", "/");

    // reqwest, as an app has it: its platform verifier, trusting the test CA beside the
    // system's roots.
    let ca = reqwest::Certificate::from_der(&pki.ca).unwrap();
    let reqwest_client = reqwest::Client::builder()
        .no_proxy()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let res = within("reqwest's request", reqwest_client.get(&url).send())
        .await
        .unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    assert_eq!(res.text().await.unwrap(), "ok");

    // Ours, by default on the platform's verifier too, with the test CA as an extra root.
    let log = EventLog::new();
    let tls = ClientTls::Platform {
        extra_roots: vec![pki.ca.clone()],
    };
    let client = https_client_with(log.trace(), tls, Timeouts::default()).unwrap();
    let res = within("https_client's request", client.request(get(&url)))
        .await
        .unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2, "ALPN offered h2");
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"ok");
    let done: Vec<TlsHandshakeDoneInfo> = log
        .events()
        .into_iter()
        .filter_map(|e| match e.kind {
            httptrace::EventKind::TlsHandshakeDone(info) => Some(info),
            _ => None,
        })
        .collect();
    assert_eq!(done.len(), 1);
    assert!(done[0].err.is_none(), "{:?}", done[0].err);
    assert_eq!(done[0].state.server_name.as_deref(), Some("localhost"));

    assert_eq!(server.tls_seen().len(), 2, "two handshakes, one per client");
    assert!(
        rustls::crypto::CryptoProvider::get_default().is_none(),
        "neither installed a process default"
    );
}
