//! [`ServerTiming`]: the service that collects a request's outbound timings.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::metrics::ServerTimingMetrics;
use super::options::Options;
use super::ResponseFuture;
use crate::state::timings_sink::TimingsSink;

/// The service of [`ServerTimingLayer`](super::ServerTimingLayer).
#[derive(Debug, Clone)]
pub struct ServerTiming<S> {
    inner: S,
    options: Arc<Options>,
}

impl<S> ServerTiming<S> {
    /// Answers the requests `inner` serves with their outbound calls' `Server-Timing`, as
    /// [`ServerTimingLayer::new`](super::ServerTimingLayer::new) does.
    pub fn new(inner: S) -> Self {
        Self::with_options(inner, Arc::default())
    }

    pub(crate) fn with_options(inner: S, options: Arc<Options>) -> Self {
        ServerTiming { inner, options }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, ResB> Service<Request<B>> for ServerTiming<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        if !self.options.reports(&parts) {
            parts.extensions.insert(ServerTimingMetrics::withheld());
            let inner = self.inner.call(Request::from_parts(parts, body));
            return ResponseFuture::withheld(inner);
        }
        let sink = Arc::new(TimingsSink::default());
        parts
            .extensions
            .insert(ServerTimingMetrics::reported(sink.clone()));
        let inner = {
            let _entered = sink.enter();
            self.inner.call(Request::from_parts(parts, body))
        };
        ResponseFuture::new(inner, sink, self.options.descriptions)
    }
}
