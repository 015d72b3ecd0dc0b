//! A request future dropped in every phase (resolving, connecting, TLS handshaking, writing
//! its body, waiting for the answer, reading the body): its log stays well formed, nothing
//! fires after the drop is done, and neither its trace nor any connection state is left
//! behind. In the serial binary: it counts the process's live connection states.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use httptrace::{with_client_trace, ClientTrace, EventLog};
use httptrace_tower::live_connection_states;
use support::*;

/// The log's trace, with a hook that holds `sentinel` (its count says whether anything
/// still holds the trace).
fn holding(sentinel: &Arc<()>, log: &EventLog) -> ClientTrace {
    let held = sentinel.clone();
    ClientTrace::new()
        .on_got_first_response_byte(move || {
            let _ = &held;
        })
        .compose(&log.trace())
}

/// Sends `req` with a fresh log, drops it after `after`, and checks what is left.
async fn cancel<C, B>(
    client: &httptrace_tower::HttpTrace<
        hyper_util::client::legacy::Client<C, httptrace_tower::TracedRequestBody<B>>,
    >,
    mut req: http::Request<B>,
    after: Duration,
    phase: &str,
) -> Vec<String>
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let sentinel = Arc::new(());
    let log = EventLog::new();
    with_client_trace(&mut req, holding(&sentinel, &log));
    assert!(
        tokio::time::timeout(after, client.request(req))
            .await
            .is_err(),
        "{phase}: still pending when dropped"
    );
    eventually(&format!("{phase}: the trace to be released"), || {
        Arc::strong_count(&sentinel) == 1
    })
    .await;
    let events = log.take();
    assert_well_formed(&events);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        log.take().is_empty(),
        "{phase}: no hook after the trace was released"
    );
    names(&events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_dropped_in_any_phase_leaves_nothing_behind() {
    let _serial = super::one_at_a_time().await;
    // The connections of the test before this one in the binary close with its runtime.
    eventually("the connections of earlier tests to close", || {
        live_connection_states() == 0
    })
    .await;
    let baseline = 0;
    let short = Duration::from_millis(150);

    // Resolving: the resolver never answers.
    let (resolver, _gate) = TestResolver::new()
        .with("slow.test", &["127.0.0.1"])
        .gated();
    let client = client(resolver, ClientTrace::new());
    let names = cancel(&client, get("http://slow.test:1/"), short, "resolving").await;
    assert_eq!(names, ["GetConn", "DNSStart", "DNSDone"]);

    // Connecting: the address drops SYNs.
    let (hole, _filler) = blackhole("127.0.0.1:0").await;
    let url = format!("http://{}/", hole.local_addr().unwrap());
    let names = cancel(&client, get(&url), short, "connecting").await;
    assert_eq!(names, ["GetConn", "ConnectStart", "ConnectDone"]);

    // TLS handshaking: the server accepts and never speaks.
    let (silent, _s) = misbehaving_server(b"", false, true).await;
    let pki = TestPki::new("test CA");
    let tls = tls_client(
        TestResolver::new(),
        ClientTrace::new(),
        pki.client_config(&[b"http/1.1"]),
        false,
    );
    let url = format!("https://127.0.0.1:{}/", silent.port());
    let names = cancel(&tls, get(&url), short, "handshaking").await;
    assert_eq!(
        names[names.len() - 2..],
        ["TLSHandshakeStart", "TLSHandshakeDone"]
    );

    // Writing: the request body never ends.
    let server = TestServer::start().await;
    let streaming = client_with::<http_body_util::channel::Channel<Bytes>>(
        TestResolver::new(),
        ClientTrace::new(),
    );
    let (mut tx, body) = http_body_util::channel::Channel::new(1);
    tx.send_data(Bytes::from_static(b"part")).await.unwrap();
    let req = http::Request::post(server.url("127.0.0.1", "/up"))
        .body(body)
        .unwrap();
    let names = cancel(&streaming, req, short, "writing").await;
    assert_eq!(names.last().unwrap(), "WroteHeaders");
    drop(tx);

    // Waiting: the server never answers.
    let (mute, _m) = misbehaving_server(b"", false, true).await;
    let names = cancel(
        &client,
        get(&format!("http://{mute}/")),
        Duration::from_millis(300),
        "waiting",
    )
    .await;
    assert_eq!(names.last().unwrap(), "WroteRequest");

    // Reading: the body is dropped half read (the response future itself completed).
    let sentinel = Arc::new(());
    let log = EventLog::new();
    let mut req = get(&server.url("127.0.0.1", "/big"));
    with_client_trace(&mut req, holding(&sentinel, &log));
    let res = client.request(req).await.unwrap();
    let mut body = res.into_body();
    body.frame().await.unwrap().unwrap();
    drop(body);
    eventually("reading: the trace to be released", || {
        Arc::strong_count(&sentinel) == 1
    })
    .await;
    assert_well_formed(&log.take());

    drop((client, tls, streaming));
    eventually("every connection state to be freed", || {
        live_connection_states() == baseline
    })
    .await;
}
