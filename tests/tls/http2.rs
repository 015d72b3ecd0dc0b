//! TLS (real rustls on both ends, certificates made by rcgen here) and HTTP/2, by ALPN and by
//! prior knowledge.

use std::sync::Arc;

use httptrace::{with_client_trace, ClientTrace, EventKind, EventLog};
use support::*;

const H2: &[&[u8]] = &[b"h2", b"http/1.1"];
const H1: &[&[u8]] = &[b"http/1.1"];

fn tls_done(events: &[httptrace::Event]) -> httptrace::TlsHandshakeDoneInfo {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::TlsHandshakeDone(d) => Some(d.clone()),
            _ => None,
        })
        .expect("a TLSHandshakeDone")
}

fn fields(events: &[httptrace::Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::WroteHeaderField(f) => {
                let values: Vec<_> = f
                    .values
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect();
                Some((f.name.clone(), values.join("|")))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn https_over_http1_fresh_then_reused() {
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), H1)).await;
    let log = EventLog::new();
    let resolver = TestResolver::new().with("localhost", &["127.0.0.1"]);
    let client = tls_client(resolver, log.trace(), pki.client_config(H2), false);

    let res = client
        .request(get(&server.url("localhost", "/")))
        .await
        .unwrap();
    assert_eq!(res.version(), http::Version::HTTP_11);
    read_body(res.into_body()).await;
    let first = log.take();
    assert_eq!(
        names(&first),
        [
            "GetConn",
            "DNSStart",
            "DNSDone",
            "ConnectStart",
            "ConnectDone",
            "TLSHandshakeStart",
            "TLSHandshakeDone",
            "GotConn",
            "WroteHeaderField(host)",
            "WroteHeaders",
            "WroteRequest",
            "GotFirstResponseByte",
            "PutIdleConn",
        ]
    );
    let done = tls_done(&first);
    assert!(done.err.is_none());
    let server_side = &server.tls_seen()[0];
    assert_eq!(done.state.version, server_side.version);
    assert_eq!(done.state.version.as_deref(), Some("TLSv1.3"));
    assert_eq!(done.state.cipher_suite, server_side.cipher);
    assert!(done
        .state
        .cipher_suite
        .as_deref()
        .unwrap()
        .starts_with("TLS_"));
    assert_eq!(done.state.alpn_protocol.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(done.state.alpn_protocol, server_side.alpn);
    assert_eq!(done.state.server_name.as_deref(), Some("localhost"));
    assert_eq!(done.state.server_name, server_side.sni);
    assert_eq!(done.state.peer_certificates.len(), 2);
    assert!(!done.state.resumed);
    assert_eq!(
        got_conn(&first).conn.local_addr,
        Some(server.seen()[0].peer)
    );

    let res = client
        .request(get(&server.url("localhost", "/")))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    let second = log.take();
    assert_eq!(names(&second), GO_REUSED_HTTP1_GET);
    assert!(got_conn(&second).reused);
}

#[tokio::test]
async fn the_tls_state_is_in_every_responses_extensions() {
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["127.0.0.1"], false), H1)).await;
    let client = tls_client(
        TestResolver::new(),
        EventLog::new().trace(),
        pki.client_config(H1),
        false,
    );
    let mut states = Vec::new();
    for _ in 0..2 {
        let res = client
            .request(get(&server.url("127.0.0.1", "/")))
            .await
            .unwrap();
        let state = res
            .extensions()
            .get::<Arc<httptrace::TlsConnectionState>>()
            .expect("TLS state")
            .clone();
        let conn = res
            .extensions()
            .get::<httptrace_tower::ConnectionHandle>()
            .expect("connection handle");
        assert_eq!(conn.info().remote_addr, Some(server.addr));
        read_body(res.into_body()).await;
        states.push(state);
    }
    assert_eq!(
        states[0].server_name, None,
        "no SNI is sent for an IP address"
    );
    assert_eq!(server.tls_seen()[0].sni, None);
    assert_eq!(states[0].version.as_deref(), Some("TLSv1.3"));
    assert_eq!(
        states[0].peer_certificates.len(),
        2,
        "the leaf and its authority"
    );
    // The connection's one state, shared by its responses: the peer's chain is not copied
    // into each (that cost every HTTPS response several allocations).
    assert!(Arc::ptr_eq(&states[0], &states[1]));
}

#[tokio::test]
async fn told_http2_only_by_alpn_the_connector_puts_its_handle_only_in_http2_responses() {
    let pki = TestPki::new("test CA");
    for (alpn, http2) in [(H1, false), (H2, true)] {
        let leaf = pki.leaf(&["127.0.0.1"], false);
        let server = TestServer::start_tls(pki.server_config(leaf, alpn)).await;
        let mut dialer = dialer(TestResolver::new());
        dialer.enforce_http(false);
        let connector = httptrace_tower::TraceConnector::new(
            httptrace_tower::connect::TraceTlsConnector::new(dialer, pki.client_config(alpn)),
        )
        .http2_only_by_alpn();
        let log = EventLog::new();
        let client = httptrace_tower::HttpTrace::new(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector),
            log.trace(),
        );
        for reused in [false, true] {
            let res = client
                .request(get(&server.url("127.0.0.1", "/")))
                .await
                .unwrap();
            assert_eq!(res.version() == http::Version::HTTP_2, http2);
            let handle = res.extensions().get::<httptrace_tower::ConnectionHandle>();
            assert_eq!(handle.is_some(), http2, "over {:?}", res.version());
            assert!(res
                .extensions()
                .get::<Arc<httptrace::TlsConnectionState>>()
                .is_some());
            read_body(res.into_body()).await;
            // The layer finds an HTTP/1 request's connection through its body, an HTTP/2
            // stream's through the handle: both are traced whole.
            let events = log.take();
            let got = got_conn(&events);
            assert_eq!(
                (got.reused, got.conn.remote_addr),
                (reused, Some(server.addr))
            );
            let names = names(&events);
            let watched = [
                "GetConn",
                "TLSHandshakeDone",
                "GotConn",
                "WroteHeaders",
                "WroteRequest",
            ];
            let seen: Vec<&str> = names
                .iter()
                .map(String::as_str)
                .filter(|n| watched.contains(n))
                .collect();
            let expected: Vec<&str> = watched
                .into_iter()
                .filter(|n| !(reused && *n == "TLSHandshakeDone"))
                .collect();
            assert_eq!(seen, expected, "{names:?}");
        }
    }
}

#[tokio::test]
async fn a_second_connection_resumes_the_tls13_session() {
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), H1)).await;
    let config = pki.client_config(H1);
    let resolver = TestResolver::new().with("localhost", &["127.0.0.1"]);
    let mut states = Vec::new();
    for _ in 0..2 {
        // A new client each time: a new connection, the same rustls config (and session cache).
        let log = EventLog::new();
        let client = tls_client(resolver.clone(), log.trace(), config.clone(), false);
        let res = client
            .request(get(&server.url("localhost", "/")))
            .await
            .unwrap();
        read_body(res.into_body()).await;
        states.push(tls_done(&log.take()).state);
    }
    assert!(!states[0].resumed);
    assert!(states[1].resumed, "{:?}", states[1]);
    let seen = server.tls_seen();
    assert_eq!((seen[0].resumed, seen[1].resumed), (false, true));
}

#[tokio::test]
async fn http2_by_alpn_shares_one_connection_and_reports_streams() {
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), H2)).await;
    let log = EventLog::new();
    let resolver = TestResolver::new().with("localhost", &["127.0.0.1"]);
    let client = tls_client(resolver, log.trace(), pki.client_config(H2), false);
    let req = http::Request::get(server.url("localhost", "/one"))
        .header("x-request-id", "a")
        .body(Default::default())
        .unwrap();
    let res = client.request(req).await.unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    read_body(res.into_body()).await;
    let first = log.take();
    let mut expected = vec![
        "GetConn",
        "DNSStart",
        "DNSDone",
        "ConnectStart",
        "ConnectDone",
        "TLSHandshakeStart",
        "TLSHandshakeDone",
        "GotConn",
    ];
    expected.extend(GO_HTTP2_PSEUDO_FIELDS);
    expected.push("WroteHeaderField(x-request-id)");
    expected.extend(["WroteHeaders", "WroteRequest", "GotFirstResponseByte"]);
    assert_eq!(names(&first), expected, "no PutIdleConn for HTTP/2");
    assert_eq!(
        tls_done(&first).state.alpn_protocol.as_deref(),
        Some(&b"h2"[..])
    );
    let authority = format!("localhost:{}", server.port());
    assert_eq!(
        fields(&first),
        [
            (":method".into(), "GET".into()),
            (":scheme".into(), "https".into()),
            (":authority".into(), authority.clone()),
            (":path".into(), "/one".into()),
            ("x-request-id".into(), "a".into()),
        ]
    );
    let got = got_conn(&first);
    assert!(!got.reused && !got.was_idle);

    let res = client
        .request(get(&server.url("localhost", "/two?q=1")))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    let second = log.take();
    assert_eq!(names(&second), go_http2_stream_on_open_connection(&[]));
    let again = got_conn(&second);
    assert!(again.reused && again.was_idle, "{again:?}");
    assert_eq!(again.conn.id, got.conn.id);
    assert_eq!(fields(&second)[3], (":path".into(), "/two?q=1".into()));
    assert_eq!(server.connection_count(), 1);
    assert!(server
        .seen()
        .iter()
        .all(|s| s.version == http::Version::HTTP_2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_streams_on_one_http2_connection() {
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), H2)).await;
    let resolver = TestResolver::new().with("localhost", &["127.0.0.1"]);
    let client = Arc::new(tls_client(
        resolver,
        ClientTrace::new(),
        pki.client_config(H2),
        false,
    ));
    // Open the connection first, so that both concurrent requests find it.
    read_body(
        client
            .request(get(&server.url("localhost", "/")))
            .await
            .unwrap()
            .into_body(),
    )
    .await;

    let logs = [EventLog::new(), EventLog::new()];
    let mut tasks = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        let mut req = get(&server.url("localhost", "/slow"));
        with_client_trace(&mut req, log.trace());
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            read_body(client.request(req).await.unwrap().into_body()).await
        }));
        if i == 0 {
            eventually("the first stream to open", || {
                log.names().contains(&"WroteHeaders")
            })
            .await;
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let expected = go_http2_stream_on_open_connection(&[]);
    let got: Vec<_> = logs
        .iter()
        .map(|l| {
            let events = l.events();
            assert_eq!(names(&events), expected);
            got_conn(&events)
        })
        .collect();
    assert_eq!(got[0].conn.id, got[1].conn.id);
    assert!(
        got[0].reused && got[1].reused,
        "every stream after the connection's first is reused"
    );
    assert!(got[0].was_idle, "no other stream was open");
    assert!(!got[1].was_idle, "the first stream was still open");
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn http2_prior_knowledge_over_plain_tcp() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = tls_client(
        TestResolver::new(),
        log.trace(),
        TestPki::new("unused").client_config(H2),
        true,
    );
    let post = || {
        http::Request::post(server.url("127.0.0.1", "/up"))
            .header("connection", "keep-alive")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(
                b"hello",
            )))
            .unwrap()
    };
    let res = client.request(post()).await.unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    read_body(res.into_body()).await;
    let events = log.take();
    assert_eq!(
        names(&events),
        [
            "GetConn",
            "ConnectStart",
            "ConnectDone",
            "GotConn",
            "WroteHeaders",
            "WroteRequest",
            "GotFirstResponseByte",
        ]
    );
    assert_eq!(server.seen()[0].version, http::Version::HTTP_2);
    assert_eq!(server.seen()[0].body, "hello");
    assert!(server.seen()[0].headers.get("connection").is_none());

    // The layer did not know this plain-HTTP request would be a stream, so it neither kept
    // its head (no `WroteHeaderField`) nor watched for the hand-off: the stream's hooks
    // fired, in order, once its response had come. Now it knows: the next stream's fields
    // are reported, and its `GotConn` comes before the server answers it.
    let at = |e: &httptrace::Event| log.started_at() + e.at;
    let got_conn = |events: &[httptrace::Event]| {
        at(events
            .iter()
            .find(|e| matches!(e.kind, httptrace::EventKind::GotConn(_)))
            .unwrap())
    };
    assert!(got_conn(&events) > server.seen()[0].answered_at);
    let res = client.request(post()).await.unwrap();
    read_body(res.into_body()).await;
    let events = log.take();
    assert_eq!(
        names(&events),
        go_http2_stream_on_open_connection(&["content-length"])
    );
    let f = fields(&events);
    assert_eq!(f[0], (":method".into(), "POST".into()));
    assert_eq!(f[1], (":scheme".into(), "http".into()));
    assert_eq!(
        f[4],
        ("content-length".into(), "5".into()),
        "connection-specific fields are not sent"
    );
    assert!(got_conn(&events) < server.seen()[1].answered_at);
}

/// A TLS failure: `TLSHandshakeDone` carries the error, no `GotConn`, and the request fails
/// exactly as it does through the same connector without the layer.
async fn assert_handshake_fails(
    url: &str,
    config: Arc<rustls::ClientConfig>,
    resolver: TestResolver,
    expect: &[&str],
) {
    let log = EventLog::new();
    let client = tls_client(resolver.clone(), log.trace(), config.clone(), false);
    let err = within("the traced request", client.request(get(url)))
        .await
        .unwrap_err();
    let events = log.take();
    let names = names(&events);
    assert_eq!(
        names[names.len() - 2..],
        ["TLSHandshakeStart", "TLSHandshakeDone"],
        "{names:?}"
    );
    assert!(!names.contains(&"GotConn".to_owned()));
    let done = tls_done(&events);
    let message = done
        .err
        .as_ref()
        .expect("the handshake's error")
        .to_string();
    assert!(
        expect.iter().any(|e| message.contains(e)),
        "{message:?} should say one of {expect:?}"
    );
    assert_eq!(done.state.version, None);

    let mut dialer = dialer(resolver);
    dialer.enforce_http(false);
    let plain: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(
            httptrace_tower::TraceConnector::new(httptrace_tower::connect::TraceTlsConnector::new(
                dialer, config,
            )),
        );
    let untraced = within("the untraced request", plain.request(get(url)))
        .await
        .unwrap_err();
    assert_eq!(error_chain(&err), error_chain(&untraced));
    let chain = error_chain(&err);
    assert!(
        chain.iter().any(|m| expect.iter().any(|e| m.contains(e))),
        "{chain:?}"
    );
}

#[tokio::test]
async fn a_certificate_from_an_unknown_authority_fails_the_handshake() {
    let (pki, stranger) = (TestPki::new("server's CA"), TestPki::new("another CA"));
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), H1)).await;
    let resolver = TestResolver::new().with("localhost", &["127.0.0.1"]);
    assert_handshake_fails(
        &server.url("localhost", "/"),
        stranger.client_config(H1),
        resolver,
        &["UnknownIssuer"],
    )
    .await;
}

/// `ClientTls`'s built configs: trusting the given roots offers HTTP/2 by ALPN; Mozilla's
/// roots (feature `webpki-roots`) do not trust a private CA.
#[tokio::test]
async fn https_client_with_roots_offers_http2_and_webpki_roots_refuse_a_private_ca() {
    use httptrace_tower::{https_client_with, ClientTls, Timeouts};
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), H2)).await;
    let url = server.url("localhost", "/");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    let log = EventLog::new();
    let tls = ClientTls::Roots(Arc::new(roots));
    let client = https_client_with(log.trace(), tls, Timeouts::default()).unwrap();
    let res = within("the request", client.request(get(&url)))
        .await
        .unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    assert_eq!(
        tls_done(&log.events()).state.alpn_protocol.as_deref(),
        Some(&b"h2"[..])
    );

    #[cfg(feature = "webpki-roots")]
    {
        let log = EventLog::new();
        let client =
            https_client_with(log.trace(), ClientTls::WebpkiRoots, Timeouts::default()).unwrap();
        within("the request", client.request(get(&url)))
            .await
            .unwrap_err();
        let err = tls_done(&log.events()).err.expect("the handshake failed");
        assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    }
}

#[tokio::test]
async fn a_certificate_for_another_name_fails_the_handshake() {
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["other.test"], false), H1)).await;
    let resolver = TestResolver::new().with("localhost", &["127.0.0.1"]);
    assert_handshake_fails(
        &server.url("localhost", "/"),
        pki.client_config(H1),
        resolver,
        &["certificate not valid for name"],
    )
    .await;
}

#[tokio::test]
async fn an_expired_certificate_fails_the_handshake() {
    let pki = TestPki::new("test CA");
    let server = TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], true), H1)).await;
    let resolver = TestResolver::new().with("localhost", &["127.0.0.1"]);
    assert_handshake_fails(
        &server.url("localhost", "/"),
        pki.client_config(H1),
        resolver,
        &["certificate expired"],
    )
    .await;
}

#[tokio::test]
async fn plain_http_on_the_tls_port_fails_the_handshake() {
    let server = TestServer::start().await;
    let url = format!("https://localhost:{}/", server.port());
    let resolver = TestResolver::new().with("localhost", &["127.0.0.1"]);
    let pki = TestPki::new("test CA");
    assert_handshake_fails(
        &url,
        pki.client_config(H1),
        resolver,
        &["InvalidContentType"],
    )
    .await;
}

#[tokio::test]
async fn a_server_closing_mid_handshake_fails_the_handshake() {
    let (addr, _task) = closing_after_first_bytes().await;
    let url = format!("https://localhost:{}/", addr.port());
    let resolver = TestResolver::new().with("localhost", &["127.0.0.1"]);
    let pki = TestPki::new("test CA");
    assert_handshake_fails(
        &url,
        pki.client_config(H1),
        resolver,
        &["Connection reset by peer", "tls handshake eof"],
    )
    .await;
}

/// The TLS connector's stream tells what its handshake negotiated; a plain one has none.
#[tokio::test]
async fn the_tls_connectors_stream_tells_its_tls_state() {
    use tower::Service;
    let pki = TestPki::new("test CA");
    let leaf = pki.leaf(&["localhost"], false);
    let server = TestServer::start_tls(pki.server_config(leaf, H2)).await;
    let mut dialer = dialer(TestResolver::new().with("localhost", &["127.0.0.1"]));
    dialer.enforce_http(false);
    let mut tls = httptrace_tower::connect::TraceTlsConnector::new(dialer, pki.client_config(H2));

    let uri: http::Uri = server.url("localhost", "/").parse().unwrap();
    let stream = tls.call(uri).await.unwrap();
    let state = stream.tls_state().expect("a TLS stream");
    assert_eq!(state.version.as_deref(), Some("TLSv1.3"));
    assert_eq!(state.alpn_protocol.as_deref(), Some(&b"h2"[..]));
    assert_eq!(state.server_name.as_deref(), Some("localhost"));
    assert_eq!(state.peer_certificates.len(), 2);

    let plain: http::Uri = server
        .url("localhost", "/")
        .replace("https:", "http:")
        .parse()
        .unwrap();
    let mut stream = tls.call(plain).await.unwrap();
    assert!(stream.tls_state().is_none());
    // A shutdown reaches the socket: nothing can be written after it.
    assert_shuts_down(&mut stream).await;
}

/// Each type of the connector stack names itself in `Debug`, its futures included.
#[tokio::test]
async fn the_connector_stacks_types_name_themselves_in_debug() {
    use httptrace_tower::connect::{TraceResolver, TraceTlsConnector};
    use tower::Service;
    fn named(value: &impl std::fmt::Debug, name: &str) {
        let shown = format!("{value:?}");
        assert!(shown.starts_with(name), "{name}: {shown}");
    }
    let pki = TestPki::new("test CA");
    let server = TestServer::start().await;
    let mut resolver = TraceResolver::new(TestResolver::new());
    named(&resolver, "TraceResolver");
    let name: hyper_util::client::legacy::connect::dns::Name = "localhost".parse().unwrap();
    let lookup = resolver.call(name);
    named(&lookup, "TraceResolverFuture");
    drop(lookup);
    let mut dialer = dialer(TestResolver::new());
    dialer.enforce_http(false);
    named(&dialer, "TraceHttpConnector");
    let uri: http::Uri = server.url("127.0.0.1", "/").parse().unwrap();
    let dial = dialer.call(uri.clone());
    named(&dial, "TraceHttpConnectorFuture");
    drop(dial);
    let mut tls = TraceTlsConnector::new(dialer, pki.client_config(H2));
    named(&tls, "TraceTlsConnector");
    let connecting = tls.call(uri.clone());
    named(&connecting, "TraceTlsConnectorFuture");
    let stream = connecting.await.unwrap();
    named(&stream, "MaybeTlsStream");
    let mut traced = httptrace_tower::TraceConnector::new(tls);
    named(&traced, "TraceConnector");
    let connecting = traced.call(uri);
    named(&connecting, "TraceConnectorFuture");
    named(&connecting.await.unwrap(), "TracedConnection");
}
