//! [`ServerTimingLayer`], which makes [`ServerTiming`].

use std::sync::Arc;

use http::request::Parts;
use tower_layer::Layer;

use super::options::{CallDescriptions, Options};
use super::ServerTiming;

/// Answers each request with the `Server-Timing` of its handler's outbound calls; see the
/// [module docs](crate::server_timing).
///
/// With no options every answer carries the header, each entry a generic name (`up1`,
/// `up1-dns`, ...) and a duration: nothing about where the calls went.
#[derive(Debug, Clone, Default)]
pub struct ServerTimingLayer {
    options: Arc<Options>,
}

impl ServerTimingLayer {
    /// The layer: every answer gets the header, with durations and generic names only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Describes each outbound call by its method and destination
    /// (`up1;dur=4.210;desc="GET inventory.internal:8080"`): internal host names, addresses
    /// and ports, told to every client that gets the answer. Only for answers that go where
    /// those may be read (see [`only_when`](Self::only_when)).
    pub fn describe_calls(mut self) -> Self {
        Arc::make_mut(&mut self.options).descriptions = CallDescriptions::MethodAndDestination;
        self
    }

    /// Only requests whose head `predicate` accepts get the header (a header an internal
    /// proxy sets, a peer address from the extensions, ...); for the others nothing is
    /// recorded and [`ServerTimingMetrics::add`](super::ServerTimingMetrics::add) does
    /// nothing.
    ///
    /// ```
    /// use httptrace_tower::ServerTimingLayer;
    ///
    /// let layer = ServerTimingLayer::new()
    ///     .describe_calls()
    ///     .only_when(|head| head.headers.contains_key("x-internal-debug"));
    /// # let _ = layer;
    /// ```
    pub fn only_when<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&Parts) -> bool + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.options).predicate = Some(Arc::new(predicate));
        self
    }
}

impl<S> Layer<S> for ServerTimingLayer {
    type Service = ServerTiming<S>;

    fn layer(&self, inner: S) -> ServerTiming<S> {
        ServerTiming::with_options(inner, self.options.clone())
    }
}
