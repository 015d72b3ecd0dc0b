//! The hooks Go lacks, against real servers: both bodies' ends (bytes, and what cut them
//! short) and the connection's close (why, and how many requests it served), for an early
//! body drop, a server that closes, the pool's idle timeout, `Connection: close`, a reset and
//! a client that goes away.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use httptrace::{CloseReason, ConnClosedInfo, Event, EventKind, EventLog};
use httptrace_tower::{HttpTrace, TraceConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use support::*;

/// The one `ConnClosed` of `log`, once it has come.
async fn closed(log: &EventLog) -> ConnClosedInfo {
    eventually("ConnClosed", || log.names().contains(&"ConnClosed")).await;
    let events = log.events();
    let mut closes = events.iter().filter_map(|e| match &e.kind {
        EventKind::ConnClosed(i) => Some(i.clone()),
        _ => None,
    });
    let first = closes.next().unwrap();
    assert!(closes.next().is_none(), "one connection, one close");
    first
}

/// [`closed`], checked: its reason (as `CloseReason::as_str` names it) and how many requests
/// the connection served.
async fn closed_as(log: &EventLog, reason: &str, served: u64) -> ConnClosedInfo {
    let close = closed(log).await;
    assert_eq!(
        (close.reason.as_str(), close.requests_served),
        (reason, served),
        "{:?}",
        close.reason
    );
    close
}

/// `(bytes, error message)` of the event named `name`.
fn body_done(events: &[Event], name: &str) -> (u64, Option<String>) {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::RequestBodyDone(i) if name == "RequestBodyDone" => Some(i.clone()),
            EventKind::ResponseBodyDone(i) if name == "ResponseBodyDone" => Some(i.clone()),
            _ => None,
        })
        .map(|i| (i.bytes, i.err.map(|e| e.to_string())))
        .unwrap_or_else(|| panic!("no {name} in {:?}", names(events)))
}

/// Everything but the header fields, which other tests pin.
fn without_fields(events: &[Event]) -> Vec<String> {
    names(events)
        .into_iter()
        .filter(|n| !n.starts_with("WroteHeaderField"))
        .collect()
}

#[tokio::test]
async fn both_bodies_report_their_bytes_in_order_and_the_pool_timeout_closes_the_connection() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let connector = TraceConnector::new(dialer(TestResolver::new()));
    let client = HttpTrace::new(
        Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_millis(200))
            .pool_timer(TokioTimer::new())
            .build(connector),
        log.trace_beyond_go(),
    );
    let req = http::Request::post(server.url("127.0.0.1", "/big"))
        .body(http_body_util::Full::new(Bytes::from_static(b"hello")))
        .unwrap();
    let res = within("the request", client.request(req)).await.unwrap();
    assert_eq!(read_body(res.into_body()).await.len(), 1 << 20);

    let events = log.events();
    assert_eq!(without_fields(&events), FRESH_HTTP1_GET);
    assert_eq!(body_done(&events, "RequestBodyDone"), (5, None));
    assert_eq!(body_done(&events, "ResponseBodyDone"), (1 << 20, None));

    // Nobody uses the connection again: the pool drops it once its idle timeout passes.
    let close = closed_as(&log, "idle timeout", 1).await;
    assert_eq!(close.conn, got_conn(&events).conn);
    assert!(close.lifetime >= Duration::from_millis(200));
}

#[tokio::test]
async fn a_response_body_dropped_early_reports_the_cut_and_closes_its_connection_for_it() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace_beyond_go());
    let res = within(
        "the request",
        client.request(get(&server.url("127.0.0.1", "/big"))),
    )
    .await
    .unwrap();
    let mut body = res.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    drop(body);

    let events = log.events();
    assert!(
        names(&events).ends_with(&[
            "GotFirstResponseByte".to_owned(),
            "PutIdleConn".to_owned(),
            "ResponseBodyDone".to_owned()
        ]),
        "{:?}",
        names(&events)
    );
    let (bytes, err) = body_done(&events, "ResponseBodyDone");
    assert_eq!(bytes, first.len() as u64);
    assert!(bytes < 1 << 20);
    assert!(
        err.as_deref()
            .is_some_and(|e| e.starts_with("response body dropped before its end")),
        "{err:?}"
    );

    closed_as(&log, "dropped unread body", 1).await;
}

const KEEP_ALIVE_OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// One GET, its body read, to a raw server that answers `answer` (`misbehaving_server`, with
/// its `reset` and `hold`): the log, and the client, which must live on (dropping it closes
/// its pool's connections).
async fn one_exchange(answer: &'static [u8], reset: bool, hold: bool) -> (EventLog, TestClient) {
    let log = EventLog::new();
    let connector = TraceConnector::new(dialer(TestResolver::new()));
    let client = one_exchange_over(connector, log.trace_beyond_go(), answer, reset, hold).await;
    (log, client)
}

/// [`one_exchange`] over `connector`, traced by `trace`: the client.
async fn one_exchange_over(
    connector: TestConnector,
    trace: httptrace::ClientTrace,
    answer: &'static [u8],
    reset: bool,
    hold: bool,
) -> TestClient {
    let (addr, _server) = misbehaving_server(answer, reset, hold).await;
    let client = HttpTrace::new(
        Client::builder(TokioExecutor::new()).build(connector),
        trace,
    );
    let res = within(
        "the request",
        client.request(get(&format!("http://{addr}/"))),
    )
    .await
    .unwrap();
    read_body(res.into_body()).await;
    client
}

#[tokio::test]
async fn a_server_that_closes_an_idle_connection_is_reported_as_server_closed() {
    // Answers one request with a keep-alive response, then closes 100 ms later.
    let (log, _client) = one_exchange(KEEP_ALIVE_OK, false, false).await;
    assert!(log.names().ends_with(&["PutIdleConn", "ResponseBodyDone"]));

    closed_as(&log, "server closed", 1).await;
}

#[tokio::test]
async fn a_reset_is_reported_as_an_error_and_connection_close_as_not_reusable() {
    let (log, _client) = one_exchange(KEEP_ALIVE_OK, true, false).await;
    let close = closed(&log).await;
    match &close.reason {
        CloseReason::Error(err) => assert_eq!(
            err.io_error_kind(),
            Some(std::io::ErrorKind::ConnectionReset),
            "{err}"
        ),
        other => panic!("a reset is an error, not {other:?}"),
    }

    // The server says `Connection: close` and keeps the connection open: the client closes.
    let (log, _client) = one_exchange(
        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
        false,
        true,
    )
    .await;
    assert!(!log.names().contains(&"PutIdleConn"), "{:?}", log.names());
    closed_as(&log, "not reusable", 1).await;
}

#[tokio::test]
async fn told_http2_only_by_alpn_the_connector_leaves_its_handle_out_of_http1_responses() {
    let connector = || TraceConnector::new(dialer(TestResolver::new())).http2_only_by_alpn();
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = HttpTrace::new(
        Client::builder(TokioExecutor::new()).build(connector()),
        log.trace(),
    );
    for expected in [go_fresh_http1_get_by_ip(), GO_REUSED_HTTP1_GET.to_vec()] {
        let res = within(
            "the request",
            client.request(get(&server.url("127.0.0.1", "/"))),
        )
        .await
        .unwrap();
        let handle = res.extensions().get::<httptrace_tower::ConnectionHandle>();
        assert!(handle.is_none(), "{handle:?}");
        read_body(res.into_body()).await;
        assert_eq!(names(&log.take()), expected);
    }

    // The layer keeps the connection each request was handed to instead, and tells it how
    // the exchange ended, even once hyper has dropped it (`Connection: close`). The trace
    // has no 1xx hook that could veto (the connection is kept for that too).
    let reasons = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = reasons.clone();
    let trace = httptrace::ClientTrace::new()
        .on_conn_closed(move |c| seen.lock().unwrap().push(c.reason.as_str().to_owned()));
    let _client = one_exchange_over(
        connector(),
        trace,
        b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok",
        false,
        true,
    )
    .await;
    eventually("ConnClosed", || !reasons.lock().unwrap().is_empty()).await;
    assert_eq!(*reasons.lock().unwrap(), ["not reusable"]);
}

#[tokio::test]
async fn dropping_the_client_closes_its_idle_connections_as_pool_shutdown() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace_beyond_go());
    for _ in 0..2 {
        let res = within(
            "the request",
            client.request(get(&server.url("127.0.0.1", "/"))),
        )
        .await
        .unwrap();
        read_body(res.into_body()).await;
    }
    assert!(!log.names().contains(&"ConnClosed"));
    drop(client);
    closed_as(&log, "pool shutdown", 2).await;
}

#[tokio::test]
async fn a_request_body_that_fails_reports_what_it_sent_and_why_it_stopped() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = client_with::<http_body_util::channel::Channel<Bytes, std::io::Error>>(
        TestResolver::new(),
        log.trace_beyond_go(),
    );
    let (mut tx, body) = http_body_util::channel::Channel::new(1);
    let req = http::Request::post(server.url("127.0.0.1", "/up"))
        .body(body)
        .unwrap();
    let sending = tokio::spawn(async move {
        tx.send_data(Bytes::from_static(b"abc")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.abort(std::io::Error::other("the upload broke"));
    });
    let result = within("the request", client.request(req)).await;
    assert!(result.is_err());
    sending.await.unwrap();

    let events = log.events();
    assert_eq!(
        body_done(&events, "RequestBodyDone"),
        (3, Some("request body failed".to_owned()))
    );
    let names = names(&events);
    let done = names.iter().position(|n| n == "RequestBodyDone").unwrap();
    let wrote = names.iter().position(|n| n == "WroteRequest").unwrap();
    assert!(done < wrote, "{names:?}");
    assert!(!names.contains(&"ResponseBodyDone".to_owned()));
}

#[tokio::test]
async fn an_http2_connection_reports_each_streams_body_and_its_streams_served_at_shutdown() {
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["api.test"], false), &[b"h2"])).await;
    let resolver = TestResolver::new().with("api.test", &["127.0.0.1"]);
    let log = EventLog::new();
    let client = tls_client(
        resolver,
        log.trace_beyond_go(),
        pki.client_config(&[b"h2"]),
        false,
    );
    for _ in 0..3 {
        let res = within(
            "the request",
            client.request(get(&server.url("api.test", "/"))),
        )
        .await
        .unwrap();
        assert_eq!(res.version(), http::Version::HTTP_2);
        read_body(res.into_body()).await;
    }
    let events = log.events();
    let done: Vec<(u64, Option<String>)> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ResponseBodyDone(i) => {
                Some((i.bytes, i.err.as_ref().map(|e| e.to_string())))
            }
            _ => None,
        })
        .collect();
    assert_eq!(done, [(2, None), (2, None), (2, None)]);
    assert!(
        !names(&events).contains(&"PutIdleConn".to_owned()),
        "none for HTTP/2"
    );

    drop(client);
    closed_as(&log, "pool shutdown", 3).await;
}

#[tokio::test]
async fn a_request_dropped_while_waiting_leaves_its_connection_abandoned() {
    // Reads the request and never answers.
    let (addr, _server) = misbehaving_server(b"", false, true).await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace_beyond_go());
    let waiting = client.request(get(&format!("http://{addr}/")));
    assert!(
        tokio::time::timeout(Duration::from_millis(200), waiting)
            .await
            .is_err(),
        "the server never answers"
    );
    closed_as(&log, "abandoned", 1).await;
    assert!(
        !log.names().contains(&"ResponseBodyDone"),
        "{:?}",
        log.names()
    );
    drop(client);
}
