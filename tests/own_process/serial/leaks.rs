//! Request futures dropped midway leave nothing behind. In the serial binary: it counts
//! the process's live connection states.

use std::sync::Arc;
use std::time::Duration;

use httptrace::{with_client_trace, ClientTrace, EventKind, EventLog};
use httptrace_tower::live_connection_states;
use support::*;

/// A trace whose hooks hold `sentinel`: while anything keeps the trace, its count is above 1.
fn trace_holding(sentinel: &Arc<()>, log: &EventLog) -> ClientTrace {
    let held = sentinel.clone();
    log.trace()
        .compose(&ClientTrace::new().on_wrote_headers(move || {
            let _ = &held;
        }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_request_futures_leave_no_trace_or_connection_state_behind() {
    let _serial = super::one_at_a_time().await;
    // The connections of the test before this one in the binary close with its runtime.
    eventually("the connections of earlier tests to close", || {
        live_connection_states() == 0
    })
    .await;
    let baseline = 0;
    let server = TestServer::start().await;
    let (resolver, gate) = TestResolver::new()
        .with("drop.test", &["127.0.0.1"])
        .gated();
    let client = client(resolver, ClientTrace::new());

    // Dropped while resolving: the lookup reports its cancellation, and nothing holds on.
    let sentinel = Arc::new(());
    let log = EventLog::new();
    let mut req = get(&server.url("drop.test", "/"));
    with_client_trace(&mut req, trace_holding(&sentinel, &log));
    assert!(
        tokio::time::timeout(Duration::from_millis(100), client.request(req))
            .await
            .is_err()
    );
    let events = log.take();
    assert_eq!(names(&events), ["GetConn", "DNSStart", "DNSDone"]);
    let EventKind::DnsDone(done) = &events[2].kind else {
        unreachable!()
    };
    assert_eq!(done.err.as_ref().unwrap().to_string(), "lookup cancelled");
    eventually("the trace to be released", || {
        Arc::strong_count(&sentinel) == 1
    })
    .await;
    assert_eq!(live_connection_states(), baseline);

    // Dropped while waiting for the response: hyper closes that connection, and its state
    // and the trace go with it.
    gate.add_permits(1);
    let log = EventLog::new();
    let mut req = get(&server.url("drop.test", "/slow"));
    with_client_trace(&mut req, trace_holding(&sentinel, &log));
    assert!(
        tokio::time::timeout(Duration::from_millis(100), client.request(req))
            .await
            .is_err()
    );
    assert_eq!(names(&log.take()).last().unwrap(), "WroteRequest");
    eventually("the connection state to be freed", || {
        live_connection_states() == baseline
    })
    .await;
    eventually("the trace to be released", || {
        Arc::strong_count(&sentinel) == 1
    })
    .await;

    // A completed request's connection stays pooled with its state; dropping the client
    // frees both.
    gate.add_permits(1);
    let log = EventLog::new();
    let mut req = get(&server.url("drop.test", "/"));
    with_client_trace(&mut req, trace_holding(&sentinel, &log));
    read_body(client.request(req).await.unwrap().into_body()).await;
    assert_eq!(live_connection_states(), baseline + 1);
    eventually("the trace to be released", || {
        Arc::strong_count(&sentinel) == 1
    })
    .await;
    drop(client);
    eventually("the pooled connection's state to be freed", || {
        live_connection_states() == baseline
    })
    .await;
}
