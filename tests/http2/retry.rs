//! hyper-util's hidden retry on HTTP/2: a request handed to a pooled connection whose server
//! has just sent GOAWAY, before the stream could start, is sent again on a new connection.
//! `GotConn` names the connection that carried the stream. Captured (a client on another
//! executor), the failed attempt shows as a second `GetConn`/`GotConn` pair, as Go reports
//! it; through a `TraceExecutor`, only the attempt whose stream opened shows.
//!
//! The server is raw HTTP/2 frames (`support::h2_raw`), so that its GOAWAY's last-stream-id
//! and its timing are exact: it answers the first stream of its first connection, holds the
//! second, then sends GOAWAY (last stream: the held one) and a PING; the PING's ACK says the
//! client has read the GOAWAY. Every later connection is answered at once.

use std::sync::Arc;

use httptrace::{with_client_trace, EventKind, EventLog};
use support::h2_raw::{raw_h2_server, Act, Heard};
use support::*;

/// Request C's log, sent as the server's GOAWAY shuts the pooled connection: A is answered on
/// the first connection, B held there, then GOAWAY; C is handed to the first connection,
/// whose dispatcher has shut down, and hyper-util sends it again on a new one.
async fn retried_log(client: TestClient) -> (std::net::SocketAddr, Vec<httptrace::Event>) {
    let mut server = raw_h2_server(|conn, stream| match (conn, stream) {
        (0, 0) => Act::Answer,
        (0, 1) => Act::HoldThenGoaway,
        (0, _) => Act::Refuse,
        _ => Act::Answer,
    })
    .await;
    let addr = server.addr;
    let client = Arc::new(client);
    let url = format!("http://{addr}/");
    let h2_get = || {
        let mut req = get(&url);
        *req.version_mut() = http::Version::HTTP_2;
        req
    };

    // A: the first connection's first stream, answered; traced, so that a layer whose client
    // spawns through a `TraceExecutor` learns it from A.
    let mut a = h2_get();
    with_client_trace(&mut a, EventLog::new().trace());
    let res = within("request A", client.request(a)).await.unwrap();
    read_body(res.into_body()).await;
    // B: held, then GOAWAY.
    let b = {
        let client = client.clone();
        let req = h2_get();
        tokio::spawn(async move { client.request(req).await.map(|r| r.status()) })
    };
    assert_eq!(
        within("the GOAWAY to be read", server.heard.recv()).await,
        Some(Heard::GoawayRead)
    );
    // C: the pool still hands out the first connection (B keeps it open); its dispatcher
    // has shut down, so hyper-util sends C again on a new connection.
    let log = EventLog::new();
    let mut req = h2_get();
    with_client_trace(&mut req, log.trace());
    let res = within("request C", client.request(req)).await.unwrap();
    assert_eq!(res.status(), 200);
    read_body(res.into_body()).await;
    server.release();
    assert_eq!(within("request B", b).await.unwrap().unwrap(), 200);
    assert!(
        server.heard.try_recv().is_err(),
        "no stream opened past the GOAWAY"
    );

    (addr, log.take())
}

/// The failed attempt's `GetConn`/`GotConn` on the pooled connection, then the dial and the
/// attempt that carried the stream: its fields, `WroteHeaders`, `WroteRequest`, first byte.
fn assert_retried(addr: std::net::SocketAddr, events: &[httptrace::Event]) {
    let fields = GO_HTTP2_PSEUDO_FIELDS.map(String::from);
    // The first attempt's stream never opened: no header fields, no `WroteHeaders` (as Go's
    // transport, which writes them only once the stream has its slot).
    let mut expected = vec!["GetConn".to_owned(), "GotConn".to_owned()];
    // The retry dials, then the second attempt gets its connection.
    expected.extend(["ConnectStart", "ConnectDone", "GetConn", "GotConn"].map(String::from));
    expected.extend(fields);
    expected.extend(["WroteHeaders", "WroteRequest", "GotFirstResponseByte"].map(String::from));
    assert_eq!(names(events), expected);
    let get_conns: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GetConn(i) => Some(i.host_port.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(get_conns, [addr.to_string(), addr.to_string()]);
    let got: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GotConn(i) => Some((i.conn.id, i.reused)),
            _ => None,
        })
        .collect();
    assert!(got[0].1, "the first attempt took the pooled connection");
    assert!(!got[1].1, "the second a new one");
    assert_ne!(got[0].0, got[1].0, "{got:?}");
}

// One thread: once the client has read the GOAWAY, request C reaches the pool before the
// first connection's dispatcher runs again (and shuts down), every time.
#[tokio::test]
async fn a_stream_retried_after_goaway_names_the_connection_that_carried_it() {
    let (addr, events) = retried_log(h2_prior_knowledge_client()).await;
    assert_retried(addr, &events);
}

/// Through a `TraceExecutor` (no capture once the layer knows, from A), a stream learns its
/// connection from the task that opens it: C never reached the first connection's task,
/// which had shut down, so its log shows the one attempt that opened a stream, on the new
/// connection, with its dial before it.
#[tokio::test]
async fn a_linked_clients_stream_sent_again_after_goaway_shows_the_attempt_that_opened_it() {
    let (addr, events) = retried_log(h2_prior_knowledge_client_linked()).await;
    let mut expected: Vec<String> = ["GetConn", "ConnectStart", "ConnectDone", "GotConn"]
        .map(String::from)
        .to_vec();
    expected.extend(GO_HTTP2_PSEUDO_FIELDS.map(String::from));
    expected.extend(["WroteHeaders", "WroteRequest", "GotFirstResponseByte"].map(String::from));
    assert_eq!(names(&events), expected);
    let got = got_conn(&events);
    assert!(!got.reused, "a new connection: {got:?}");
    assert_eq!(got.conn.remote_addr, Some(addr));
}
