//! [`ServerTiming`]: the service that collects a request's outbound timings.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::ResponseFuture;
use crate::state::timings_sink::TimingsSink;

/// The service of [`ServerTimingLayer`](super::ServerTimingLayer).
#[derive(Debug, Clone)]
pub struct ServerTiming<S> {
    inner: S,
}

impl<S> ServerTiming<S> {
    /// Answers the requests `inner` serves with their outbound calls' `Server-Timing`.
    pub fn new(inner: S) -> Self {
        ServerTiming { inner }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
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
        let sink = Arc::new(TimingsSink::default());
        let inner = {
            let _entered = sink.enter();
            self.inner.call(req)
        };
        ResponseFuture::new(inner, sink)
    }
}
