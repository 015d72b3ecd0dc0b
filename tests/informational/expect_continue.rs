//! `Expect: 100-continue`: the body waits for the server's answer, as in Go.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use httptrace::{ClientTrace, EventKind, EventLog};
use httptrace_tower::HttpTrace;
use support::*;

/// Long enough that a test relying on it fails (`within`) rather than passing slowly.
const NEVER: Duration = Duration::from_secs(60);

fn upload(url: &str) -> http::Request<Full<Bytes>> {
    http::Request::post(url)
        .header("expect", "100-continue")
        .body(Full::new(Bytes::from_static(b"hello")))
        .unwrap()
}

fn expecting(trace: ClientTrace, timeout: Duration) -> TestClient {
    let client = client(TestResolver::new(), ClientTrace::new());
    HttpTrace::new(client.into_inner(), trace).expect_continue_timeout(timeout)
}

/// The events from the head's end on, fields left out.
fn after_head(events: &[httptrace::Event]) -> Vec<String> {
    names(events)
        .into_iter()
        .skip_while(|n| n != "WroteHeaders")
        .collect()
}

#[tokio::test]
async fn accepted_the_body_goes_after_100_continue() {
    let server = ExpectServer::start().await;
    let log = EventLog::new();
    let client = expecting(log.trace(), NEVER);
    let res = within("the upload", client.request(upload(&server.url("/accept"))))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(read_body(res.into_body()).await, "got 5");
    let events = log.take();
    assert_eq!(
        after_head(&events),
        [
            "WroteHeaders",
            "Wait100Continue",
            "GotFirstResponseByte",
            "Got100Continue",
            "Got1xxResponse",
            "WroteRequest",
            "PutIdleConn"
        ]
    );
    assert!(names(&events).contains(&"WroteHeaderField(expect)".to_owned()));
    assert_eq!(
        server.got(),
        [("/accept".to_owned(), 5)],
        "the whole body, once"
    );
    let EventKind::PutIdleConn(put) = &events.last().unwrap().kind else {
        unreachable!()
    };
    assert!(put.err.is_none());
}

#[tokio::test]
async fn rejected_the_body_is_never_sent_and_the_next_request_works() {
    let server = ExpectServer::start().await;
    let log = EventLog::new();
    let client = expecting(log.trace(), NEVER);
    let res = within("the upload", client.request(upload(&server.url("/reject"))))
        .await
        .unwrap();
    assert_eq!(res.status(), 417, "the final response reaches the caller");
    assert_eq!(read_body(res.into_body()).await, "");
    let events = log.take();
    assert_eq!(
        after_head(&events),
        [
            "WroteHeaders",
            "Wait100Continue",
            "GotFirstResponseByte",
            "WroteRequest",
            "PutIdleConn"
        ]
    );
    let EventKind::WroteRequest(wrote) = &events[events.len() - 2].kind else {
        unreachable!()
    };
    assert!(
        wrote.err.is_none(),
        "not sending the body was the decision, not a failure"
    );
    let EventKind::PutIdleConn(put) = &events.last().unwrap().kind else {
        unreachable!()
    };
    assert!(
        put.err
            .as_ref()
            .unwrap()
            .to_string()
            .contains("request body was not sent"),
        "{put:?}"
    );
    eventually("the server to see the connection end", || {
        !server.got().is_empty()
    })
    .await;
    assert_eq!(
        server.got(),
        [("/reject".to_owned(), 0)],
        "not a byte of the body"
    );

    let res = within(
        "the next request",
        client.request(get(&server.url("/plain"))),
    )
    .await
    .unwrap();
    assert_eq!(read_body(res.into_body()).await, "ok");
    assert!(
        !got_conn(&log.take()).reused,
        "the refused request's connection was not reused"
    );
    assert_eq!(*server.connections.lock().unwrap(), 2);
}

#[tokio::test]
async fn ignored_the_body_goes_after_the_timeout() {
    let server = ExpectServer::start().await;
    let log = EventLog::new();
    let timeout = Duration::from_millis(300);
    let client = expecting(log.trace(), timeout);
    let res = within("the upload", client.request(upload(&server.url("/ignore"))))
        .await
        .unwrap();
    assert_eq!(read_body(res.into_body()).await, "ok");
    let events = log.take();
    assert_eq!(
        after_head(&events),
        [
            "WroteHeaders",
            "Wait100Continue",
            "WroteRequest",
            "GotFirstResponseByte",
            "PutIdleConn"
        ]
    );
    let at = |name: &str| events.iter().find(|e| e.name() == name).unwrap().at;
    assert!(
        at("WroteRequest") - at("Wait100Continue") >= timeout,
        "held for the timeout"
    );
    assert_eq!(server.got(), [("/ignore".to_owned(), 5)]);
}

#[tokio::test]
async fn without_any_trace_the_body_still_waits() {
    let server = ExpectServer::start().await;
    let client = expecting(ClientTrace::new(), NEVER);
    let res = within("accepted", client.request(upload(&server.url("/accept"))))
        .await
        .unwrap();
    assert_eq!(read_body(res.into_body()).await, "got 5");
    let res = within("rejected", client.request(upload(&server.url("/reject"))))
        .await
        .unwrap();
    assert_eq!(res.status(), 417);
    read_body(res.into_body()).await;
    eventually("the server to see the connection end", || {
        server.got().len() == 2
    })
    .await;
    assert_eq!(
        server.got(),
        [("/accept".to_owned(), 5), ("/reject".to_owned(), 0)]
    );
}

#[tokio::test]
async fn expect_without_a_body_fires_no_wait_100_continue() {
    let server = ExpectServer::start().await;
    let log = EventLog::new();
    let client = expecting(log.trace(), NEVER);
    let req = http::Request::get(server.url("/plain"))
        .header("expect", "100-continue")
        .body(Full::default())
        .unwrap();
    let res = within("the request", client.request(req)).await.unwrap();
    read_body(res.into_body()).await;
    let names = names(&log.take());
    assert!(!names.contains(&"Wait100Continue".to_owned()), "{names:?}");
}

#[tokio::test]
async fn over_http2_the_body_waits_for_the_timeout_or_a_final_response() {
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), &[b"h2"])).await;
    let log = EventLog::new();
    let resolver = TestResolver::new().with("localhost", &["127.0.0.1"]);
    let timeout = Duration::from_millis(300);
    let client = HttpTrace::new(
        tls_client(
            resolver,
            ClientTrace::new(),
            pki.client_config(&[b"h2"]),
            false,
        )
        .into_inner(),
        log.trace(),
    )
    .expect_continue_timeout(timeout);

    // hyper reports no 1xx over HTTP/2: the body goes when the timeout passes.
    let res = within(
        "the upload",
        client.request(upload(&server.url("localhost", "/up"))),
    )
    .await
    .unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    read_body(res.into_body()).await;
    let events = log.take();
    assert_eq!(
        after_head(&events),
        [
            "WroteHeaders",
            "Wait100Continue",
            "WroteRequest",
            "GotFirstResponseByte"
        ]
    );
    let at = |name: &str| events.iter().find(|e| e.name() == name).unwrap().at;
    assert!(at("WroteRequest") - at("Wait100Continue") >= timeout);
    assert_eq!(server.seen()[0].body, "hello");

    // A final response first: the body is not sent, and the shared connection carries on.
    let res = within(
        "the refused upload",
        client.request(upload(&server.url("localhost", "/reject"))),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 417);
    read_body(res.into_body()).await;
    let events = log.take();
    assert_eq!(
        after_head(&events),
        [
            "WroteHeaders",
            "Wait100Continue",
            "GotFirstResponseByte",
            "WroteRequest"
        ]
    );
    let res = within(
        "the next request",
        client.request(get(&server.url("localhost", "/"))),
    )
    .await
    .unwrap();
    read_body(res.into_body()).await;
    assert!(got_conn(&log.take()).reused);
    assert_eq!(server.connection_count(), 1);
}

/// Once the final response that came first has ended, the withheld body ends too, without a
/// byte and saying why: `RequestBodyDone` comes then, not when the (here 60 s) wait would
/// have run out.
#[tokio::test]
async fn a_withheld_body_ends_with_the_response_that_came_first() {
    let server = ExpectServer::start().await;
    let log = EventLog::new();
    let client = expecting(log.trace_beyond_go(), NEVER);
    let res = within("the upload", client.request(upload(&server.url("/reject"))))
        .await
        .unwrap();
    assert_eq!(res.status(), 417);
    assert_eq!(read_body(res.into_body()).await, "");
    eventually("the withheld body to end", || {
        log.names().contains(&"RequestBodyDone")
    })
    .await;
    let done = log
        .events()
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::RequestBodyDone(d) => {
                Some((d.bytes, d.err.as_ref().map(ToString::to_string)))
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(
        done,
        (
            0,
            Some("request body not sent: the server answered before `100 Continue`".to_owned())
        ),
        "not a byte of it, and why"
    );
}
