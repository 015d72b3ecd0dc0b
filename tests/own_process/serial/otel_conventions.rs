//! OpenTelemetry (feature `opentelemetry`) to the letter of the HTTP client semantic
//! conventions, through the SDK's in-memory exporters: every attribute of a request span,
//! the histograms' bucket boundaries, `error.type` on a refused connection and on a 500,
//! `http.request.resend_count` on a redirect, and the `traceparent` the server receives.
#![cfg(feature = "opentelemetry")]

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use httptrace_otel::{OtelLayer, LONG_BUCKETS, SHORT_BUCKETS};
use httptrace_tower::{CallTraceLayer, HttpTraceLayer};
use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use support::*;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::follow_redirect::FollowRedirectLayer;

/// Per histogram: its bucket boundaries, and its points' attributes as text.
type Histograms = BTreeMap<String, (Vec<f64>, Vec<BTreeMap<String, String>>)>;

/// A layer whose spans and metrics go to in-memory exporters.
struct Exported {
    layer: OtelLayer,
    spans: InMemorySpanExporter,
    tracer_provider: SdkTracerProvider,
    metrics: InMemoryMetricExporter,
    meter_provider: SdkMeterProvider,
}

impl Exported {
    fn new() -> Self {
        let spans = InMemorySpanExporter::default();
        let tracer_provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let metrics = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        let layer = OtelLayer::new(
            BoxedTracer::new(Box::new(tracer_provider.tracer("test"))),
            &meter_provider.meter("test"),
        );
        Exported {
            layer,
            spans,
            tracer_provider,
            metrics,
            meter_provider,
        }
    }

    fn request_spans(&self) -> Vec<SpanData> {
        self.tracer_provider.force_flush().unwrap();
        let mut spans: Vec<SpanData> = self
            .spans
            .get_finished_spans()
            .unwrap()
            .into_iter()
            .filter(|s| s.span_kind == SpanKind::Client)
            .collect();
        spans.sort_by_key(|s| s.start_time);
        spans
    }

    /// Each histogram's bucket boundaries and its points' attributes, in the last export.
    fn histograms(&self) -> Histograms {
        self.meter_provider.force_flush().unwrap();
        let finished = self.metrics.get_finished_metrics().unwrap();
        let mut out = BTreeMap::new();
        for metric in finished
            .last()
            .unwrap()
            .scope_metrics()
            .flat_map(|s| s.metrics())
        {
            if let AggregatedMetrics::F64(MetricData::Histogram(h)) = metric.data() {
                let mut bounds = Vec::new();
                let mut points = Vec::new();
                for point in h.data_points() {
                    bounds = point.bounds().collect();
                    points.push(
                        point
                            .attributes()
                            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                            .collect(),
                    );
                }
                out.insert(metric.name().to_owned(), (bounds, points));
            }
        }
        out
    }
}

/// A span's attributes, as text.
fn attributes(span: &SpanData) -> BTreeMap<String, String> {
    span.attributes
        .iter()
        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
        .collect()
}

fn expected(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attribute_of_a_request_span_the_buckets_and_the_traceparent_sent() {
    let _serial = super::one_at_a_time().await;
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let server = TestServer::start().await;
    let otel = Exported::new();
    let client = ServiceBuilder::new()
        .layer(otel.layer.clone())
        .layer(HttpTraceLayer::default())
        .service(pool());
    let url = server.url("127.0.0.1", "/");
    let res = within("the request", client.clone().oneshot(get(&url)))
        .await
        .unwrap();
    read_body(res.into_body()).await;

    let spans = otel.request_spans();
    assert_eq!(spans.len(), 1);
    let span = &spans[0];
    assert_eq!(span.name, "GET");
    assert_eq!(span.status, Status::Unset);
    let port = server.port();
    assert_eq!(
        attributes(span),
        expected(&[
            ("http.request.method", "GET".into()),
            ("url.full", url.clone()),
            ("server.address", "127.0.0.1".into()),
            ("server.port", port.to_string()),
            ("network.peer.address", "127.0.0.1".into()),
            ("network.peer.port", port.to_string()),
            ("http.response.status_code", "200".into()),
            ("network.protocol.version", "1.1".into()),
            ("http.request.body.size", "0".into()),
            ("http.response.body.size", "2".into()),
        ])
    );

    // The server received the span's context: same trace, the client span as parent.
    let seen = server.seen();
    let traceparent = seen[0].headers["traceparent"].to_str().unwrap();
    let cx = &span.span_context;
    assert_eq!(
        traceparent,
        format!("00-{}-{}-01", cx.trace_id(), cx.span_id())
    );

    let histograms = otel.histograms();
    let (bounds, points) = &histograms["http.client.request.duration"];
    assert_eq!(bounds, &SHORT_BUCKETS);
    assert_eq!(
        points,
        &[expected(&[
            ("http.request.method", "GET".into()),
            ("server.address", "127.0.0.1".into()),
            ("server.port", port.to_string()),
            ("http.response.status_code", "200".into()),
            ("network.protocol.version", "1.1".into()),
        ])]
    );
    drop(client);
    eventually("the connection's close to be measured", || {
        otel.histograms()
            .contains_key("http.client.connection.duration")
    })
    .await;
    let histograms = otel.histograms();
    let (bounds, points) = &histograms["http.client.connection.duration"];
    assert_eq!(bounds, &LONG_BUCKETS);
    assert_eq!(
        points,
        &[expected(&[
            ("server.address", "127.0.0.1".into()),
            ("server.port", port.to_string()),
            ("network.protocol.version", "1.1".into()),
        ])]
    );

    // Switched off, nothing goes out.
    let quiet = ServiceBuilder::new()
        .layer(otel.layer.clone().without_propagation())
        .layer(HttpTraceLayer::default())
        .service(pool());
    let res = quiet.oneshot(get(&url)).await.unwrap();
    read_body(res.into_body()).await;
    assert!(!server.seen()[1].headers.contains_key("traceparent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_type_on_a_refused_connection_and_on_a_500() {
    let _serial = super::one_at_a_time().await;
    let otel = Exported::new();
    let client = ServiceBuilder::new()
        .layer(otel.layer.clone())
        .layer(HttpTraceLayer::default())
        .service(pool());

    let refused = format!("http://127.0.0.1:{}/", refused_port().await);
    within("the refused request", client.clone().oneshot(get(&refused)))
        .await
        .unwrap_err();
    let server = TestServer::with_handler(|_| {
        Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .body(Full::new(Bytes::from_static(b"oops")))
            .unwrap()
    })
    .await;
    let res = within(
        "the failing request",
        client.oneshot(get(&server.url("127.0.0.1", "/"))),
    )
    .await
    .unwrap();
    read_body(res.into_body()).await;

    let spans = otel.request_spans();
    assert_eq!(spans.len(), 2);
    let error_type = |span: &SpanData| attributes(span).get("error.type").cloned();
    assert_eq!(error_type(&spans[0]).as_deref(), Some("connection_error"));
    assert!(matches!(spans[0].status, Status::Error { .. }));
    assert_eq!(error_type(&spans[1]).as_deref(), Some("500"));
    assert_eq!(spans[1].status, Status::error(""));

    let histograms = otel.histograms();
    let (_, points) = &histograms["http.client.request.duration"];
    let mut types: Vec<String> = points
        .iter()
        .map(|p| p.get("error.type").cloned().unwrap_or_default())
        .collect();
    types.sort();
    assert_eq!(types, ["500", "connection_error"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_a_second_span_with_its_resend_count() {
    let _serial = super::one_at_a_time().await;
    let server = TestServer::with_handler(|seen| match seen.path.as_str() {
        "/moved" => Response::builder()
            .status(StatusCode::FOUND)
            .header("location", "/here")
            .body(Full::default())
            .unwrap(),
        _ => Response::new(Full::new(Bytes::from_static(b"here"))),
    })
    .await;
    let otel = Exported::new();
    let client = ServiceBuilder::new()
        .layer(CallTraceLayer::new(httptrace::ClientTrace::new()))
        .layer(FollowRedirectLayer::new())
        .layer(otel.layer.clone())
        .layer(HttpTraceLayer::default())
        .service(pool());
    let res = within(
        "the call",
        client.oneshot(get(&server.url("127.0.0.1", "/moved"))),
    )
    .await
    .unwrap();
    read_body(res.into_body()).await;

    let spans = otel.request_spans();
    let story: Vec<(String, Option<String>, Option<String>)> = spans
        .iter()
        .map(|s| {
            let a = attributes(s);
            (
                a["url.full"].rsplit('/').next().unwrap().to_owned(),
                a.get("http.request.resend_count").cloned(),
                a.get("http.response.status_code").cloned(),
            )
        })
        .collect();
    assert_eq!(
        story,
        [
            ("moved".to_owned(), None, Some("302".to_owned())),
            (
                "here".to_owned(),
                Some("1".to_owned()),
                Some("200".to_owned())
            ),
        ]
    );
    assert!(spans.iter().all(|s| s.status == Status::Unset));
}

/// The known methods are a full replacement, from `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS`
/// (read when the layer is made; a process-wide variable, hence this binary) or from
/// `OtelLayer::known_methods`: a known `PURGE` is named, a `POST` no longer known is `_OTHER`
/// with its original.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_known_methods_variable_and_builder_replace_the_default_list() {
    let _serial = super::one_at_a_time().await;
    let server = TestServer::start().await;
    let url = server.url("127.0.0.1", "/");
    let purge = http::Method::from_bytes(b"PURGE").unwrap();
    let send = |otel: &Exported, method: http::Method| {
        let client = ServiceBuilder::new()
            .layer(otel.layer.clone())
            .layer(HttpTraceLayer::default())
            .service(pool());
        let mut req = get(&url);
        *req.method_mut() = method;
        async move {
            let res = within("the request", client.oneshot(req)).await.unwrap();
            read_body(res.into_body()).await;
        }
    };
    let method_of = |span: &SpanData| {
        let a = attributes(span);
        (
            a["http.request.method"].clone(),
            a.get("http.request.method_original").cloned(),
            span.name.to_string(),
        )
    };

    std::env::set_var("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS", "GET, PURGE");
    let from_env = Exported::new();
    std::env::remove_var("OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS");
    send(&from_env, purge.clone()).await;
    send(&from_env, http::Method::POST).await;
    let spans = from_env.request_spans();
    assert_eq!(method_of(&spans[0]), ("PURGE".into(), None, "PURGE".into()));
    assert_eq!(
        method_of(&spans[1]),
        ("_OTHER".into(), Some("POST".into()), "HTTP".into())
    );

    let mut built = Exported::new();
    built.layer = built.layer.clone().known_methods([purge.clone()]);
    send(&built, purge).await;
    send(&built, http::Method::GET).await;
    let spans = built.request_spans();
    assert_eq!(method_of(&spans[0]).0, "PURGE");
    assert_eq!(method_of(&spans[1]).1.as_deref(), Some("GET"));
}
