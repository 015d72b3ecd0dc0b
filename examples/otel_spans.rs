//! `OtelLayer`: two requests to a server this example starts on 127.0.0.1, their spans
//! collected by the OpenTelemetry SDK's in-memory exporter and printed as a tree.
//!
//! ```text
//! cargo run --features opentelemetry --example otel_spans
//! ```

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use httptrace_otel::OtelLayer;
use httptrace_tower::{HttpTraceLayer, TraceConnector, TraceHttpConnector, TracedRequestBody};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tower::{ServiceBuilder, ServiceExt};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = format!(
        "http://{}/",
        httptrace_suite::serve_on_loopback(b"ok").await?
    );

    let exporter = InMemorySpanExporter::default();
    let tracer_provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let meter_provider = SdkMeterProvider::builder().build();
    let otel = OtelLayer::new(
        BoxedTracer::new(Box::new(tracer_provider.tracer("otel_spans"))),
        &meter_provider.meter("otel_spans"),
    );
    let connector = TraceConnector::new(TraceHttpConnector::new()).http2_only_by_alpn();
    let pool: Client<_, TracedRequestBody<Full<Bytes>>> =
        Client::builder(TokioExecutor::new()).build(connector);
    let client = ServiceBuilder::new()
        .layer(otel)
        .layer(HttpTraceLayer::default())
        .service(pool);
    for _ in 0..2 {
        let req = http::Request::get(&url).body(Full::default())?;
        let res = client.clone().oneshot(req).await?;
        res.into_body().collect().await?;
    }
    tracer_provider.force_flush()?;

    let spans = exporter.get_finished_spans()?;
    let roots = spans.iter().filter(|s| {
        !spans
            .iter()
            .any(|p| p.span_context.span_id() == s.parent_span_id)
    });
    for root in roots {
        print_tree(&spans, root, 0);
    }
    Ok(())
}

fn print_tree(spans: &[SpanData], span: &SpanData, depth: usize) {
    let took = span
        .end_time
        .duration_since(span.start_time)
        .unwrap_or_default();
    let attributes: Vec<String> = span
        .attributes
        .iter()
        .map(|kv| format!("{}={}", kv.key, kv.value))
        .collect();
    println!(
        "{:indent$}{} {took:.2?} {}",
        "",
        span.name,
        attributes.join(" "),
        indent = depth * 2
    );
    let mut children: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.parent_span_id == span.span_context.span_id())
        .collect();
    children.sort_by_key(|s| s.start_time);
    for child in children {
        print_tree(spans, child, depth + 1);
    }
}
