//! [`TracedResponseBody`]: the response body's end decides `PutIdleConn`, ends the request's
//! HTTP/2 stream, and lets a withheld `Expect: 100-continue` request body finish.

use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http_body::{Body, Frame, SizeHint};
use httptrace::{BodyDoneInfo, HookKind, PutIdleConnInfo, TraceError};
use pin_project_lite::pin_project;

use crate::connect::ConnectionHandle;
use crate::state::exchange_end::ExchangeEnd;
use crate::state::expect_gate::ExpectGate;
use crate::state::request::RequestState;
use httptrace::wire::{BODY_FAILED, DROPPED_UNREAD};

/// Why the connection is not reused after a request whose body was withheld.
/// The body ended after its client, and so the pool, was dropped (Go: the pool closed).
const POOL_GONE: &str = "pool closed: the client was dropped before the response body ended";
const BODY_WITHHELD: &str = "the request body was not sent (the server answered before \
`100 Continue`): the connection is closed, not returned to the pool";

/// What the end of the response means for the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PutIdle {
    /// HTTP/1 keep-alive: back to the pool at the end (`PutIdleConn(None)`).
    Returns,
    /// HTTP/1, but not reused: the request body was withheld (`BODY_WITHHELD`).
    NotReusedBodyWithheld,
    /// No `PutIdleConn` (HTTP/2; `Connection: close`; `101`).
    Never,
}

pin_project! {
    /// A response body that fires `PutIdleConn` at its end: `None` when it reaches its end
    /// (the connection goes back to the pool), an error when it is dropped first or fails.
    /// Frames and end of stream are the inner body's, unchanged.
    pub struct TracedResponseBody<B> {
        // Before `inner`, so that it is dropped first: an HTTP/1 connection learns why it
        // is closing before dropping the body closes it.
        end: Option<EndOfBody>,
        #[pin]
        inner: B,
        gate: Option<GateRelease>,
    }
}

/// The response's end, for the traced request; dropping it before the end reports the
/// early drop.
pub(crate) struct EndOfBody {
    state: Arc<RequestState>,
    put_idle: PutIdle,
    /// The HTTP/1 connection, when its close is reported: told how the exchange ended.
    conn: Option<ConnectionHandle>,
}

impl EndOfBody {
    /// The end of `state`'s response body; `conn` is told how the exchange ended when its
    /// close is reported.
    pub(crate) fn new(
        state: Arc<RequestState>,
        put_idle: PutIdle,
        conn: Option<ConnectionHandle>,
    ) -> Self {
        EndOfBody {
            state,
            put_idle,
            conn,
        }
    }

    /// The body ended, cut short by `cut_short` if it did not reach its end. The error is
    /// only made when it is reported (a body that ended normally is dropped after).
    fn ended(&self, cut_short: Option<&'static str>) {
        if self.state.lifecycle.response_ended() {
            self.report(cut_short);
        }
        self.state.end_stream();
    }

    /// Timings, the connection's exchange, `PutIdleConn`, then `ResponseBodyDone`.
    fn report(&self, cut_short: Option<&'static str>) {
        let bytes = self.state.response_bytes.load(Ordering::Relaxed);
        if let Some(timings) = &self.state.timings {
            timings.response_ended(bytes, cut_short);
        }
        if let Some(conn) = &self.conn {
            conn.shared.set_exchange(match (self.put_idle, cut_short) {
                (PutIdle::Returns, None) => ExchangeEnd::Returned,
                (PutIdle::Returns, Some(DROPPED_UNREAD)) => ExchangeEnd::DroppedUnread,
                _ => ExchangeEnd::NotReusable,
            });
        }
        // `report` runs once per response (`Lifecycle::response_ended`), so `PutIdleConn` does too.
        if !matches!(self.put_idle, PutIdle::Never) {
            let pool_gone = || {
                self.state
                    .http1_connection()
                    .is_some_and(|conn| conn.client_gone())
            };
            let err = match self.put_idle {
                PutIdle::NotReusedBodyWithheld => Some(BODY_WITHHELD),
                _ if cut_short.is_none() && pool_gone() => Some(POOL_GONE),
                _ => cut_short,
            };
            let err = err.map(TraceError::msg);
            self.state.trace.put_idle_conn(&PutIdleConnInfo::new(err));
        }
        if self.state.trace.is_set(HookKind::ResponseBodyDone) {
            let err = cut_short.map(TraceError::msg);
            self.state
                .trace
                .response_body_done(&BodyDoneInfo::new(bytes, err));
        }
    }
}

impl Drop for EndOfBody {
    fn drop(&mut self) {
        self.ended(Some(DROPPED_UNREAD));
    }
}

/// Lets a withheld request body finish once this response is over (at its end, or dropped).
pub(crate) struct GateRelease(Arc<ExpectGate>);

impl Drop for GateRelease {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl<B: Body> TracedResponseBody<B> {
    pub(crate) fn new(inner: B, end: Option<EndOfBody>, gate: Option<Arc<ExpectGate>>) -> Self {
        let body = TracedResponseBody {
            inner,
            end,
            gate: gate.map(GateRelease),
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
        TracedResponseBody {
            inner,
            end: None,
            gate: None,
        }
    }

    fn reached_end(&self) {
        if let Some(end) = &self.end {
            end.ended(None);
        }
        if let Some(gate) = &self.gate {
            gate.0.release();
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
            end.state.lifecycle.response_ended();
            end.state.end_stream();
        }
        self.inner
    }
}

impl<B: Body> Body for TracedResponseBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    #[inline]
    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let mut this = self.project();
        if this.end.is_none() && this.gate.is_none() {
            return this.inner.poll_frame(cx); // nobody to tell: the inner body's frames
        }
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        if let Some(end) = this.end.as_ref() {
            end.state.count_bytes(&end.state.response_bytes, &frame);
        }
        let at_end = match &frame {
            None => true,
            Some(Ok(f)) if f.is_trailers() => true,
            // A data frame that leaves the body at its end (Content-Length reached): the
            // end, even if the caller never polls again.
            Some(Ok(_)) => this.inner.is_end_stream(),
            Some(Err(_)) => false,
        };
        let failed = matches!(frame, Some(Err(_)));
        if at_end || failed {
            if let Some(end) = this.end.as_ref() {
                end.ended((!at_end).then_some(BODY_FAILED));
            }
            // The response is over: a withheld request body may finish now.
            drop(this.gate.take());
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
