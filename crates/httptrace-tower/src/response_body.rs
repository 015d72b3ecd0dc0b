//! [`TracedResponseBody`]: the response body's end decides `PutIdleConn`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http_body::{Body, Frame, SizeHint};
use httptrace::{PutIdleConnInfo, TraceError};
use pin_project_lite::pin_project;

use crate::request_state::{Once, RequestState};

/// Why the connection is not reused when the body is dropped before its end (Go fires no
/// hook then; we say why, on purpose: see ARCHITECTURE.md).
pub(crate) const DROPPED_UNREAD: &str =
    "response body dropped before its end: the connection is closed, not returned to the pool";

pin_project! {
    /// A response body that fires `PutIdleConn` at its end: `None` when it reaches its end
    /// (the connection goes back to the pool), an error when it is dropped first or fails.
    /// Frames and end of stream are the inner body's, unchanged.
    pub struct TracedResponseBody<B> {
        #[pin]
        inner: B,
        end: Option<EndOfBody>,
    }
}

/// The response's end: fires `PutIdleConn` once (HTTP/1 keep-alive only) and ends the
/// request's HTTP/2 stream; dropping it before the end reports the early drop.
pub(crate) struct EndOfBody {
    state: Arc<RequestState>,
    returns_to_pool: bool,
}

impl EndOfBody {
    fn ended(&self, err: Option<TraceError>) {
        if self.returns_to_pool && self.state.first(Once::PutIdle) {
            self.state.trace.put_idle_conn(&PutIdleConnInfo::new(err));
        }
        self.state.end_stream();
    }
}

impl Drop for EndOfBody {
    fn drop(&mut self) {
        self.ended(Some(TraceError::msg(DROPPED_UNREAD)));
    }
}

impl<B: Body> TracedResponseBody<B> {
    /// `returns_to_pool`: whether reaching the end returns the connection to the pool
    /// (HTTP/1 with keep-alive); when false the end fires no `PutIdleConn`.
    pub(crate) fn new(inner: B, state: Arc<RequestState>, returns_to_pool: bool) -> Self {
        let body = TracedResponseBody {
            inner,
            end: Some(EndOfBody {
                state,
                returns_to_pool,
            }),
        };
        // No body at all (HEAD, 204, Content-Length: 0): as in Go, the connection is back in
        // the pool before the response reaches the caller.
        if body.inner.is_end_stream() {
            body.reached_end();
        }
        body
    }
}

impl<B> TracedResponseBody<B> {
    /// A body that reports to nobody.
    pub fn untraced(inner: B) -> Self {
        TracedResponseBody { inner, end: None }
    }

    fn reached_end(&self) {
        if let Some(end) = &self.end {
            end.ended(None);
        }
    }

    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// The wrapped body.
    pub fn get_mut(&mut self) -> &mut B {
        &mut self.inner
    }

    /// Unwraps the body; its end is then no longer reported.
    pub fn into_inner(mut self) -> B {
        if let Some(end) = self.end.take() {
            // Nobody will see the end now: say nothing rather than something false.
            end.state.first(Once::PutIdle);
            end.state.end_stream();
        }
        self.inner
    }
}

impl<B: Body> Body for TracedResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let mut this = self.project();
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        if let Some(end) = this.end.as_ref() {
            match &frame {
                None => end.ended(None),
                Some(Ok(f)) if f.is_trailers() => end.ended(None),
                // A data frame that leaves the body at its end (Content-Length reached):
                // the end, even if the caller never polls again.
                Some(Ok(_)) if this.inner.is_end_stream() => end.ended(None),
                Some(Ok(_)) => {}
                Some(Err(_)) => end.ended(Some(TraceError::msg(
                    "response body failed: the connection is closed, not returned to the pool",
                ))),
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        let end = self.inner.is_end_stream();
        if end {
            self.reached_end();
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> std::fmt::Debug for TracedResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedResponseBody")
            .field("traced", &self.end.is_some())
            .finish()
    }
}
