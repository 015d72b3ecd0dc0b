//! [`OtelLayer`], which makes [`Otel`].

use std::sync::Arc;

use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::{Histogram, Meter, UpDownCounter};
use opentelemetry::InstrumentationScope;
use opentelemetry_semantic_conventions::metric::{
    DNS_LOOKUP_DURATION, HTTP_CLIENT_ACTIVE_REQUESTS, HTTP_CLIENT_CONNECTION_DURATION,
    HTTP_CLIENT_OPEN_CONNECTIONS, HTTP_CLIENT_REQUEST_BODY_SIZE, HTTP_CLIENT_REQUEST_DURATION,
    HTTP_CLIENT_RESPONSE_BODY_SIZE,
};
use tower_layer::Layer;

use super::connections::{Pool, PoolInstruments};
use super::methods::KnownMethods;
use super::opt_in::OptIn;
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

/// Bucket boundaries (bytes) for `http.client.request.body.size` and
/// `http.client.response.body.size`, which the conventions leave to the instrumentation:
/// powers of four from 64 B to 64 MiB, with 0 for bodies with nothing in them.
pub const BODY_SIZE_BUCKETS: [f64; 12] = [
    0.0,
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262_144.0,
    1_048_576.0,
    4_194_304.0,
    16_777_216.0,
    67_108_864.0,
];

/// Turns each request's hooks into spans and metrics; see the module docs.
///
/// ```
/// use httptrace_otel::OtelLayer;
/// use httptrace_tower::HttpTraceLayer;
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
    /// The opt-in attributes recorded.
    pub(super) opt_in: OptIn,
}

/// The tracer and the instruments, shared by a layer's services.
pub(super) struct Shared {
    pub(super) tracer: BoxedTracer,
    pub(super) request_duration: Histogram<f64>,
    pub(super) connection_duration: Histogram<f64>,
    pub(super) open_connections: UpDownCounter<i64>,
    pub(super) dns_duration: Histogram<f64>,
    pub(super) active_requests: UpDownCounter<i64>,
    pub(super) request_body_size: Histogram<u64>,
    pub(super) response_body_size: Histogram<u64>,
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
        let bytes = |name: &'static str, about: &'static str| {
            meter
                .u64_histogram(name)
                .with_unit("By")
                .with_description(about)
                .with_boundaries(BODY_SIZE_BUCKETS.to_vec())
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
                active_requests: meter
                    .i64_up_down_counter(HTTP_CLIENT_ACTIVE_REQUESTS)
                    .with_unit("{request}")
                    .with_description("Number of active HTTP requests.")
                    .build(),
                request_body_size: bytes(
                    HTTP_CLIENT_REQUEST_BODY_SIZE,
                    "Size of HTTP client request bodies.",
                ),
                response_body_size: bytes(
                    HTTP_CLIENT_RESPONSE_BODY_SIZE,
                    "Size of HTTP client response bodies.",
                ),
                pool: Pool::default(),
            }),
            options: Options {
                known_methods: KnownMethods::from_env(),
                reveal_secrets: false,
                propagate: true,
                opt_in: OptIn::default(),
            },
        }
    }

    /// The instrumentation scope the layer's spans and metrics belong to: this crate's name
    /// and version, and the schema URL of the semantic conventions its names come from
    /// (`opentelemetry_semantic_conventions::SCHEMA_URL`). Give it to a tracer and a meter of
    /// your own providers, or use [`global`](Self::global).
    pub fn scope() -> InstrumentationScope {
        InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
            .with_version(env!("CARGO_PKG_VERSION"))
            .with_schema_url(opentelemetry_semantic_conventions::SCHEMA_URL)
            .build()
    }

    /// Spans and metrics from the global tracer and meter providers, under
    /// [`scope`](Self::scope).
    ///
    /// ```
    /// let otel = httptrace_otel::OtelLayer::global();
    /// # let _ = otel;
    /// ```
    pub fn global() -> Self {
        let scope = Self::scope();
        let tracer = opentelemetry::global::tracer_with_scope(scope.clone());
        Self::new(tracer, &opentelemetry::global::meter_with_scope(scope))
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

    /// Records `user_agent.original` (opt-in in the conventions): the request's
    /// `User-Agent`.
    pub fn with_user_agent(mut self) -> Self {
        self.options.opt_in.user_agent = true;
        self
    }

    /// Records `url.scheme` (opt-in for client spans in the conventions).
    pub fn with_url_scheme(mut self) -> Self {
        self.options.opt_in.url_scheme = true;
        self
    }

    /// Records `url.template`: what `template` says of each request (the route it was made
    /// from, `/users/{id}`), when it says something.
    ///
    /// ```
    /// let otel = httptrace_otel::OtelLayer::global().url_template(|_method, uri| {
    ///     uri.path().starts_with("/users/").then(|| "/users/{id}".to_owned())
    /// });
    /// # let _ = otel;
    /// ```
    pub fn url_template(
        mut self,
        template: impl Fn(&http::Method, &http::Uri) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.options.opt_in.url_template = Some(Arc::new(template));
        self
    }

    /// Records `http.request.header.<name>` for each of `names` a request carries: its
    /// values, with secrets (`authorization`, `cookie`, ...) shown as `[redacted]`.
    pub fn capture_request_headers(
        mut self,
        names: impl IntoIterator<Item = http::HeaderName>,
    ) -> Self {
        self.options.opt_in.request_headers = names.into_iter().collect();
        self
    }

    /// Records `http.response.header.<name>` for each of `names` a response carries, redacted
    /// as [`capture_request_headers`](Self::capture_request_headers)'.
    pub fn capture_response_headers(
        mut self,
        names: impl IntoIterator<Item = http::HeaderName>,
    ) -> Self {
        self.options.opt_in.response_headers = names.into_iter().collect();
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
