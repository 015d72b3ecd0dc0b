//! [`HttpTraceLayer`]: traces every request through a stack.

use std::sync::Arc;
use std::time::Duration;

use httptrace::ClientTrace;

use crate::state::expect_gate::DEFAULT_TIMEOUT;
use tower_layer::Layer;

use crate::http_trace::sampling::{RequestHead, Sampling};
use crate::http_trace::service::HttpTrace;
use crate::http_trace::settings::PerRequest;

/// Wraps a `Service<http::Request<B>>` (hyper-util's `Client`, say) in [`HttpTrace`]: every
/// request through it is traced with this layer's trace, composed with the trace attached to
/// the request ([`httptrace::with_client_trace`]) and the one in effect where it is sent
/// ([`ClientTrace::scope`]); those more specific ones run first.
///
/// A layer with an empty trace still lets per-request traces work.
/// Requests with `Expect: 100-continue` and a body hold the body back until the server
/// answers `100 Continue`, a final response comes (then the body is not sent), or
/// [`expect_continue_timeout`](HttpTraceLayer::expect_continue_timeout) passes (then it is
/// sent): what Go's client does and hyper's does not. This works with or without a trace.
#[derive(Debug, Clone)]
pub struct HttpTraceLayer {
    trace: ClientTrace,
    expect_continue_timeout: Duration,
    record_timings: bool,
    per_request: Option<PerRequest>,
    sampling: Option<Sampling>,
}

impl Default for HttpTraceLayer {
    fn default() -> Self {
        Self::new(ClientTrace::new())
    }
}

impl HttpTraceLayer {
    /// A layer that applies `trace` to every request.
    pub fn new(trace: ClientTrace) -> Self {
        HttpTraceLayer {
            trace,
            expect_continue_timeout: DEFAULT_TIMEOUT,
            record_timings: false,
            per_request: None,
            sampling: None,
        }
    }

    /// Calls `make` as each request starts, for a trace of that request's own (see
    /// [`HttpTrace::trace_per_request`]).
    pub fn trace_per_request(
        mut self,
        make: impl Fn() -> ClientTrace + Send + Sync + 'static,
    ) -> Self {
        self.per_request = Some(PerRequest(Arc::new(make)));
        self
    }

    /// Traces about `ratio` of the requests: see [`HttpTrace::sample`].
    pub fn sample(mut self, ratio: f64) -> Self {
        self.sampling = Some(Sampling::ratio(ratio));
        self
    }

    /// Traces the requests `decide` keeps: see [`HttpTrace::sample_with`].
    pub fn sample_with(
        mut self,
        decide: impl Fn(&RequestHead<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.sampling = Some(Sampling::With(Arc::new(decide)));
        self
    }

    /// Records each request's [`Timings`](httptrace::Timings) into a
    /// [`TimingsRecorder`](httptrace::TimingsRecorder) found in the response's extensions
    /// (see [`HttpTrace::record_timings`]).
    pub fn record_timings(mut self) -> Self {
        self.record_timings = true;
        self
    }

    /// How long a request with `Expect: 100-continue` waits for the server's answer before
    /// sending its body anyway (Go's `ExpectContinueTimeout`; 1 s by default).
    pub fn expect_continue_timeout(mut self, timeout: Duration) -> Self {
        self.expect_continue_timeout = timeout;
        self
    }
}

impl<S> Layer<S> for HttpTraceLayer {
    type Service = HttpTrace<S>;

    fn layer(&self, inner: S) -> HttpTrace<S> {
        let mut service = HttpTrace::new(inner, self.trace.clone())
            .expect_continue_timeout(self.expect_continue_timeout);
        if self.record_timings {
            service = service.record_timings();
        }
        if let Some(make) = &self.per_request {
            service = service.trace_per_request_shared(make.clone());
        }
        service.sampling_shared(self.sampling.clone())
    }
}
