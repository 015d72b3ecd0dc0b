//! [`TracedRequestBody`]: tells the connection when the request body has ended, so that
//! `WroteRequest` fires once the last of it is on the wire.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use crate::h2_stream::wrote_request_if_body_done;
use crate::request_state::{Once, RequestState};

pin_project! {
    /// A request body as the traced stack sends it. Frames, size hint and end of stream are
    /// the inner body's, unchanged.
    pub struct TracedRequestBody<B> {
        #[pin]
        inner: B,
        state: Option<Arc<RequestState>>,
    }
}

impl<B> TracedRequestBody<B> {
    pub(crate) fn new(inner: B, state: Option<Arc<RequestState>>) -> Self {
        TracedRequestBody { inner, state }
    }

    /// A body that reports to nobody (for requests sent without a trace).
    pub fn untraced(inner: B) -> Self {
        Self::new(inner, None)
    }

    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// The wrapped body.
    pub fn get_mut(&mut self) -> &mut B {
        &mut self.inner
    }

    /// Unwraps the body.
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B: Default> Default for TracedRequestBody<B> {
    fn default() -> Self {
        Self::untraced(B::default())
    }
}

fn ended(state: &Option<Arc<RequestState>>) {
    if let Some(state) = state {
        if state.first(Once::BodyDone) {
            // HTTP/1 waits for the flush that puts the end on the wire (`http1_tracker.rs`).
            wrote_request_if_body_done(state);
        }
    }
}

impl<B: Body> Body for TracedRequestBody<B>
where
    B::Data: Buf,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let mut this = self.project();
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        match &frame {
            None => ended(this.state),
            Some(Ok(_)) if this.inner.is_end_stream() => ended(this.state),
            // An error fails the request; the layer reports it in `WroteRequest`.
            Some(_) => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        let end = self.inner.is_end_stream();
        if end {
            ended(&self.state);
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> std::fmt::Debug for TracedRequestBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedRequestBody")
            .field("traced", &self.state.is_some())
            .finish()
    }
}
