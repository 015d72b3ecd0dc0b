//! A dial that loses the race to an idle connection.

use std::sync::Arc;

use httptrace::{with_client_trace, ClientTrace, EventKind, EventLog};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dial_that_loses_to_an_idle_connection_reports_to_the_request_that_started_it() {
    let server = TestServer::start().await;
    let (resolver, gate) = TestResolver::new()
        .with("race.test", &["127.0.0.1"])
        .gated();
    let client = Arc::new(client(resolver, ClientTrace::new()));

    // A takes a fresh connection and holds it for 200 ms.
    let log_a = EventLog::new();
    let mut req = get(&server.url("race.test", "/slow"));
    with_client_trace(&mut req, log_a.trace());
    gate.add_permits(1);
    let a = tokio::spawn({
        let client = client.clone();
        async move { read_body(client.request(req).await.unwrap().into_body()).await }
    });
    eventually("A to send its request", || {
        log_a.names().contains(&"WroteRequest")
    })
    .await;

    // B finds no idle connection and starts a dial, whose lookup the resolver holds back.
    let log_b = EventLog::new();
    let mut req = get(&server.url("race.test", "/"));
    with_client_trace(&mut req, log_b.trace());
    let b = tokio::spawn({
        let client = client.clone();
        async move { read_body(client.request(req).await.unwrap().into_body()).await }
    });
    eventually("B's lookup to start", || {
        log_b.names().contains(&"DNSStart")
    })
    .await;

    // A's connection comes back to the pool first, and B takes it.
    a.await.unwrap();
    b.await.unwrap();
    let before_dial = names(&log_b.events());
    assert_eq!(
        before_dial,
        [
            "GetConn",
            "DNSStart",
            "GotConn",
            "WroteHeaderField(host)",
            "WroteHeaders",
            "WroteRequest",
            "GotFirstResponseByte",
            "PutIdleConn"
        ]
    );
    let got_b = got_conn(&log_b.events());
    let got_a = got_conn(&log_a.events());
    assert!(got_b.reused && got_b.was_idle);
    assert_eq!(got_b.conn.id, got_a.conn.id);

    // hyper-util finishes B's dial in the background: its hooks still go to B, not A.
    gate.add_permits(1);
    eventually("B's dial to finish", || {
        log_b.names().contains(&"ConnectDone")
    })
    .await;
    let events = log_b.events();
    assert_eq!(
        names(&events)[before_dial.len()..],
        ["DNSDone", "ConnectStart", "ConnectDone"]
    );
    let EventKind::ConnectDone(done) = &events.last().unwrap().kind else {
        unreachable!()
    };
    assert!(done.err.is_none());
    assert_eq!(names(&log_a.events()), GO_FRESH_HTTP1_GET);
    eventually("the background connection to open", || {
        server.connection_count() == 2
    })
    .await;

    // The connection B dialled went to the pool unused: the next request takes it (or A's),
    // and if it is B's it says it was idle but never used.
    let log_c = EventLog::new();
    let mut req = get(&server.url("race.test", "/"));
    with_client_trace(&mut req, log_c.trace());
    read_body(client.request(req).await.unwrap().into_body()).await;
    let got_c = got_conn(&log_c.events());
    assert!(got_c.was_idle);
    assert_eq!(got_c.reused, got_c.conn.id == got_a.conn.id);
}
