//! A process of its own: it installs the process's default crypto provider.
//!
//! A crypto provider installed as the process default is the one this crate's TLS uses
//! (over the aws-lc-rs or ring of its features). Its own test binary: the default is the
//! process's.

extern crate httptrace_test_support as support;

use std::sync::Arc;

use httptrace::{EventKind, EventLog};
use httptrace_tower::{crypto_provider, https_client_with, ClientTls, Timeouts};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installed_process_default_provider_is_respected() {
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), &[b"http/1.1"]))
            .await;
    // The server, made before, has every suite and follows the client's preference, which
    // puts AES first. The features' provider cut to ChaCha20 alone, installed: a handshake
    // negotiates ChaCha20 only if the client used the installed provider.
    let mut only_chacha = Arc::unwrap_or_clone(crypto_provider().unwrap());
    only_chacha
        .cipher_suites
        .retain(|s| s.suite() == rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256);
    assert_eq!(only_chacha.cipher_suites.len(), 1);
    only_chacha.install_default().unwrap();
    let log = EventLog::new();
    let tls = ClientTls::Platform {
        extra_roots: vec![pki.ca.clone()],
    };
    let client = https_client_with(log.trace(), tls, Timeouts::default()).unwrap();
    let res = within(
        "the request",
        client.request(get(&server.url("localhost", "/"))),
    )
    .await
    .unwrap();
    assert!(res.status().is_success());
    let suite = log.events().into_iter().find_map(|e| match e.kind {
        EventKind::TlsHandshakeDone(info) => info.state.cipher_suite,
        _ => None,
    });
    assert_eq!(suite.as_deref(), Some("TLS_CHACHA20_POLY1305_SHA256"));
}
