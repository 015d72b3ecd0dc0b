//! axum (feature `axum`): a handler calls another service through a traced client and
//! answers with that call's hooks and timings; both services run on loopback.
#![cfg(feature = "axum")]

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use support::*;

/// An upstream server, and the axum service calling it at `upstream_path` on 127.0.0.1 with
/// the default `Server-Timing` layer: the upstream, the service's URL for `path`, and the
/// service's task.
async fn start(
    upstream_path: &str,
    path: &str,
) -> (
    TestServer,
    String,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    start_with(
        upstream_path,
        path,
        httptrace_tower::ServerTimingLayer::new(),
    )
    .await
}

/// [`start`] with the `Server-Timing` layer given.
async fn start_with(
    upstream_path: &str,
    path: &str,
    server_timing: httptrace_tower::ServerTimingLayer,
) -> (
    TestServer,
    String,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let upstream = TestServer::start().await;
    let upstream_url = upstream.url("127.0.0.1", upstream_path);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service = format!("http://{}{path}", listener.local_addr().unwrap());
    let app = httptrace_suite::integrations::axum::router_with(&upstream_url, server_timing);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    (upstream, service, server)
}

/// GET `service` with a plain client; the response, which must be a 200.
async fn call(service: &str) -> http::Response<hyper::body::Incoming> {
    call_with(service, &[]).await
}

/// GET `service` with the header fields given; the response, which must be a 200.
async fn call_with(
    service: &str,
    fields: &[(&'static str, &'static str)],
) -> http::Response<hyper::body::Incoming> {
    let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .build_http::<Empty<Bytes>>();
    let mut req = http::Request::get(service).body(Empty::new()).unwrap();
    for (name, value) in fields {
        req.headers_mut().insert(*name, value.parse().unwrap());
    }
    let res = within("the call to axum", client.request(req))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res
}

/// The `Server-Timing` metrics of `res`: each name with its parameters, in order.
fn server_timing(
    res: &http::Response<hyper::body::Incoming>,
) -> (String, Vec<(String, Vec<String>)>) {
    let value = res.headers()["server-timing"].to_str().unwrap().to_owned();
    let metrics = value
        .split(", ")
        .map(|m| {
            let mut parts = m.split(';').map(str::to_owned);
            (parts.next().unwrap(), parts.collect())
        })
        .collect();
    (value, metrics)
}

/// Asks the axum service for `/inventory`; its JSON answer.
async fn inventory(service: &str) -> Value {
    let res = call(service).await;
    let body = res.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&body).unwrap()
}

fn event_names(answer: &Value) -> Vec<String> {
    answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| match e["event"].as_str().unwrap() {
            "WroteHeaderField" => format!("WroteHeaderField({})", e["key"].as_str().unwrap()),
            name => name.to_owned(),
        })
        .collect()
}

fn event<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == name)
        .unwrap_or_else(|| panic!("no {name} in {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_reports_its_outbound_calls_hooks_and_timings() {
    let (upstream, service, server) = start("/stock", "/inventory").await;

    let first = inventory(&service).await;
    assert_eq!(first["upstream_status"], 200);
    // The fresh request's hooks, its one header field (`host`) after `GotConn`.
    let mut expected: Vec<String> = FRESH_HTTP1_GET.iter().map(|n| n.to_string()).collect();
    expected.insert(4, "WroteHeaderField(host)".to_owned());
    assert_eq!(event_names(&first), expected);
    let host_port = format!("127.0.0.1:{}", upstream.port());
    assert_eq!(event(&first, "GetConn")["host_port"], host_port.as_str());
    assert_eq!(event(&first, "ConnectDone")["addr"], host_port.as_str());
    assert_eq!(event(&first, "GotConn")["reused"], false);
    assert_eq!(event(&first, "ResponseBodyDone")["bytes"], 2);
    assert!(event(&first, "PutIdleConn")["err"].is_null());
    let timings = &first["timings"];
    assert_eq!(timings["reused"], false);
    assert!(timings["connect_us"].is_u64());
    assert_eq!(timings["remote_addr"], host_port.as_str());
    assert_eq!(timings["response_body_bytes"], 2);

    // The handler's client keeps its pool: the second call reuses the connection.
    let second = inventory(&service).await;
    assert_eq!(
        event_names(&second)[..2],
        ["GetConn".to_owned(), "GotConn".to_owned()]
    );
    assert_eq!(event(&second, "GotConn")["reused"], true);
    assert_eq!(second["timings"]["reused"], true);
    assert!(second["timings"]["connect_us"].is_null());
    assert_eq!(upstream.connection_count(), 1);
    server.abort();
}

/// The metric names a fresh connection's call, then the same connection reused, give.
const TWO_CALLS: [&str; 11] = [
    "up1",
    "up1-queue",
    "up1-connect",
    "up1-send",
    "up1-wait",
    "up1-receive",
    "up2",
    "up2-queue",
    "up2-send",
    "up2-wait",
    "up2-receive",
];

/// Every duration is milliseconds with three decimals.
fn assert_durations(value: &str, metrics: &[(String, Vec<String>)]) {
    for (name, params) in metrics {
        let dur = params[0]
            .strip_prefix("dur=")
            .unwrap_or_else(|| panic!("{name}: {value}"));
        let ms: f64 = dur.parse().unwrap();
        assert!(
            ms >= 0.0 && dur.split('.').nth(1).unwrap().len() == 3,
            "{name}: {value}"
        );
    }
}

/// By default the router's `ServerTimingLayer` answers with where the handler's outbound
/// calls spent their time, by durations and generic names only: nothing says where the
/// calls went (no host, address, port, path or query), and the handler's own metric comes
/// first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_tells_the_handlers_outbound_timings_and_nothing_of_where_they_went() {
    let (upstream, service, server) = start("/stock?X-Amz-Signature=secret", "/checkout").await;
    let res = call(&service).await;
    let (value, metrics) = server_timing(&res);
    for leak in [
        "secret",
        "stock",
        "127.0.0.1",
        &upstream.port().to_string(),
        "GET",
        "desc=\"G",
    ] {
        assert!(!value.contains(leak), "{leak} in {value}");
    }
    let names: Vec<&str> = metrics.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = vec!["checkout"];
    expected.extend(TWO_CALLS);
    assert_eq!(names, expected, "{value}");
    assert_eq!(metrics[0].1[1], "desc=\"the whole checkout\"", "{value}");
    for (name, params) in &metrics[1..] {
        assert_eq!(params.len(), 1, "{name} has a duration only: {value}");
    }
    assert_durations(&value, &metrics);
    server.abort();
}

/// With `describe_calls` each call's total names its method and `host:port` (still no path
/// or query), and `only_when` gives the header only to the requests it accepts: the others
/// get none, their handler's own metric included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn described_calls_go_only_to_the_requests_the_predicate_accepts() {
    let layer = httptrace_tower::ServerTimingLayer::new()
        .describe_calls()
        .only_when(|head| head.headers.contains_key("x-internal-debug"));
    let (upstream, service, server) = start_with("/stock?sig=secret", "/checkout", layer).await;

    let res = call_with(&service, &[("x-internal-debug", "1")]).await;
    let (value, metrics) = server_timing(&res);
    assert!(
        !value.contains("secret") && !value.contains("stock"),
        "{value}"
    );
    let names: Vec<&str> = metrics.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = vec!["checkout"];
    expected.extend(TWO_CALLS);
    assert_eq!(names, expected, "{value}");
    let desc = format!("desc=\"GET 127.0.0.1:{}\"", upstream.port());
    for (name, params) in &metrics[1..] {
        if !name.contains('-') {
            assert_eq!(params[1], desc, "{value}");
        }
    }
    assert_durations(&value, &metrics);

    let res = call(&service).await;
    assert!(
        res.headers().get("server-timing").is_none(),
        "{:?}",
        res.headers()
    );
    server.abort();
}
