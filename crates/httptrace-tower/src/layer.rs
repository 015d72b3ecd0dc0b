//! [`HttpTraceLayer`]: traces every request through a stack.

use httptrace::ClientTrace;
use tower_layer::Layer;

use crate::service::HttpTrace;

/// Wraps a `Service<http::Request<B>>` (hyper-util's `Client`, say) in [`HttpTrace`]: every
/// request through it is traced with this layer's trace, composed with the trace attached to
/// the request ([`httptrace::with_client_trace`]) and the one in effect where it is sent
/// ([`ClientTrace::scope`]); those more specific ones run first.
///
/// A layer with an empty trace still lets per-request traces work.
#[derive(Debug, Clone, Default)]
pub struct HttpTraceLayer {
    trace: ClientTrace,
}

impl HttpTraceLayer {
    /// A layer that applies `trace` to every request.
    pub fn new(trace: ClientTrace) -> Self {
        HttpTraceLayer { trace }
    }
}

impl<S> Layer<S> for HttpTraceLayer {
    type Service = HttpTrace<S>;

    fn layer(&self, inner: S) -> HttpTrace<S> {
        HttpTrace::new(inner, self.trace.clone())
    }
}
