//! The future of [`ServerTiming`](super::ServerTiming).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::header::HeaderName;
use http::Response;
use pin_project_lite::pin_project;

use super::header::server_timing;
use super::options::CallDescriptions;
use crate::state::timings_sink::TimingsSink;

pin_project! {
    /// The future of [`ServerTiming`](super::ServerTiming): the handler's, with the sink in
    /// effect while it runs; its response gets the `Server-Timing` header (unless the
    /// layer's predicate withheld it).
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        sink: Option<Arc<TimingsSink>>,
        descriptions: CallDescriptions,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, sink: Arc<TimingsSink>, descriptions: CallDescriptions) -> Self {
        ResponseFuture {
            inner,
            sink: Some(sink),
            descriptions,
        }
    }

    /// The handler's future alone: its answer gets no header.
    pub(crate) fn withheld(inner: F) -> Self {
        ResponseFuture {
            inner,
            sink: None,
            descriptions: CallDescriptions::None,
        }
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(sink) = this.sink else {
            return this.inner.poll(cx);
        };
        let result = {
            let _entered = sink.enter();
            ready!(this.inner.poll(cx))
        };
        let calls = sink.take();
        Poll::Ready(result.map(|mut res| {
            if let Some(value) = server_timing(&calls, *this.descriptions) {
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
