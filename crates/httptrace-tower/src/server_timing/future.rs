//! The future of [`ServerTiming`](super::ServerTiming).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::header::HeaderName;
use http::Response;
use pin_project_lite::pin_project;

use super::header::server_timing;
use crate::state::timings_sink::TimingsSink;

pin_project! {
    /// The future of [`ServerTiming`](super::ServerTiming): the handler's, with the sink in
    /// effect while it runs; its response gets the `Server-Timing` header.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        sink: Arc<TimingsSink>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, sink: Arc<TimingsSink>) -> Self {
        ResponseFuture { inner, sink }
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this.sink.enter();
            ready!(this.inner.poll(cx))
        };
        let calls = this.sink.take();
        Poll::Ready(result.map(|mut res| {
            if let Some(value) = server_timing(&calls) {
                res.headers_mut()
                    .append(HeaderName::from_static("server-timing"), value);
            }
            res
        }))
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("server_timing::ResponseFuture")
    }
}
