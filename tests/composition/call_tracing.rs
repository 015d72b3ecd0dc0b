//! A whole call across redirects and retries (`CallTraceLayer`), against a real server:
//! tower-http's `FollowRedirect` through a chain of three hops, tower's `Retry` after a 503,
//! and a call dropped before its result.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use httptrace::{with_client_trace, ClientTrace, Event, EventKind, EventLog};
use httptrace_tower::{
    CallTrace, CallTraceLayer, HttpTrace, HttpTraceLayer, TracedRequestBody, TracedResponseBody,
};
use hyper_util::client::legacy::Client;
use support::*;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_http::follow_redirect::{FollowRedirect, FollowRedirectLayer};

/// hyper-util's client over our connector, for an `HttpTrace` to wrap.
type Traced = HttpTrace<Client<TestConnector, TracedRequestBody<Full<Bytes>>>>;

/// The call-traced stack over tower-http's redirect layer: the call reports to `trace`, and
/// each attempt is traced inside it.
fn following_redirects(trace: ClientTrace) -> CallTrace<FollowRedirect<Traced>> {
    ServiceBuilder::new()
        .layer(CallTraceLayer::new(trace))
        .layer(FollowRedirectLayer::new())
        .layer(HttpTraceLayer::default())
        .service(pool())
}

/// What the call-level hooks said, in order, as text.
fn call_story(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CallStart(i) => Some(format!("CallStart {} {}", i.method, i.uri.path())),
            EventKind::AttemptStart(i) => Some(format!(
                "AttemptStart #{} {} {} after {:?}",
                i.attempt,
                i.method,
                i.uri.path(),
                i.previous_status.map(|s| s.as_u16())
            )),
            EventKind::CallDone(i) => Some(format!(
                "CallDone attempts={} status={:?} err={:?}",
                i.attempts,
                i.status.map(|s| s.as_u16()),
                i.err.as_ref().map(ToString::to_string)
            )),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_chain_of_three_redirects_is_one_call_of_three_numbered_attempts() {
    let server = TestServer::with_handler(redirect_chain).await;
    let log = EventLog::new();
    let client = following_redirects(log.trace_beyond_go());
    let res = within(
        "the call",
        client.oneshot(get(&server.url("127.0.0.1", "/hop1"))),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(read_body(res.into_body()).await, "arrived");

    let events = log.events();
    assert_eq!(
        call_story(&events),
        [
            "CallStart GET /hop1",
            "AttemptStart #1 GET /hop1 after None",
            "AttemptStart #2 GET /hop2 after Some(302)",
            "AttemptStart #3 GET /hop3 after Some(302)",
            "CallDone attempts=3 status=Some(200) err=None",
        ]
    );
    let attempts: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::AttemptStart(i) => Some(i.clone()),
            _ => None,
        })
        .collect();
    assert!(!attempts[0].is_redirect());
    assert!(attempts[1].is_redirect() && attempts[2].is_redirect());
    assert_eq!(
        attempts[2].uri.to_string(),
        server.url("127.0.0.1", "/hop3"),
        "the redirect's target, resolved against the server"
    );

    // Each attempt's own hooks follow its AttemptStart: one dial, then the connection reused.
    let names = names(&events);
    let without_fields: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !n.starts_with("WroteHeaderField"))
        .collect();
    // The last attempt's body ends after the call is done.
    let mut expected = vec!["CallStart", "AttemptStart"];
    expected.extend(FRESH_HTTP1_GET);
    expected.push("AttemptStart");
    expected.extend(REUSED_HTTP1_GET);
    expected.push("AttemptStart");
    expected.extend(&REUSED_HTTP1_GET[..6]);
    expected.extend(["CallDone", "PutIdleConn", "ResponseBodyDone"]);
    assert_eq!(without_fields, expected);
    let reused: Vec<bool> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GotConn(i) => Some(i.reused),
            _ => None,
        })
        .collect();
    assert_eq!(reused, [false, true, true]);
    assert_eq!(server.seen().len(), 3);
}

/// Retries once after a `503`.
#[derive(Clone)]
struct RetryOn503 {
    left: usize,
}

impl<E>
    tower::retry::Policy<
        http::Request<Full<Bytes>>,
        Response<TracedResponseBody<hyper::body::Incoming>>,
        E,
    > for RetryOn503
{
    type Future = std::future::Ready<()>;

    fn retry(
        &mut self,
        _req: &mut http::Request<Full<Bytes>>,
        result: &mut Result<Response<TracedResponseBody<hyper::body::Incoming>>, E>,
    ) -> Option<Self::Future> {
        let unavailable =
            matches!(result, Ok(res) if res.status() == StatusCode::SERVICE_UNAVAILABLE);
        (unavailable && self.left > 0).then(|| {
            self.left -= 1;
            std::future::ready(())
        })
    }

    fn clone_request(
        &mut self,
        req: &http::Request<Full<Bytes>>,
    ) -> Option<http::Request<Full<Bytes>>> {
        let mut copy = http::Request::new(req.body().clone());
        *copy.uri_mut() = req.uri().clone();
        *copy.method_mut() = req.method().clone();
        *copy.headers_mut() = req.headers().clone();
        Some(copy)
    }
}

#[tokio::test]
async fn a_retry_after_a_503_is_the_second_attempt_and_says_what_it_follows() {
    let calls = Arc::new(AtomicUsize::new(0));
    let count = calls.clone();
    let server = TestServer::with_handler(move |_| {
        if count.fetch_add(1, Ordering::SeqCst) == 0 {
            Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .body(Full::default())
                .unwrap()
        } else {
            Response::new(Full::new(Bytes::from_static(b"ok")))
        }
    })
    .await;
    let log = EventLog::new();
    let client = ServiceBuilder::new()
        .layer(CallTraceLayer::new(log.trace_beyond_go()))
        .layer(tower::retry::RetryLayer::new(RetryOn503 { left: 1 }))
        .layer(HttpTraceLayer::default())
        .service(pool());
    let res = within(
        "the call",
        client.oneshot(get(&server.url("127.0.0.1", "/flaky"))),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    read_body(res.into_body()).await;
    assert_eq!(
        call_story(&log.events()),
        [
            "CallStart GET /flaky",
            "AttemptStart #1 GET /flaky after None",
            "AttemptStart #2 GET /flaky after Some(503)",
            "CallDone attempts=2 status=Some(200) err=None",
        ]
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_call_dropped_before_its_result_is_done_with_why_and_a_per_request_trace_follows_the_redirects(
) {
    // A request's own trace, attached before the call, hears every attempt, although the
    // redirect layer drops the first request's extensions.
    let server = TestServer::with_handler(redirect_chain).await;
    let own = EventLog::new();
    let mut client = following_redirects(ClientTrace::new());
    let mut req = get(&server.url("127.0.0.1", "/hop1"));
    with_client_trace(&mut req, own.trace_beyond_go());
    let res = within("the call", client.ready().await.unwrap().call(req))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    assert_eq!(call_story(&own.events()).len(), 5);

    // Dropped while the server has not answered.
    let (mute, _m) = misbehaving_server(b"", false, true).await;
    let log = EventLog::new();
    let mut req = get(&format!("http://{mute}/"));
    with_client_trace(&mut req, log.trace_beyond_go());
    let call = client.ready().await.unwrap().call(req);
    let _ = tokio::time::timeout(std::time::Duration::from_millis(200), call).await;
    assert_eq!(
        call_story(&log.events()),
        [
            "CallStart GET /".to_owned(),
            "AttemptStart #1 GET / after None".to_owned(),
            format!(
                "CallDone attempts=1 status=None err={:?}",
                Some("the call was dropped before it had a result")
            ),
        ]
    );
}

#[tokio::test]
async fn a_call_that_fails_is_done_with_the_error_its_attempt_had() {
    let port = refused_port().await;
    let log = EventLog::new();
    let client = following_redirects(log.trace_beyond_go());
    let err = within(
        "the call",
        client.oneshot(get(&format!("http://127.0.0.1:{port}/"))),
    )
    .await
    .unwrap_err();
    let story = call_story(&log.events());
    assert_eq!(
        story[..2],
        ["CallStart GET /", "AttemptStart #1 GET / after None"]
    );
    assert_eq!(story.len(), 3, "{story:?}");
    assert!(
        story[2].starts_with("CallDone attempts=1 status=None err=Some(")
            && story[2].contains(&err.to_string()),
        "{story:?} vs {err}"
    );
    let names = names(&log.events());
    assert!(names.contains(&"ConnectDone".to_owned()), "{names:?}");
}

/// A request the client refuses is no attempt of the call, even when no hook reads the
/// request's `host:port` (the call's trace has only call hooks, the layer records only
/// timings).
#[tokio::test]
async fn a_refused_request_is_no_attempt_when_no_hook_reads_its_destination() {
    let story = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (started, attempted, done) = (story.clone(), story.clone(), story.clone());
    let call_hooks = ClientTrace::new()
        .on_call_start(move |_| started.lock().unwrap().push("CallStart".to_owned()))
        .on_attempt_start(move |i| {
            attempted
                .lock()
                .unwrap()
                .push(format!("AttemptStart #{}", i.attempt))
        })
        .on_call_done(move |i| {
            done.lock()
                .unwrap()
                .push(format!("CallDone attempts={}", i.attempts))
        });
    let client = ServiceBuilder::new()
        .layer(CallTraceLayer::new(call_hooks))
        .layer(HttpTraceLayer::default().record_timings())
        .service(pool::<TracedRequestBody<Full<Bytes>>>());
    within("the call", client.oneshot(get("ftp://127.0.0.1:2121/file")))
        .await
        .unwrap_err();
    assert_eq!(*story.lock().unwrap(), ["CallStart", "CallDone attempts=0"]);
}
