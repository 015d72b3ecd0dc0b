//! [`ServerTimingLayer`], which makes [`ServerTiming`].

use tower_layer::Layer;

use super::ServerTiming;

/// Answers each request with the `Server-Timing` of its handler's outbound calls; see the
/// [module docs](crate::server_timing).
#[derive(Debug, Clone, Default)]
pub struct ServerTimingLayer {
    _private: (),
}

impl ServerTimingLayer {
    /// The layer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for ServerTimingLayer {
    type Service = ServerTiming<S>;

    fn layer(&self, inner: S) -> ServerTiming<S> {
        ServerTiming::new(inner)
    }
}
