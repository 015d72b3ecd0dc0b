//! [`OtelLayer`], which makes [`Otel`].

use std::sync::Arc;

use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::{Histogram, Meter, UpDownCounter};
use opentelemetry_semantic_conventions::metric::{
    DNS_LOOKUP_DURATION, HTTP_CLIENT_CONNECTION_DURATION, HTTP_CLIENT_OPEN_CONNECTIONS,
    HTTP_CLIENT_REQUEST_DURATION,
};
use tower_layer::Layer;

use super::connections::{Pool, PoolInstruments};
use super::methods::KnownMethods;
use super::Otel;

/// The conventions' advised bucket boundaries (seconds) for `http.client.request.duration`
/// and `dns.lookup.duration`.
pub const SHORT_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The advised bucket boundaries (seconds) for `http.client.connection.duration`: a
/// connection lives longer than a request.
pub const LONG_BUCKETS: [f64; 14] = [
    0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];

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
    options: Options,
}

/// What a layer's services do beyond the spans and metrics.
#[derive(Clone)]
pub(super) struct Options {
    /// The methods `http.request.method` names.
    pub(super) known_methods: KnownMethods,
    /// `url.full` keeps its signed query values.
    pub(super) reveal_secrets: bool,
    /// The request span's context goes out in the request's headers.
    pub(super) propagate: bool,
}

/// The tracer and the instruments, shared by a layer's services.
pub(super) struct Shared {
    pub(super) tracer: BoxedTracer,
    pub(super) request_duration: Histogram<f64>,
    pub(super) connection_duration: Histogram<f64>,
    pub(super) open_connections: UpDownCounter<i64>,
    pub(super) dns_duration: Histogram<f64>,
    /// The connections the layer's requests went over, for `http.connection.state`.
    pub(super) pool: Pool,
}

impl Shared {
    /// The instruments the pool's changes go to.
    pub(super) fn pool_instruments(&self) -> PoolInstruments<'_> {
        PoolInstruments {
            open: &self.open_connections,
            duration: &self.connection_duration,
        }
    }
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
        let seconds = |name: &'static str, about: &'static str, buckets: &[f64]| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(about)
                .with_boundaries(buckets.to_vec())
                .build()
        };
        OtelLayer {
            shared: Arc::new(Shared {
                tracer,
                request_duration: seconds(
                    HTTP_CLIENT_REQUEST_DURATION,
                    "Duration of HTTP client requests.",
                    &SHORT_BUCKETS,
                ),
                connection_duration: seconds(
                    HTTP_CLIENT_CONNECTION_DURATION,
                    "The duration of the successfully established outbound HTTP connections.",
                    &LONG_BUCKETS,
                ),
                open_connections: meter
                    .i64_up_down_counter(HTTP_CLIENT_OPEN_CONNECTIONS)
                    .with_unit("{connection}")
                    .with_description(
                        "Number of outbound HTTP connections that are currently active or idle \
                         on the client.",
                    )
                    .build(),
                dns_duration: seconds(
                    DNS_LOOKUP_DURATION,
                    "Measures the time taken to perform a DNS lookup.",
                    &SHORT_BUCKETS,
                ),
                pool: Pool::default(),
            }),
            options: Options {
                known_methods: KnownMethods::from_env(),
                reveal_secrets: false,
                propagate: true,
            },
        }
    }
}

impl OtelLayer {
    /// Records `url.full` with the values of its signed query parameters as they are
    /// (`X-Amz-Signature`, `sig`, ...; [`httptrace::SIGNED_QUERY_PARAMETERS`]). Its userinfo
    /// stays `REDACTED:REDACTED`, as the conventions require. Only for a setup whose traces
    /// nobody else reads.
    pub fn reveal_secrets(mut self) -> Self {
        self.options.reveal_secrets = true;
        self
    }

    /// The HTTP methods `http.request.method` names as they are, replacing the conventions'
    /// nine (and the list in `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS`, which the layer reads
    /// when made: comma-separated, case-sensitive); any other method is `_OTHER`, with
    /// `http.request.method_original`.
    pub fn known_methods(mut self, methods: impl IntoIterator<Item = http::Method>) -> Self {
        self.options.known_methods = KnownMethods::only(methods);
        self
    }

    /// Sends no trace context with the requests. By default the request span's context goes
    /// into each request's headers through the globally configured propagator
    /// (`opentelemetry::global::set_text_map_propagator`; W3C `traceparent` with the SDK's
    /// `TraceContextPropagator`), so that the server's spans join the client's trace.
    pub fn without_propagation(mut self) -> Self {
        self.options.propagate = false;
        self
    }
}

impl<S> Layer<S> for OtelLayer {
    type Service = Otel<S>;

    fn layer(&self, inner: S) -> Otel<S> {
        Otel::new(inner, self.shared.clone(), self.options.clone())
    }
}
