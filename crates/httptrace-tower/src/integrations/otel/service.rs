//! [`Otel`]: the service that gives each request its spans.

use std::fmt::Display;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use http::{Request, Response};
use httptrace::{client_trace, with_client_trace};
use tower_service::Service;

use super::layer::Shared;
use super::spans::RequestSpans;
use super::ResponseFuture;

/// The service of [`OtelLayer`](super::OtelLayer).
#[derive(Clone)]
pub struct Otel<S> {
    inner: S,
    shared: Arc<Shared>,
    reveal_secrets: bool,
}

impl<S> Otel<S> {
    pub(super) fn new(inner: S, shared: Arc<Shared>, reveal_secrets: bool) -> Self {
        Otel {
            inner,
            shared,
            reveal_secrets,
        }
    }
}

impl<S> std::fmt::Debug for Otel<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Otel")
    }
}

impl<S, B, ResB> Service<Request<B>> for Otel<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Display,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let spans = RequestSpans::start(self.shared.clone(), &req, self.reveal_secrets);
        let mut trace = spans.trace();
        if let Some(own) = client_trace(&req) {
            trace = own.compose(&trace);
        }
        with_client_trace(&mut req, trace);
        ResponseFuture::new(self.inner.call(req), spans)
    }
}
