//! [`Otel`]: the service that gives each request its spans.

use std::fmt::Display;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use http::{Request, Response};
use httptrace::{client_trace, with_client_trace, RequestTraces};
use opentelemetry_http::HeaderInjector;
use tower_service::Service;

use super::layer::{Options, Shared};
use super::spans::RequestSpans;
use super::ResponseFuture;

/// The service of [`OtelLayer`](super::OtelLayer).
#[derive(Clone)]
pub struct Otel<S> {
    inner: S,
    shared: Arc<Shared>,
    options: Options,
}

impl<S> Otel<S> {
    pub(super) fn new(inner: S, shared: Arc<Shared>, options: Options) -> Self {
        Otel {
            inner,
            shared,
            options,
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
    S::Error: Display + 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let spans = RequestSpans::start(
            self.shared.clone(),
            &req,
            self.options.reveal_secrets,
            &self.options.known_methods,
            &self.options.opt_in,
        );
        if self.options.propagate {
            opentelemetry::global::get_text_map_propagator(|propagator| {
                let headers = &mut HeaderInjector(req.headers_mut());
                propagator.inject_context(spans.context(), headers);
            });
        }
        let trace = RequestTraces::new()
            .own(client_trace(&req))
            .layer(Some(&spans.trace()))
            .compose();
        with_client_trace(&mut req, trace);
        ResponseFuture::new(self.inner.call(req), spans)
    }
}
