//! OpenTelemetry (feature `opentelemetry`): the span tree and attributes of a fresh TLS
//! request and of a reused one, and the HTTP client and DNS metrics, through the SDK's
//! in-memory exporters.
#![cfg(feature = "opentelemetry")]

use std::collections::HashMap;

use bytes::Bytes;
use http_body_util::Full;
use httptrace_otel::OtelLayer;
use httptrace_tower::connect::TraceTlsConnector;
use httptrace_tower::{HttpTraceLayer, TraceConnector, TracedRequestBody};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use support::*;
use tower::{ServiceBuilder, ServiceExt};

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// The names of `parent`'s children, in the order they started.
fn children<'a>(spans: &'a [SpanData], parent: &SpanData) -> Vec<&'a SpanData> {
    let mut kids: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.parent_span_id == parent.span_context.span_id())
        .collect();
    kids.sort_by_key(|s| s.start_time);
    kids
}

fn names(spans: &[&SpanData]) -> Vec<String> {
    spans.iter().map(|s| s.name.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_per_phase_under_the_request_span_and_the_client_metrics() {
    let pki = TestPki::new("test CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["api.test"], false), &[b"h2"])).await;
    let mut dialer = dialer(TestResolver::new().with("api.test", &["127.0.0.1"]));
    dialer.enforce_http(false).set_nodelay(true);
    let pool: Client<_, TracedRequestBody<Full<Bytes>>> = Client::builder(TokioExecutor::new())
        .build(TraceConnector::new(TraceTlsConnector::new(
            dialer,
            pki.client_config(&[b"h2"]),
        )));

    let (spans_out, tracer_provider, metrics_out, meter_provider) = in_memory_sdk();
    let otel = OtelLayer::new(
        BoxedTracer::new(Box::new(tracer_provider.tracer("test"))),
        &meter_provider.meter("test"),
    );
    let client = ServiceBuilder::new()
        .layer(otel)
        .layer(HttpTraceLayer::default())
        .service(pool);

    let url = server.url("api.test", "/");
    for _ in 0..2 {
        let res = within("the request", client.clone().oneshot(get(&url)))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        read_body(res.into_body()).await;
    }
    // Between requests, the one connection is idle.
    meter_provider.force_flush().unwrap();
    assert_eq!(
        open_by_state(&metrics_out),
        HashMap::from([("active".to_owned(), 0), ("idle".to_owned(), 1)])
    );
    drop(client);
    eventually("the connection's close to be measured", || {
        meter_provider.force_flush().unwrap();
        metrics_out
            .get_finished_metrics()
            .unwrap()
            .iter()
            .any(|rm| {
                rm.scope_metrics()
                    .flat_map(|s| s.metrics())
                    .any(|m| m.name() == "http.client.connection.duration")
            })
    })
    .await;
    tracer_provider.force_flush().unwrap();

    // Spans: two request spans, each with its phases under it.
    let spans = spans_out.get_finished_spans().unwrap();
    let mut requests: Vec<&SpanData> = spans.iter().filter(|s| s.name == "GET").collect();
    requests.sort_by_key(|s| s.start_time);
    assert_eq!(
        requests.len(),
        2,
        "{:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    let port = i64::from(server.port());
    for request in &requests {
        assert_eq!(request.span_kind, SpanKind::Client);
        assert_eq!(request.status, Status::Unset);
        assert_eq!(
            attr(request, "http.request.method"),
            Some(&Value::from("GET"))
        );
        assert_eq!(
            attr(request, "server.address"),
            Some(&Value::from("api.test"))
        );
        assert_eq!(attr(request, "server.port"), Some(&Value::from(port)));
        assert_eq!(attr(request, "url.full"), Some(&Value::from(url.clone())));
        assert_eq!(
            attr(request, "http.response.status_code"),
            Some(&Value::from(200i64))
        );
        assert_eq!(
            attr(request, "network.protocol.version"),
            Some(&Value::from("2"))
        );
        assert_eq!(
            names(&children(&spans, request)),
            ["http.getconn", "http.send", "http.receive"]
        );
        let receive = children(&spans, request)[2];
        assert_eq!(
            attr(receive, "http.response.body.size"),
            Some(&Value::from(2i64))
        );
    }

    // The fresh request dialled: DNS, connect and TLS under its getconn.
    let fresh = children(&spans, requests[0])[0];
    assert_eq!(
        attr(fresh, "httptrace.conn.reused"),
        Some(&Value::from(false))
    );
    assert_eq!(
        attr(fresh, "network.peer.address"),
        Some(&Value::from("127.0.0.1"))
    );
    let dial = children(&spans, fresh);
    assert_eq!(names(&dial), ["http.dns", "http.connect", "http.tls"]);
    assert_eq!(
        attr(dial[0], "dns.question.name"),
        Some(&Value::from("api.test"))
    );
    assert_eq!(
        attr(dial[0], "dns.answers"),
        Some(&Value::Array(
            vec![opentelemetry::StringValue::from("127.0.0.1")].into()
        ))
    );
    assert_eq!(attr(dial[1], "network.peer.port"), Some(&Value::from(port)));
    assert_eq!(
        attr(dial[2], "tls.protocol.version"),
        Some(&Value::from("1.3"))
    );
    assert_eq!(
        attr(dial[2], "server.address"),
        Some(&Value::from("api.test"))
    );
    assert_eq!(attr(dial[2], "tls.resumed"), Some(&Value::from(false)));

    // The reused one did not.
    let reused = children(&spans, requests[1])[0];
    assert_eq!(
        attr(reused, "httptrace.conn.reused"),
        Some(&Value::from(true))
    );
    assert!(children(&spans, reused).is_empty());

    // Metrics: how many of each, and where open connections ended.
    let finished = metrics_out.get_finished_metrics().unwrap();
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut open = None;
    for metric in finished
        .iter()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|s| s.metrics())
    {
        match metric.data() {
            AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                let n: u64 = h.data_points().map(|p| p.count()).sum();
                let seen = counts.entry(metric.name().to_owned()).or_default();
                *seen = (*seen).max(n);
            }
            AggregatedMetrics::I64(MetricData::Sum(s))
                if metric.name() == "http.client.open_connections" =>
            {
                open = Some(s.data_points().map(|p| p.value()).sum::<i64>());
            }
            _ => {}
        }
    }
    assert_eq!(counts.get("http.client.request.duration"), Some(&2));
    assert_eq!(counts.get("dns.lookup.duration"), Some(&1));
    assert_eq!(counts.get("http.client.connection.duration"), Some(&1));
    assert_eq!(
        open,
        Some(0),
        "the one connection was counted open, then closed"
    );
    assert_eq!(
        open_by_state(&metrics_out),
        HashMap::from([("active".to_owned(), 0), ("idle".to_owned(), 0)])
    );
}

/// The SDK exporting into memory: each span as it ends, the metrics at each flush of the
/// meter provider.
pub(super) fn in_memory_sdk() -> (
    InMemorySpanExporter,
    SdkTracerProvider,
    InMemoryMetricExporter,
    SdkMeterProvider,
) {
    let spans_out = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans_out.clone())
        .build();
    let metrics_out = InMemoryMetricExporter::default();
    let meter_provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(metrics_out.clone()).build())
        .build();
    (spans_out, tracer_provider, metrics_out, meter_provider)
}

/// `http.client.open_connections` by `http.connection.state`, in the last export.
fn open_by_state(metrics_out: &InMemoryMetricExporter) -> HashMap<String, i64> {
    let finished = metrics_out.get_finished_metrics().unwrap();
    let mut by_state = HashMap::new();
    let last = finished.last().expect("an export");
    for metric in last.scope_metrics().flat_map(|s| s.metrics()) {
        if let AggregatedMetrics::I64(MetricData::Sum(sum)) = metric.data() {
            if metric.name() != "http.client.open_connections" {
                continue; // `http.client.active_requests`
            }
            for point in sum.data_points() {
                let state = point
                    .attributes()
                    .find(|kv| kv.key.as_str() == "http.connection.state")
                    .expect("every point has its state")
                    .value
                    .as_str()
                    .into_owned();
                *by_state.entry(state).or_default() += point.value();
            }
        }
    }
    by_state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_ends_its_open_spans_with_why() {
    // Reads the request and never answers.
    let (addr, _server) = misbehaving_server(b"", false, true).await;
    let spans_out = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans_out.clone())
        .build();
    let meter_provider = SdkMeterProvider::builder().build();
    let otel = OtelLayer::new(
        BoxedTracer::new(Box::new(tracer_provider.tracer("test"))),
        &meter_provider.meter("test"),
    );
    let pool: Client<_, TracedRequestBody<Full<Bytes>>> = Client::builder(TokioExecutor::new())
        .build(TraceConnector::new(dialer(TestResolver::new())));
    let client = ServiceBuilder::new()
        .layer(otel)
        .layer(HttpTraceLayer::default())
        .service(pool);
    let waiting = client.oneshot(get(&format!("http://{addr}/")));
    assert!(
        tokio::time::timeout(std::time::Duration::from_millis(200), waiting)
            .await
            .is_err()
    );
    tracer_provider.force_flush().unwrap();
    let spans = spans_out.get_finished_spans().unwrap();
    let request = spans
        .iter()
        .find(|s| s.name == "GET")
        .expect("the request span ended");
    assert_eq!(
        request.status,
        Status::error("the request was dropped before its response")
    );
    assert_eq!(
        names(&children(&spans, request)),
        ["http.getconn", "http.send"],
        "the connection was got and the request sent; no answer came"
    );
    let send = children(&spans, request)[1];
    assert_eq!(
        send.status,
        Status::Unset,
        "the request was written in full"
    );
}

/// An `OtelLayer` whose spans go to the returned in-memory exporter as each ends (its
/// metrics nowhere).
fn spans_only() -> (OtelLayer, InMemorySpanExporter) {
    let spans_out = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(spans_out.clone())
        .build();
    let otel = OtelLayer::new(
        BoxedTracer::new(Box::new(tracer_provider.tracer("test"))),
        &SdkMeterProvider::builder().build().meter("test"),
    );
    (otel, spans_out)
}

#[tokio::test]
async fn the_request_span_ends_and_nothing_of_it_is_kept_while_its_connection_stays_pooled() {
    use opentelemetry::context::FutureExt as _;
    /// Something of the caller's, in the context the request is sent from.
    struct CallersThing(#[allow(dead_code)] std::sync::Arc<()>);

    let server = TestServer::start().await;
    for http2 in [false, true] {
        let (otel, spans_out) = spans_only();
        let pool: Client<_, TracedRequestBody<Full<Bytes>>> = Client::builder(TokioExecutor::new())
            .http2_only(http2)
            .build(TraceConnector::new(dialer(TestResolver::new())));
        let client = ServiceBuilder::new()
            .layer(otel)
            .layer(HttpTraceLayer::default())
            .service(pool);
        let thing = std::sync::Arc::new(());
        let cx = opentelemetry::Context::current_with_value(CallersThing(thing.clone()));
        let res = within(
            "the request",
            client
                .clone()
                .oneshot(get(&server.url("127.0.0.1", "/")))
                .with_context(cx),
        )
        .await
        .unwrap();
        assert_eq!(res.version() == http::Version::HTTP_2, http2);
        read_body(res.into_body()).await;
        // The request's span has ended, and nothing of the request is kept...
        let ended = spans_out.get_finished_spans().unwrap();
        assert!(ended.iter().any(|s| s.name == "GET"), "http2 {http2}");
        eventually("the caller's context to be let go", || {
            std::sync::Arc::strong_count(&thing) == 1
        })
        .await;
        // ...while its connection stayed in the pool: the next request reuses it.
        let res = within(
            "the second request",
            client.clone().oneshot(get(&server.url("127.0.0.1", "/"))),
        )
        .await
        .unwrap();
        read_body(res.into_body()).await;
        let spans = spans_out.get_finished_spans().unwrap();
        let reused: Vec<_> = spans
            .iter()
            .filter(|s| s.name == "http.getconn")
            .map(|s| attr(s, "httptrace.conn.reused").cloned())
            .collect();
        assert_eq!(
            reused,
            [Some(Value::Bool(false)), Some(Value::Bool(true))],
            "http2 {http2}"
        );
        drop(client);
    }
}

#[tokio::test]
async fn url_full_has_no_credentials_nor_signature_values() {
    let server = secret_server().await;
    for reveal in [false, true] {
        let (otel, spans_out) = spans_only();
        let otel = if reveal { otel.reveal_secrets() } else { otel };
        let client = ServiceBuilder::new()
            .layer(otel)
            .layer(HttpTraceLayer::default())
            .service(pool());
        let res = within(
            "the request",
            client.oneshot(secret_request(&secret_url(&server))),
        )
        .await
        .unwrap();
        read_body(res.into_body()).await;
        let spans = spans_out.get_finished_spans().unwrap();
        let request = spans.iter().find(|s| s.name == "GET").unwrap();
        let url = attr(request, "url.full").unwrap().as_str().into_owned();
        let port = server.port();
        if reveal {
            // Signatures only when asked; credentials never (the conventions say MUST NOT).
            assert_eq!(
                url,
                format!("http://REDACTED:REDACTED@127.0.0.1:{port}/path?X-Amz-Signature=s1gnature&AWSAccessKeyId=AKIDsecret&x-goog-signature=g00gsig&plain=1")
            );
        } else {
            assert_eq!(
                url,
                format!("http://REDACTED:REDACTED@127.0.0.1:{port}/path?X-Amz-Signature=REDACTED&AWSAccessKeyId=REDACTED&x-goog-signature=REDACTED&plain=1")
            );
            assert_no_secret("the spans", &format!("{spans:?}"));
        }
    }
}

#[tokio::test]
async fn an_http2_stream_has_its_place_and_its_reset_as_span_events() {
    use support::h2_raw::{raw_h2_server, Act};
    let server = raw_h2_server(|_, _| Act::Reset(0x2)).await;
    let (otel, spans_out) = spans_only();
    let pool: Client<_, TracedRequestBody<Full<Bytes>>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build(TraceConnector::new(dialer(TestResolver::new())));
    let client = ServiceBuilder::new()
        .layer(otel)
        .layer(HttpTraceLayer::default())
        .service(pool);
    let mut req = get(&format!("http://{}/", server.addr));
    *req.version_mut() = http::Version::HTTP_2;
    let result = within("the request", client.oneshot(req)).await;
    assert!(result.is_err());
    let spans = spans_out.get_finished_spans().unwrap();
    let event = |span: &str, event: &str| {
        let span = spans.iter().find(|s| s.name == span).expect(span);
        let found = span.events.iter().find(|e| e.name == event).expect(event);
        found
            .attributes
            .iter()
            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect::<HashMap<_, _>>()
    };
    let opened = event("http.send", "http2.stream.opened");
    assert!(opened.contains_key("http2.stream.waited_ms"), "{opened:?}");
    assert_eq!(
        opened["http2.max_concurrent_streams"], "-1",
        "the server sent no limit"
    );
    let reset = event("GET", "http2.stream.reset");
    assert_eq!(reset["http2.error_code"], "INTERNAL_ERROR");
    assert_eq!(reset["http2.frame"], "RST_STREAM");
    assert_eq!(reset["http2.sender"], "server");
}
