//! Faults from real servers on loopback: for each, the request's result is the same through
//! our whole stack as through hyper-util's own, and its events hold the invariants
//! (`assert_well_formed`). `same_outcome.rs` runs every fault row through both.

use std::time::Duration;

use httptrace::{EventKind, EventLog};
use support::*;

/// What the caller saw of `sent` (a request never answered fails the test after 20 s).
async fn outcome_of<B, E>(
    sent: impl std::future::Future<Output = Result<http::Response<B>, E>>,
) -> String
where
    B: http_body::Body,
    B::Error: std::error::Error + 'static,
    E: std::error::Error + 'static,
{
    let seen = outcome_within(Duration::from_secs(20), sent).await;
    assert_ne!(seen, "timed out", "the request took more than 20 s");
    seen
}

async fn outcome(client: &TestClient, url: &str) -> String {
    outcome_of(client.request(get(url))).await
}

/// hyper-util's own client and connector: none of our types.
async fn plain_outcome(url: &str) -> String {
    let plain = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    outcome_of(plain.request(get(url))).await
}

/// Runs `url` traced and untraced; returns the traced log after checking both agree.
async fn same_outcome_well_formed(url: &str) -> (String, Vec<httptrace::Event>) {
    let log = EventLog::new();
    let traced = outcome(&client(TestResolver::new(), log.trace()), url).await;
    let plain = plain_outcome(url).await;
    assert_eq!(traced, plain, "the layer changed the outcome");
    tokio::time::sleep(Duration::from_millis(50)).await; // hooks from the connection's task
    let events = log.take();
    assert_well_formed(&events);
    (traced, events)
}

fn put_idle_errors(events: &[httptrace::Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PutIdleConn(p) => Some(
                p.err
                    .as_ref()
                    .map_or("none".to_owned(), ToString::to_string),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn reset_in_the_middle_of_the_response_head() {
    let (addr, _s) = misbehaving_server(b"HTTP/1.1 200 OK\r\ncontent-le", true, false).await;
    let (outcome, events) = same_outcome_well_formed(&format!("http://{addr}/")).await;
    assert!(outcome.starts_with("error"), "{outcome}");
    assert!(names(&events).contains(&"GotFirstResponseByte".to_owned()));
    assert!(put_idle_errors(&events).is_empty());
}

#[tokio::test]
async fn reset_in_the_middle_of_the_response_body() {
    let (addr, _s) = misbehaving_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789",
        true,
        false,
    )
    .await;
    let (outcome, events) = same_outcome_well_formed(&format!("http://{addr}/")).await;
    assert!(outcome.starts_with("200 OK body error"), "{outcome}");
    let errors = put_idle_errors(&events);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("response body failed"), "{errors:?}");
}

#[tokio::test]
async fn a_malformed_response_fails_the_same_way() {
    let (addr, _s) = misbehaving_server(b"HTTP/1.1 abc\r\n\r\n", false, false).await;
    let (outcome, events) = same_outcome_well_formed(&format!("http://{addr}/")).await;
    assert!(outcome.starts_with("error"), "{outcome}");
    assert_eq!(names(&events).last().unwrap(), "GotFirstResponseByte");
}

#[tokio::test]
async fn a_truncated_chunked_body_reports_the_connection_not_reused() {
    let (addr, _s) = misbehaving_server(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
        false,
        false,
    )
    .await;
    let (outcome, events) = same_outcome_well_formed(&format!("http://{addr}/")).await;
    assert!(outcome.starts_with("200 OK body error"), "{outcome}");
    assert_eq!(put_idle_errors(&events).len(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_leaves_a_well_formed_log() {
    let (addr, _s) = misbehaving_server(b"", false, true).await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    let gave_up = tokio::time::timeout(
        Duration::from_millis(300),
        client.request(get(&format!("http://{addr}/"))),
    )
    .await;
    assert!(gave_up.is_err(), "nothing came");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let events = log.take();
    assert_well_formed(&events);
    assert_eq!(names(&events).last().unwrap(), "WroteRequest");
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_not_used_again() {
    // Answers keep-alive, then closes the connection shortly after.
    let (addr, _s) = misbehaving_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        false,
        false,
    )
    .await;
    let url = format!("http://{addr}/");
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace_beyond_go());
    for _ in 0..2 {
        assert_eq!(outcome(&client, &url).await, "200 OK body b\"ok\"");
        eventually("the server's close to be read", || {
            log.names().contains(&"ConnClosed")
        })
        .await;
        let events = log.take();
        let closed = events.iter().find_map(|e| match &e.kind {
            EventKind::ConnClosed(c) => Some(c.reason.as_str()),
            _ => None,
        });
        assert_eq!(closed, Some("server closed"));
        assert_well_formed(&events);
        assert!(!got_conn(&events).reused, "a fresh connection each time");
    }
}

#[tokio::test]
async fn goaway_on_http2_moves_the_next_request_to_a_new_connection() {
    let (addr, _s) = goaway_server().await;
    let log = EventLog::new();
    let client = tls_client(
        TestResolver::new(),
        log.trace_beyond_go(),
        TestPki::new("unused").client_config(&[b"h2"]),
        true,
    );
    let mut conns = Vec::new();
    for _ in 0..2 {
        let res = within(
            "the request",
            client.request(get(&format!("http://{addr}/"))),
        )
        .await
        .unwrap();
        assert_eq!(res.version(), http::Version::HTTP_2);
        assert_eq!(read_body(res.into_body()).await, "ok");
        // The GOAWAY closes the connection once its stream is done.
        eventually("the connection to close", || {
            log.names().contains(&"ConnClosed")
        })
        .await;
        let events = log.take();
        assert_well_formed(&events);
        let got = got_conn(&events);
        assert!(!got.reused, "{got:?}");
        conns.push(got.conn.id);
    }
    assert_ne!(
        conns[0], conns[1],
        "the second request went to a new connection"
    );
}

/// The ready-made clients with `timeouts`, `log` on each request; TLS trusting `pki`.
fn ready_made(
    log: &EventLog,
    pki: &TestPki,
    timeouts: httptrace_tower::Timeouts,
) -> httptrace_tower::TracedClient<
    http_body_util::Full<bytes::Bytes>,
    httptrace_tower::HttpsConnectorStack,
> {
    httptrace_tower::https_client_with(log.trace(), pki.client_config(&[b"h2"]), timeouts).unwrap()
}

#[tokio::test]
async fn the_ready_made_clients_give_up_connecting_and_say_so_in_connect_done() {
    let (hole, _filler) = blackhole("127.0.0.1:0").await;
    let url = format!("http://{}/", hole.local_addr().unwrap());
    let timeouts = httptrace_tower::Timeouts {
        connect: Some(Duration::from_millis(200)),
        ..Default::default()
    };
    let log = EventLog::new();
    let plain = httptrace_tower::http_client_with(log.trace(), timeouts);
    let tls = ready_made(&log, &TestPki::new("test CA"), timeouts);
    for which in ["http_client", "https_client"] {
        let sent = match which {
            "http_client" => within(which, plain.request(get(&url))).await.map(drop),
            _ => within(which, tls.request(get(&url))).await.map(drop),
        };
        let err = sent.unwrap_err();
        let events = log.take();
        assert_eq!(names(&events), ["GetConn", "ConnectStart", "ConnectDone"]);
        let EventKind::ConnectDone(done) = &events[2].kind else {
            unreachable!()
        };
        let why = done.err.as_ref().unwrap();
        assert_eq!(why.io_error_kind(), Some(std::io::ErrorKind::TimedOut));
        assert_eq!(why.to_string(), "connect timed out");
        assert!(
            error_chain(&err).iter().any(|m| m == "connect timed out"),
            "{:?}",
            error_chain(&err)
        );
    }
}

#[tokio::test]
async fn https_client_gives_up_a_stalled_handshake_and_says_so_in_tls_handshake_done() {
    // Accepts, reads the ClientHello, and never answers.
    let (addr, _server) = misbehaving_server(b"", false, true).await;
    let url = format!("https://localhost:{}/", addr.port());
    let log = EventLog::new();
    let timeouts = httptrace_tower::Timeouts {
        tls_handshake: Some(Duration::from_millis(200)),
        ..Default::default()
    };
    let client = ready_made(&log, &TestPki::new("test CA"), timeouts);
    let err = within("the request", client.request(get(&url)))
        .await
        .unwrap_err();
    let events = log.take();
    assert_well_formed(&events);
    let done = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::TlsHandshakeDone(done) => Some(done.clone()),
            _ => None,
        })
        .expect("a TLSHandshakeDone");
    let why = done.err.unwrap();
    assert_eq!(why.io_error_kind(), Some(std::io::ErrorKind::TimedOut));
    assert_eq!(why.to_string(), "TLS handshake timed out after 200ms");
    assert!(
        error_chain(&err)
            .iter()
            .any(|m| m == "TLS handshake timed out after 200ms"),
        "{:?}",
        error_chain(&err)
    );
    assert!(!names(&events).contains(&"GotConn".to_owned()));
    assert_eq!(
        httptrace_tower::Timeouts::default().connect,
        Some(Duration::from_secs(30))
    );
}

/// The server resets the connection while a large body is still being written: the write
/// that fails ends the request's `WroteRequest`, with that write's I/O error.
#[tokio::test]
async fn a_write_that_fails_ends_wrote_request_with_its_io_error() {
    let (addr, _s) = misbehaving_server(b"", true, false).await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    let req = http::Request::post(format!("http://{addr}/upload"))
        .body(http_body_util::Full::new(bytes::Bytes::from(vec![
            b'x';
            32 << 20
        ])))
        .unwrap();
    let outcome = outcome_of(client.request(req)).await;
    assert!(outcome.starts_with("error"), "{outcome}");
    let events = log.take();
    assert_well_formed(&events);
    let wrote = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::WroteRequest(w) => Some(w.err.clone()),
            _ => None,
        })
        .expect("a WroteRequest");
    let err = wrote.expect("with the write's error");
    assert!(
        matches!(
            err.io_error_kind(),
            Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe)
        ),
        "{err} ({:?})",
        err.io_error_kind()
    );
}

/// A name with two addresses, the first of which never answers: each attempt gets its share
/// of the connect timeout (half, then what is left), so the second address still connects
/// within the timeout.
#[tokio::test]
async fn a_stalled_address_gets_only_its_share_of_the_connect_timeout() {
    let (hole, _filler) = blackhole("127.0.0.1:0").await;
    let port = hole.local_addr().unwrap().port();
    let Ok(live) = tokio::net::TcpListener::bind(("127.0.0.2", port)).await else {
        return; // 127.0.0.2 busy on that port: nothing to prove here
    };
    let resolver = TestResolver::new().with("two.test", &["127.0.0.1", "127.0.0.2"]);
    let mut dialer = dialer(resolver);
    dialer.set_connect_timeout(Some(Duration::from_millis(400)));
    let log = EventLog::new();
    let client = client_over(dialer, log.trace());
    let url = format!("http://two.test:{port}/");
    let sent = tokio::spawn(async move { client.request(get(&url)).await.map(|_| ()) });
    let (stream, _) = within("the second address to be dialled", live.accept())
        .await
        .unwrap();
    drop(stream); // the request then fails; the attempts are what matters
    let _ = within("the request", sent).await;
    let events = log.take();
    let attempts: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ConnectDone(d) => Some((d.addr.ip().to_string(), d.err.is_some())),
            _ => None,
        })
        .collect();
    assert_eq!(
        attempts,
        [
            ("127.0.0.1".to_owned(), true),
            ("127.0.0.2".to_owned(), false)
        ]
    );
    // The stalled attempt gave up at its share (200 ms), well inside the whole budget.
    let at = |name: &str| events.iter().find(|e| e.name() == name).unwrap().at;
    let stalled = at("ConnectDone") - at("ConnectStart");
    assert!(stalled < Duration::from_millis(400), "{stalled:?}");
}

/// The client (and so its pool) dropped while a response body is still being read: at the
/// body's end the connection has no pool to go back to, so `PutIdleConn` carries an error,
/// as Go's does when its pool was closed; the connection's close says the pool shut down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_ends_after_its_pool_was_dropped_is_not_put_idle() {
    use http_body_util::BodyExt;

    let server = TestServer::start().await;
    let log = httptrace::EventLog::new();
    let client = client(TestResolver::new(), log.trace_beyond_go());
    let res = within(
        "the request",
        client.request(get(&server.url("127.0.0.1", "/big"))),
    )
    .await
    .unwrap();
    let mut body = res.into_body();
    let first = within("the first frame", body.frame())
        .await
        .unwrap()
        .unwrap();
    assert!(first.is_data());
    drop(client);
    read_body(body).await;
    eventually("the connection closed", || {
        names(&log.events()).contains(&"ConnClosed".to_owned())
    })
    .await;
    let events = log.take();
    assert_well_formed(&events);
    let put_idle = events
        .iter()
        .find_map(|e| match &e.kind {
            httptrace::EventKind::PutIdleConn(info) => Some(info.err.clone()),
            _ => None,
        })
        .expect("PutIdleConn");
    assert_eq!(
        put_idle.map(|e| e.to_string()).as_deref(),
        Some("pool closed: the client was dropped before the response body ended")
    );
    let closed = events
        .iter()
        .find_map(|e| match &e.kind {
            httptrace::EventKind::ConnClosed(info) => Some(info.reason.as_str()),
            _ => None,
        })
        .unwrap();
    assert_eq!(closed, "pool shutdown");
}
