//! Composition of the layer's, the scope's and the request's traces, and what bad input gets.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use httptrace::{hook_panics, with_client_trace, ClientTrace, EventKind, EventLog};
use httptrace_tower::{HttpTrace, TracedRequestBody};
use support::*;
use tower::ServiceExt;

type Lines = Arc<Mutex<Vec<String>>>;

fn tagged(lines: &Lines, tag: &'static str) -> ClientTrace {
    let (a, b, c) = (lines.clone(), lines.clone(), lines.clone());
    ClientTrace::new()
        .on_get_conn(move |_| a.lock().unwrap().push(format!("{tag} GetConn")))
        .on_got_conn(move |_| b.lock().unwrap().push(format!("{tag} GotConn")))
        .on_put_idle_conn(move |_| c.lock().unwrap().push(format!("{tag} PutIdleConn")))
}

#[tokio::test]
async fn request_trace_runs_before_scope_trace_before_layer_trace() {
    let server = TestServer::start().await;
    let lines = Lines::default();
    let client = client(TestResolver::new(), tagged(&lines, "layer"));
    let mut req = get(&server.url("127.0.0.1", "/"));
    with_client_trace(&mut req, tagged(&lines, "request"));
    let scope = tagged(&lines, "scope");
    scope
        .scope(async {
            let res = client.request(req).await.unwrap();
            read_body(res.into_body()).await;
        })
        .await;
    assert_eq!(
        *lines.lock().unwrap(),
        [
            "request GetConn",
            "scope GetConn",
            "layer GetConn",
            "request GotConn",
            "scope GotConn",
            "layer GotConn",
            "request PutIdleConn",
            "scope PutIdleConn",
            "layer PutIdleConn",
        ]
    );
}

#[tokio::test]
async fn a_trace_attached_twice_fires_every_hook_twice() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), ClientTrace::new());
    let mut req = get(&server.url("127.0.0.1", "/"));
    with_client_trace(&mut req, log.trace());
    with_client_trace(&mut req, log.trace());
    read_body(client.request(req).await.unwrap().into_body()).await;
    let doubled: Vec<String> = go_fresh_http1_get_by_ip()
        .iter()
        .flat_map(|n| [n.to_string(), n.to_string()])
        .collect();
    assert_eq!(names(&log.events()), doubled);
}

#[tokio::test]
async fn a_request_traced_by_an_outer_layer_is_not_traced_again_by_an_inner_one() {
    use tower::ServiceExt;

    let server = TestServer::start().await;
    let (outer, inner) = (EventLog::new(), EventLog::new());
    let inner_client = client_with::<httptrace_tower::TracedRequestBody<Full<Bytes>>>(
        TestResolver::new(),
        inner.trace(),
    );
    let stack = httptrace_tower::HttpTrace::new(inner_client, outer.trace());
    for round in 0..2 {
        let res = stack
            .clone()
            .oneshot(get(&server.url("127.0.0.1", "/")))
            .await
            .unwrap();
        read_body(res.into_body()).await;
        let expected = if round == 0 {
            go_fresh_http1_get_by_ip()
        } else {
            GO_REUSED_HTTP1_GET.to_vec()
        };
        assert_eq!(names(&outer.take()), expected, "round {round}");
        assert!(
            inner.take().is_empty(),
            "round {round}: the inner layer stood aside"
        );
    }
    // With nothing traced outside, the inner layer traces.
    let res = stack
        .get_ref()
        .request(
            get(&server.url("127.0.0.1", "/")).map(httptrace_tower::TracedRequestBody::untraced),
        )
        .await
        .unwrap();
    read_body(res.into_body()).await;
    assert_eq!(names(&inner.take()), GO_REUSED_HTTP1_GET);
}

/// A request body wrapper that passes on only its frames (no `is_end_stream`, no
/// `size_hint`), as tower-http's `TimeoutBody` does.
struct FramesOnly<B>(B);

impl<B: http_body::Body + Unpin> http_body::Body for FramesOnly<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        std::pin::Pin::new(&mut self.0).poll_frame(cx)
    }
}

#[tokio::test]
async fn a_body_wrapper_that_hides_the_end_of_the_body_does_not_hide_the_hand_off() {
    use tower::ServiceExt;

    let server = TestServer::start().await;
    let log = EventLog::new();
    let pool = pool();
    let wrapped = tower::service_fn(
        move |req: http::Request<httptrace_tower::TracedRequestBody<Full<Bytes>>>| {
            pool.request(req.map(FramesOnly))
        },
    );
    let stack = httptrace_tower::HttpTrace::new(wrapped, log.trace());
    let post = || {
        http::Request::post(server.url("127.0.0.1", "/up"))
            .body(Full::new(Bytes::from_static(b"hello")))
            .unwrap()
    };
    for round in 0..2 {
        let res = stack.clone().oneshot(post()).await.unwrap();
        read_body(res.into_body()).await;
        let expected = go_http1_by_ip(round == 0, &["host", "transfer-encoding"]);
        assert_eq!(names(&log.take()), expected, "round {round}");
    }
    // A GET's body hyper drops unsent: the hand-off still happens (at the drop). Its end is
    // hidden, though, so `WroteRequest`, which waits for it, does not come.
    let res = stack
        .clone()
        .oneshot(get(&server.url("127.0.0.1", "/")))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    assert_eq!(
        names(&log.take()),
        [
            "GetConn",
            "GotConn",
            "WroteHeaderField(host)",
            "WroteHeaders",
            "GotFirstResponseByte",
            "PutIdleConn",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_hooks_do_not_take_the_request_or_the_connection_down() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let bomb = ClientTrace::new()
        .on_got_conn(|_| panic!("bug in a GotConn hook"))
        .on_wrote_headers(|| panic!("bug in a WroteHeaders hook"))
        .on_put_idle_conn(|_| panic!("bug in a PutIdleConn hook"));
    let (client, dials) = held_client(TestResolver::new(), log.trace());
    let before = hook_panics();

    let mut req = get(&server.url("127.0.0.1", "/"));
    with_client_trace(&mut req, bomb.clone());
    let res = client
        .request(req)
        .await
        .expect("the request survives its hooks");
    assert_eq!(read_body(res.into_body()).await, "ok");
    assert_eq!(hook_panics() - before, 3);
    // The layer's own trace, composed after the panicking one, saw everything.
    assert_eq!(names(&log.take()), go_fresh_http1_get_by_ip());
    // The connection was not harmed: with new dials held, the next request can only be
    // served by it.
    let next = get_from_the_pool(&client, &dials, &server.url("127.0.0.1", "/"), &log).await;
    assert!(got_conn(&next).reused);
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn a_relative_url_fires_no_hook_and_gets_the_clients_error() {
    let log = EventLog::new();
    let err = client(TestResolver::new(), log.trace())
        .request(get("/just/a/path"))
        .await
        .unwrap_err();
    assert!(log.events().is_empty(), "{:?}", log.names());
    let plain = untraced_client(TestResolver::new())
        .request(get("/just/a/path"))
        .await
        .unwrap_err();
    assert_eq!(error_chain(&err), error_chain(&plain));
}

#[tokio::test]
async fn an_unsupported_scheme_fires_no_hook_and_says_so() {
    let log = EventLog::new();
    let err = client(TestResolver::new(), log.trace())
        .request(get("ftp://127.0.0.1:2121/file"))
        .await
        .unwrap_err();
    assert!(log.events().is_empty(), "{:?}", log.names());
    let chain = error_chain(&err);
    assert!(
        chain.iter().any(|m| m == "unsupported URL scheme \"ftp\""),
        "{chain:?}"
    );
}

#[tokio::test]
async fn a_request_without_any_trace_is_passed_through_untouched() {
    let server = TestServer::start().await;
    let client = client(TestResolver::new(), ClientTrace::new());
    let res = client
        .request(get(&server.url("127.0.0.1", "/")))
        .await
        .unwrap();
    assert_eq!(read_body(res.into_body()).await, "ok");
    assert!(server.seen()[0].headers.get("host").is_some());
}

#[tokio::test]
async fn concurrent_lookups_of_one_name_share_a_query() {
    let server = TestServer::start().await;
    let (resolver, gate) = TestResolver::new()
        .with("shared.test", &["127.0.0.1"])
        .gated();
    let client = Arc::new(client(resolver.clone(), ClientTrace::new()));
    let logs = [EventLog::new(), EventLog::new()];
    let mut tasks = Vec::new();
    for log in &logs {
        let mut req = get(&server.url("shared.test", "/"));
        with_client_trace(&mut req, log.trace());
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            read_body(client.request(req).await.unwrap().into_body()).await
        }));
    }
    eventually("both lookups to start", || {
        logs.iter().all(|l| l.names().contains(&"DNSStart"))
    })
    .await;
    gate.add_permits(1);
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(resolver.query_count(), 1, "one query for both");
    let coalesced: Vec<bool> = logs
        .iter()
        .map(|l| {
            l.events()
                .iter()
                .find_map(|e| match &e.kind {
                    httptrace::EventKind::DnsDone(d) => Some(d.coalesced),
                    _ => None,
                })
                .unwrap()
        })
        .collect();
    let mut sorted = coalesced.clone();
    sorted.sort();
    assert_eq!(sorted, [false, true], "{coalesced:?}");
}

#[tokio::test]
async fn the_layer_traces_a_stack_driven_through_tower() {
    use httptrace_tower::HttpTraceLayer;
    use tower::{Layer, ServiceExt};

    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = pool();
    let service = HttpTraceLayer::new(log.trace()).layer(client);
    for _ in 0..2 {
        let res = service
            .clone()
            .oneshot(get(&server.url("127.0.0.1", "/")))
            .await
            .unwrap();
        assert_eq!(read_body(res.into_body()).await, "ok");
    }
    let events = log.take();
    assert_eq!(names(&events).iter().filter(|n| *n == "GotConn").count(), 2);
    let reused: Vec<bool> = events
        .iter()
        .filter_map(|e| match &e.kind {
            httptrace::EventKind::GotConn(g) => Some(g.reused),
            _ => None,
        })
        .collect();
    assert_eq!(reused, [false, true]);
    assert_eq!(names(&events).last().unwrap(), "PutIdleConn");
}

#[tokio::test]
async fn a_trace_guard_held_across_an_await_inside_the_layer_neither_panics_nor_lingers() {
    let server = TestServer::start().await;
    let pool = pool::<TracedRequestBody<Full<Bytes>>>();
    let held = ClientTrace::new().on_wrote_headers(|| {});
    let inner = tower::service_fn(move |req: http::Request<TracedRequestBody<Full<Bytes>>>| {
        let (pool, held) = (pool.clone(), held.clone());
        async move {
            // Entered in one poll of the layer's future, dropped in a later one.
            let _guard = held.enter();
            tokio::task::yield_now().await;
            pool.request(req).await
        }
    });
    let log = EventLog::new();
    let client = HttpTrace::new(inner, log.trace());
    for _ in 0..2 {
        let res = within(
            "the request",
            client.clone().oneshot(get(&server.url("127.0.0.1", "/"))),
        )
        .await
        .unwrap();
        assert_eq!(read_body(res.into_body()).await, "ok");
        assert!(
            httptrace::current_trace().is_none(),
            "nothing stays in effect on the thread"
        );
        assert_well_formed(&log.take());
    }
}

#[tokio::test]
async fn the_traced_response_body_tells_its_end_and_size_as_the_inner_one_does() {
    use http_body::Body as _;
    let server = TestServer::with_handler(|seen: &Seen| {
        let body = if seen.path == "/empty" { "" } else { "ok" };
        http::Response::new(Full::new(Bytes::from(body)))
    })
    .await;
    let client = client(TestResolver::new(), EventLog::new().trace());
    let res = client
        .request(get(&server.url("127.0.0.1", "/")))
        .await
        .unwrap();
    let body = res.into_body();
    assert_eq!(body.size_hint().exact(), Some(2));
    assert!(!body.is_end_stream(), "nothing read yet");
    assert_eq!(read_body(body).await, "ok");
    let res = client
        .request(get(&server.url("127.0.0.1", "/empty")))
        .await
        .unwrap();
    let body = res.into_body();
    assert_eq!(body.size_hint().exact(), Some(0));
    assert!(body.is_end_stream(), "an empty body is at its end");
}

/// The dialer, like hyper-util's `HttpConnector`, refuses `https` unless told
/// `enforce_http(false)` (a TLS connector around it tells it so).
#[tokio::test]
async fn the_dialer_refuses_https_unless_told_not_to_enforce_http() {
    use tower::Service;
    let server = TestServer::start().await;
    let uri: http::Uri = format!("https://127.0.0.1:{}/", server.port())
        .parse()
        .unwrap();
    let mut enforcing = dialer(TestResolver::new());
    let err = enforcing.call(uri.clone()).await.unwrap_err();
    assert!(
        matches!(err, httptrace_tower::ConnectError::UnsupportedScheme(ref s) if s == "https"),
        "{err:?}"
    );
    let mut lenient = dialer(TestResolver::new());
    lenient.enforce_http(false);
    assert!(lenient.call(uri).await.is_ok());
}

/// `TraceConnector` and `TraceTlsConnector` are as ready as the connector they wrap, and
/// the connection `TraceConnector` yields
/// forwards hyper's shutdown and names itself in `Debug`.
#[tokio::test]
async fn the_traced_connector_and_connection_forward_readiness_and_shutdown() {
    use std::future::poll_fn;
    use std::task::Poll;
    use tokio::io::AsyncReadExt;
    use tower::Service;

    let mut closed = httptrace_tower::TraceConnector::new(tower::limit::ConcurrencyLimit::new(
        dialer(TestResolver::new()),
        0,
    ));
    let readiness = poll_fn(|cx| Poll::Ready(closed.poll_ready(cx).is_pending())).await;
    assert!(readiness, "no permit: not ready");
    let mut closed_tls = httptrace_tower::TraceTlsConnector::new(
        tower::limit::ConcurrencyLimit::new(dialer(TestResolver::new()), 0),
        TestPki::new("test CA").client_config(&[b"http/1.1"]),
    );
    let readiness = poll_fn(|cx| Poll::Ready(closed_tls.poll_ready(cx).is_pending())).await;
    assert!(readiness, "the TLS connector neither");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri: http::Uri = format!("http://{}/", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let mut connector = httptrace_tower::TraceConnector::new(dialer(TestResolver::new()));
    poll_fn(|cx| connector.poll_ready(cx)).await.unwrap();
    let (conn, accepted) = tokio::join!(connector.call(uri), listener.accept());
    let (mut conn, mut server) = (conn.unwrap(), accepted.unwrap().0);
    assert!(
        format!("{conn:?}").starts_with("TracedConnection"),
        "{conn:?}"
    );
    assert_shuts_down(&mut conn).await;
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).await.unwrap();
    assert!(
        rest.is_empty(),
        "the server reads the end while the client holds it"
    );
    drop(conn);
}

/// A stack whose error is `BoxError` (tower's `Timeout`, behind a `BoxCloneService`) takes
/// the layer: requests are traced, and a timeout is the service's error, as it was.
#[tokio::test]
async fn the_layer_goes_over_a_box_error_stack() {
    use std::time::Duration;
    use tower::timeout::error::Elapsed;
    use tower::util::BoxCloneService;

    let inner = BoxCloneService::new(tower::timeout::Timeout::new(
        pool::<TracedRequestBody<Full<Bytes>>>(),
        Duration::from_millis(300),
    ));
    let log = EventLog::new();
    let client = HttpTrace::new(inner, log.trace());
    let server = TestServer::start().await;
    let res = within(
        "the request",
        client.clone().oneshot(get(&server.url("127.0.0.1", "/"))),
    )
    .await
    .unwrap();
    read_body(res.into_body()).await;
    assert_eq!(names(&log.take()), go_fresh_http1_get_by_ip());

    // A server that never answers: the timeout fires, and says so through the layer.
    let (silent, _server) = misbehaving_server(b"", false, true).await;
    let err = within(
        "the timeout",
        client.oneshot(get(&format!("http://{silent}/"))),
    )
    .await
    .unwrap_err();
    assert!(err.service_error_as::<Elapsed>().is_some(), "{err:?}");
    assert_eq!(err.to_string(), "request timed out");
    // The request was written; no answer came.
    let events = log.take();
    let EventKind::WroteRequest(wrote) = &events.last().unwrap().kind else {
        panic!("{:?}", names(&events))
    };
    assert!(wrote.err.is_none());
}
