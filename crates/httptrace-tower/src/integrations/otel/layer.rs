//! [`OtelLayer`], which makes [`Otel`].

use std::sync::Arc;

use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::{Histogram, Meter, UpDownCounter};
use tower_layer::Layer;

use super::Otel;

/// Turns each request's hooks into spans and metrics; see the module docs.
///
/// ```
/// use httptrace_tower::{HttpTraceLayer, OtelLayer};
/// use opentelemetry::global;
///
/// let otel = OtelLayer::new(global::tracer("httptrace"), &global::meter("httptrace"));
/// let layers = tower::ServiceBuilder::new().layer(otel).layer(HttpTraceLayer::default());
/// # let _ = layers;
/// ```
#[derive(Clone)]
pub struct OtelLayer {
    shared: Arc<Shared>,
    /// `url.full` keeps its signed query values.
    reveal_secrets: bool,
}

/// The tracer and the instruments, shared by a layer's services.
pub(super) struct Shared {
    pub(super) tracer: BoxedTracer,
    pub(super) request_duration: Histogram<f64>,
    pub(super) connection_duration: Histogram<f64>,
    pub(super) open_connections: UpDownCounter<i64>,
    pub(super) dns_duration: Histogram<f64>,
}

impl std::fmt::Debug for OtelLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtelLayer")
    }
}

impl OtelLayer {
    /// Spans from `tracer` (`opentelemetry::global::tracer(..)`, or any tracer boxed with
    /// `BoxedTracer::new`), metrics from `meter`.
    pub fn new(tracer: BoxedTracer, meter: &Meter) -> Self {
        let seconds = |name: &'static str, about: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(about)
                .build()
        };
        OtelLayer {
            shared: Arc::new(Shared {
                tracer,
                request_duration: seconds(
                    "http.client.request.duration",
                    "Duration of HTTP client requests, to the end of the response body.",
                ),
                connection_duration: seconds(
                    "http.client.connection.duration",
                    "The duration of the successfully established outbound HTTP connections.",
                ),
                open_connections: meter
                    .i64_up_down_counter("http.client.open_connections")
                    .with_unit("{connection}")
                    .with_description("Number of outbound HTTP connections that are open.")
                    .build(),
                dns_duration: seconds(
                    "dns.lookup.duration",
                    "Measures the time taken to perform a DNS lookup.",
                ),
            }),
            reveal_secrets: false,
        }
    }
}

impl OtelLayer {
    /// Records `url.full` with the values of its signed query parameters as they are
    /// (`X-Amz-Signature`, `sig`, ...; [`httptrace::SIGNED_QUERY_PARAMETERS`]). Its userinfo
    /// stays `REDACTED:REDACTED`, as the conventions require. Only for a setup whose traces
    /// nobody else reads.
    pub fn reveal_secrets(mut self) -> Self {
        self.reveal_secrets = true;
        self
    }
}

impl<S> Layer<S> for OtelLayer {
    type Service = Otel<S>;

    fn layer(&self, inner: S) -> Otel<S> {
        Otel::new(inner, self.shared.clone(), self.reveal_secrets)
    }
}
