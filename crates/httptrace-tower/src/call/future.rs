//! The future of [`CallTrace`](super::CallTrace).

use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::Response;
use httptrace::TraceError;
use pin_project_lite::pin_project;

use crate::state::call::CallEnd;

pin_project! {
    /// The future of [`CallTrace`]: the inner future, with the call in effect while it runs.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        end: Option<CallEnd>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, end: CallEnd) -> Self {
        ResponseFuture {
            inner,
            end: Some(end),
        }
    }
}

impl<F, ResB, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    E: Display,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this.end.as_ref().map(|end| end.call().enter());
            ready!(this.inner.poll(cx))
        };
        if let Some(end) = this.end.take() {
            match &result {
                Ok(res) => end.done(Some(res.status()), None),
                Err(err) => end.done(None, Some(TraceError::msg(err.to_string()))),
            }
        }
        Poll::Ready(result)
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("done", &self.end.is_none())
            .finish()
    }
}
