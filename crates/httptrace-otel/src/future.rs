//! The future of [`Otel`](super::Otel).

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context as TaskContext, Poll};

use http::Response;
use pin_project_lite::pin_project;

use super::error_type;
use super::spans::RequestSpans;

pin_project! {
    /// The future of [`Otel`](super::Otel).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        spans: Unanswered,
    }
}

/// The request's spans until its response (or error) arrives; dropped before that, the
/// request was cancelled, and its open spans end with that error.
struct Unanswered(Option<Arc<RequestSpans>>);

impl Drop for Unanswered {
    fn drop(&mut self) {
        if let Some(spans) = self.0.take() {
            spans.failed(
                "the request was dropped before its response",
                error_type::CANCELED,
            );
        }
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, spans: Arc<RequestSpans>) -> Self {
        ResponseFuture {
            inner,
            spans: Unanswered(Some(spans)),
        }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("otel::ResponseFuture")
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    E: Display + 'static,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Some(spans) = this.spans.0.take() {
            match &result {
                Ok(res) => spans.responded(res),
                Err(err) => {
                    let why = spans
                        .dial_error()
                        .unwrap_or_else(|| error_type::of_request(err));
                    spans.failed(&err.to_string(), why);
                }
            }
        }
        Poll::Ready(result)
    }
}
