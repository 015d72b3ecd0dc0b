//! The HTTP/2 hooks beyond Go, against a server that writes its frames by hand
//! (`support::h2_raw`), so that each reset, GOAWAY and stream limit is exactly the test's:
//! a stream the server resets, a GOAWAY that cuts streams in flight, and a request that waits
//! for a free stream under `SETTINGS_MAX_CONCURRENT_STREAMS = 1`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use httptrace::{
    with_client_trace, ClientTrace, EventKind, EventLog, Http2ErrorCode, Http2GoAwayInfo,
    Http2Sender, Http2StreamResetInfo, ResetFrame, TimingsRecorder,
};
use httptrace_tower::{ConnectionStats, HttpTrace, TraceConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::h2_raw::{raw_h2_server, raw_h2_server_with, Act, Heard, GOAWAY_DEBUG};
use support::*;

/// hyper-util's pool over our connector, HTTP/2 by prior knowledge, `trace` on the layer.
fn h2_client(trace: ClientTrace) -> TestClient {
    h2_client_over(TraceConnector::new(dialer(TestResolver::new())), trace)
}

fn h2_client_over(connector: TestConnector, trace: ClientTrace) -> TestClient {
    HttpTrace::new(
        Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build(connector),
        trace,
    )
    .record_timings()
}

/// Traced streams waiting for their place, over every destination `stats` lists.
fn streams_waiting(stats: &ConnectionStats) -> u64 {
    stats
        .snapshot()
        .iter()
        .map(|d| d.http2_streams_waiting)
        .sum()
}

fn h2_get(url: &str, log: &EventLog) -> http::Request<http_body_util::Full<bytes::Bytes>> {
    let mut req = get(url);
    *req.version_mut() = http::Version::HTTP_2;
    with_client_trace(&mut req, log.trace_beyond_go());
    req
}

/// A GET stream's hooks from `GotConn` to its end of writing: the stream's place, the four
/// pseudo-header fields, `WroteHeaders`, and (the body being empty) its end.
fn opened_stream() -> Vec<String> {
    let mut events = vec!["GetConn".to_owned(), "GotConn".to_owned()];
    events.push("Http2StreamOpened".to_owned());
    events.extend(GO_HTTP2_PSEUDO_FIELDS.map(String::from));
    events.extend(["WroteHeaders", "RequestBodyDone", "WroteRequest"].map(String::from));
    events
}

fn resets(events: &[httptrace::Event]) -> Vec<Http2StreamResetInfo> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Http2StreamReset(i) => Some(i.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_stream_the_server_resets_reports_the_code_before_the_error() {
    let server = raw_h2_server(|_, stream| match stream {
        0 => Act::Answer,
        _ => Act::Reset(0xb), // ENHANCE_YOUR_CALM
    })
    .await;
    let url = format!("http://{}/", server.addr);
    let client = h2_client(ClientTrace::new());
    let first = EventLog::new();
    let res = within("the first stream", client.request(h2_get(&url, &first))).await;
    read_body(res.unwrap().into_body()).await;
    assert!(resets(&first.take()).is_empty(), "an answered stream");

    let log = EventLog::new();
    let err = within("the reset stream", client.request(h2_get(&url, &log)))
        .await
        .expect_err("the server reset the stream");
    let events = log.take();
    let mut expected = opened_stream();
    expected.push("Http2StreamReset".to_owned());
    assert_eq!(names(&events), expected, "{}", error_chain(&err).join(": "));
    let reset = &resets(&events)[0];
    assert_eq!(reset.code, Http2ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(reset.code.to_string(), "ENHANCE_YOUR_CALM");
    assert_eq!(reset.sender, Http2Sender::Server);
    assert_eq!(reset.frame, ResetFrame::RstStream);
    assert!(
        events.last().unwrap().to_json().contains(
            r#""code":11,"code_name":"ENHANCE_YOUR_CALM","sender":"server","frame":"RST_STREAM""#
        ),
        "{}",
        events.last().unwrap().to_json()
    );
}

#[tokio::test]
async fn a_goaway_cuts_the_streams_above_its_last_stream_id_and_says_which() {
    let mut server = raw_h2_server(|conn, stream| match (conn, stream) {
        (0, 0 | 1) => Act::Hold,
        (0, 2) => Act::GoawayCuttingAllButFirst,
        _ => Act::Refuse,
    })
    .await;
    let url = format!("http://{}/", server.addr);
    let goaways: Arc<Mutex<Vec<Http2GoAwayInfo>>> = Arc::default();
    let told = goaways.clone();
    let client =
        Arc::new(h2_client(ClientTrace::new().on_http2_goaway(move |info| {
            told.lock().unwrap().push(info.clone())
        })));
    let send = |log: &EventLog| {
        let (client, req) = (client.clone(), h2_get(&url, log));
        tokio::spawn(async move { client.request(req).await.map(|r| r.status()) })
    };
    // Streams 1 and 3 are held; stream 5 brings the GOAWAY that names stream 1 the last.
    let logs = [EventLog::new(), EventLog::new(), EventLog::new()];
    let a = send(&logs[0]);
    assert_eq!(
        within("stream 1", server.heard.recv()).await,
        Some(Heard::Held(1))
    );
    let b = send(&logs[1]);
    assert_eq!(
        within("stream 3", server.heard.recv()).await,
        Some(Heard::Held(3))
    );
    let c = send(&logs[2]);
    assert_eq!(
        within("the GOAWAY to be read", server.heard.recv()).await,
        Some(Heard::GoawayRead)
    );
    let b = within("the stream cut", b).await.unwrap();
    let c = within("the other stream cut", c).await.unwrap();
    assert!(b.is_err() && c.is_err(), "{b:?} {c:?}");
    server.release();
    assert_eq!(within("stream 1", a).await.unwrap().unwrap(), 200);

    let goaways = goaways.lock().unwrap().clone();
    assert_eq!(goaways.len(), 1, "{goaways:?}");
    let goaway = &goaways[0];
    assert_eq!(goaway.last_stream_id, 1);
    assert_eq!(goaway.code, Http2ErrorCode::NO_ERROR);
    assert_eq!(goaway.debug_data.as_bytes(), GOAWAY_DEBUG);
    assert_eq!(
        (goaway.cut_streams.clone(), goaway.cut_count),
        (vec![3, 5], 2)
    );

    let cut = Http2StreamResetInfo::new(
        Http2ErrorCode::NO_ERROR,
        Http2Sender::Server,
        ResetFrame::GoAway,
    );
    for log in &logs[1..] {
        let events = log.take();
        let mut expected = opened_stream();
        expected.push("Http2StreamReset".to_owned());
        assert_eq!(names(&events), expected);
        let reset = &resets(&events)[0];
        assert_eq!(
            (reset.code, reset.sender, reset.frame),
            (cut.code, cut.sender, cut.frame)
        );
    }
    // Stream 1 was below the last-stream-id: answered, not reset. Its request dialled the
    // connection, so its trace hears the GOAWAY too (as it would the close).
    let events = logs[0].take();
    assert!(resets(&events).is_empty());
    assert!(names(&events).contains(&"Http2GoAway".to_owned()));
}

#[tokio::test]
async fn a_request_waits_for_a_free_stream_under_max_concurrent_streams_1() {
    let mut server = raw_h2_server_with(Some(1), |_, stream| match stream {
        1 => Act::Hold,
        _ => Act::Answer,
    })
    .await;
    let url = format!("http://{}/", server.addr);
    let connector = TraceConnector::new(dialer(TestResolver::new()));
    let stats = connector.stats();
    let client = Arc::new(h2_client_over(connector, ClientTrace::new()));
    // The first stream, answered: the client has read the server's SETTINGS.
    let first = EventLog::new();
    let res = within("the first stream", client.request(h2_get(&url, &first))).await;
    read_body(res.unwrap().into_body()).await;
    // (Its own stream went out with the preface, before the SETTINGS came.)
    assert!(names(&first.take()).contains(&"Http2StreamOpened".to_owned()));

    // A holds the only stream the server allows.
    let a = {
        let (client, req) = (client.clone(), h2_get(&url, &EventLog::new()));
        tokio::spawn(async move { read_body(client.request(req).await.unwrap().into_body()).await })
    };
    assert_eq!(
        within("stream 3", server.heard.recv()).await,
        Some(Heard::Held(3))
    );
    // B has its connection, and waits.
    let log = EventLog::new();
    let (got_conn, has_conn) = tokio::sync::oneshot::channel();
    let got_conn = Mutex::new(Some(got_conn));
    let mut req = h2_get(&url, &log);
    with_client_trace(
        &mut req,
        ClientTrace::new().on_got_conn(move |_| {
            if let Some(tx) = got_conn.lock().unwrap().take() {
                let _ = tx.send(());
            }
        }),
    );
    let b = {
        let client = client.clone();
        tokio::spawn(async move { client.request(req).await })
    };
    within("B's GotConn", has_conn).await.unwrap();
    let waiting_since = Instant::now();
    assert_eq!(
        names(&log.events()),
        ["GetConn", "GotConn"],
        "nothing of B is written while A holds the only stream"
    );
    assert_eq!(streams_waiting(&stats), 1, "the client's stats see B wait");
    let released_at = Instant::now();
    server.release();
    within("A", a).await.unwrap();
    let res = within("B", b).await.unwrap().unwrap();
    let recorder = res.extensions().get::<TimingsRecorder>().cloned().unwrap();
    read_body(res.into_body()).await;
    let timings = recorder.timings();
    assert_eq!(streams_waiting(&stats), 0, "B had its place");

    let events = log.take();
    let mut expected = opened_stream();
    expected.extend(["GotFirstResponseByte", "ResponseBodyDone"].map(String::from));
    assert_eq!(names(&events), expected);
    let opened = events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Http2StreamOpened(i) => Some(i.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(opened.max_concurrent_streams, Some(1));
    // B waited from its GotConn (before `waiting_since`) until A's stream ended (after
    // `released_at`), and not until its own response.
    assert!(
        opened.waited >= released_at - waiting_since,
        "{opened:?} {:?}",
        released_at - waiting_since
    );
    let to_response = timings.response_start.unwrap() - timings.request_start.unwrap();
    assert!(opened.waited <= to_response, "{opened:?} {to_response:?}");
    // In the timings, the wait is the queue phase: from the request's start to its stream's
    // place (it dialled nothing).
    let stream_start = timings.http2_stream_start.expect("recorded");
    assert_eq!(
        timings.queue(),
        Some(stream_start - timings.fetch_start),
        "{timings:?}"
    );
    assert!(timings.queue().unwrap() >= opened.waited);
}
