//! OpenTelemetry (feature `opentelemetry`): the conventions' recommended metrics beyond the
//! duration (`http.client.active_requests`, the bodies' sizes), the opt-in attributes, and
//! the schema URL on the instrumentation scope, through the SDK's in-memory exporters.
#![cfg(feature = "opentelemetry")]

use bytes::Bytes;
use http::Response;
use http_body_util::{BodyExt, Full};
use httptrace_otel::{OtelLayer, BODY_SIZE_BUCKETS};
use httptrace_tower::{HttpTraceLayer, TraceConnector, TracedRequestBody};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Array, StringValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use support::*;

use super::otel::in_memory_sdk;
use tower::{ServiceBuilder, ServiceExt};

/// What `read` makes of metric `name`'s data in the last export.
fn last_export<T>(
    out: &InMemoryMetricExporter,
    name: &str,
    read: impl Fn(&AggregatedMetrics) -> Option<T>,
) -> Option<T> {
    let finished = out.get_finished_metrics().unwrap();
    let value = finished
        .last()?
        .scope_metrics()
        .flat_map(|s| s.metrics())
        .filter(|m| m.name() == name)
        .find_map(|m| read(m.data()));
    value
}

/// The sum of `name`'s points (an `i64` up-down counter) in the last export.
fn counted(out: &InMemoryMetricExporter, name: &str) -> Option<i64> {
    last_export(out, name, |data| match data {
        AggregatedMetrics::I64(MetricData::Sum(sum)) => {
            Some(sum.data_points().map(|p| p.value()).sum())
        }
        _ => None,
    })
}

/// `name`'s (count, sum, bucket boundaries) over its points (a `u64` histogram), last export.
fn histogram(out: &InMemoryMetricExporter, name: &str) -> Option<(u64, u64, Vec<f64>)> {
    last_export(out, name, |data| match data {
        AggregatedMetrics::U64(MetricData::Histogram(h)) => {
            let points: Vec<_> = h.data_points().collect();
            let bounds = points.first()?.bounds().collect();
            Some((
                points.iter().map(|p| p.count()).sum(),
                points.iter().map(|p| p.sum()).sum(),
                bounds,
            ))
        }
        _ => None,
    })
}

fn strings(values: &[&str]) -> Value {
    let values: Vec<StringValue> = values.iter().map(|v| (*v).to_owned().into()).collect();
    Value::Array(Array::String(values))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_requests_body_sizes_and_the_opt_in_attributes() {
    let server = TestServer::with_handler(|_| {
        Response::builder()
            .header("set-cookie", "session=s3cret")
            .header("x-served-by", "node-1")
            .body(Full::new(Bytes::from_static(b"hello")))
            .unwrap()
    })
    .await;
    let pool: Client<_, TracedRequestBody<Full<Bytes>>> = Client::builder(TokioExecutor::new())
        .build(TraceConnector::new(dialer(TestResolver::new())));
    let (spans_out, tracer_provider, metrics_out, meter_provider) = in_memory_sdk();
    let scope = OtelLayer::scope();
    let otel = OtelLayer::new(
        BoxedTracer::new(Box::new(tracer_provider.tracer_with_scope(scope.clone()))),
        &meter_provider.meter_with_scope(scope),
    )
    .with_user_agent()
    .with_url_scheme()
    .url_template(|_, uri| {
        uri.path()
            .starts_with("/users/")
            .then(|| "/users/{id}".into())
    })
    .capture_request_headers([http::header::AUTHORIZATION, "x-request-id".parse().unwrap()])
    .capture_response_headers([http::header::SET_COOKIE, "x-served-by".parse().unwrap()]);
    let client = ServiceBuilder::new()
        .layer(otel)
        .layer(HttpTraceLayer::default())
        .service(pool);

    let req = http::Request::post(server.url("127.0.0.1", "/users/7"))
        .header("user-agent", "agent/1")
        .header("authorization", "Bearer pa55word")
        .header("x-request-id", "r1")
        .body(Full::new(Bytes::from_static(b"abc")))
        .unwrap();
    let res = within("the request", client.oneshot(req)).await.unwrap();
    // The body unread: the request is still active.
    meter_provider.force_flush().unwrap();
    assert_eq!(
        counted(&metrics_out, "http.client.active_requests"),
        Some(1)
    );
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&body[..], b"hello");
    meter_provider.force_flush().unwrap();
    assert_eq!(
        counted(&metrics_out, "http.client.active_requests"),
        Some(0)
    );
    let buckets = BODY_SIZE_BUCKETS.to_vec();
    assert_eq!(
        histogram(&metrics_out, "http.client.request.body.size"),
        Some((1, 3, buckets.clone()))
    );
    assert_eq!(
        histogram(&metrics_out, "http.client.response.body.size"),
        Some((1, 5, buckets))
    );

    let spans = spans_out.get_finished_spans().unwrap();
    let request = spans
        .iter()
        .find(|s| s.name == "POST")
        .expect("the request span");
    let attr = |key: &str| {
        request
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.clone())
    };
    assert_eq!(attr("user_agent.original"), Some(Value::from("agent/1")));
    assert_eq!(attr("url.scheme"), Some(Value::from("http")));
    assert_eq!(attr("url.template"), Some(Value::from("/users/{id}")));
    assert_eq!(
        attr("http.request.header.authorization"),
        Some(strings(&["[redacted]"]))
    );
    assert_eq!(
        attr("http.request.header.x-request-id"),
        Some(strings(&["r1"]))
    );
    assert_eq!(
        attr("http.response.header.set-cookie"),
        Some(strings(&["[redacted]"]))
    );
    assert_eq!(
        attr("http.response.header.x-served-by"),
        Some(strings(&["node-1"]))
    );
    let scope = &request.instrumentation_scope;
    assert_eq!(scope.name(), "httptrace-otel");
    assert_eq!(
        scope.schema_url(),
        Some(opentelemetry_semantic_conventions::SCHEMA_URL)
    );
}
