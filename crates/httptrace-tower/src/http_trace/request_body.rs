//! [`TracedRequestBody`]: tells the connection when the request body has ended, so that
//! `WroteRequest` fires once the last of it is on the wire; holds the body back for
//! `Expect: 100-continue` (`state/expect_gate.rs`).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

use std::cell::Cell;

use crate::http_trace::h2_stream::{body_asked, slot_taken, wrote_request_if_body_done};
use crate::state::expect_gate::{ExpectGate, Phase};
use crate::state::handoff;
use crate::state::request::RequestState;

pin_project! {
    /// A request body as the traced stack sends it. Frames, size hint and end of stream are
    /// the inner body's, unchanged; for `Expect: 100-continue` they wait for the server's
    /// answer, and are not sent at all if a final response comes first.
    pub struct TracedRequestBody<B> {
        #[pin]
        inner: B,
        state: Option<BodyOf>,
        // Boxed: only `Expect: 100-continue` requests have one, and every request body is
        // moved a few times on its way to the connection.
        gate: Option<Box<Gate>>,
    }
}

/// The gate an `Expect: 100-continue` body waits on, and its timer once started.
struct Gate {
    gate: Arc<ExpectGate>,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// Why a request body did not reach its end.
const BODY_FAILED: &str = "request body failed";
const BODY_DROPPED: &str =
    "request body dropped before its end (the request failed or was cancelled)";
const BODY_HELD_BACK: &str = "request body not sent: the server answered before `100 Continue`";

/// The traced request a body belongs to. Dropped before the body's end, it reports that to
/// `RequestBodyDone` (a body that ended has already reported, and reports once).
struct BodyOf(Arc<RequestState>);

impl Drop for BodyOf {
    fn drop(&mut self) {
        // hyper drops a body it will not send (a GET's, say) before it flushes the head.
        offer_until_handed_over_to(&self.0);
        // On HTTP/2, hyper's connection task drops it once the stream has its place.
        slot_taken(&self.0);
        // A body that reached its end reports with `WroteRequest`.
        if !self.0.lifecycle.has_body_ended() {
            self.0.request_body_done(Some(BODY_DROPPED));
        }
    }
}

impl<B> TracedRequestBody<B> {
    pub(crate) fn new(
        inner: B,
        state: Option<Arc<RequestState>>,
        gate: Option<Arc<ExpectGate>>,
    ) -> Self {
        TracedRequestBody {
            inner,
            state: state.map(BodyOf),
            gate: gate.map(|gate| Box::new(Gate { gate, timer: None })),
        }
    }

    /// A body that reports to nobody and never waits (for requests sent without a trace).
    pub fn untraced(inner: B) -> Self {
        Self::new(inner, None, None)
    }

    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// The wrapped body.
    pub fn get_mut(&mut self) -> &mut B {
        &mut self.inner
    }

    /// Unwraps the body; its end is then not reported.
    pub fn into_inner(self) -> B {
        if let Some(state) = &self.state {
            // Marked as reported, its drop says nothing.
            state.0.lifecycle.never_report_request_body();
        }
        self.inner
    }
}

impl<B: Default> Default for TracedRequestBody<B> {
    fn default() -> Self {
        Self::untraced(B::default())
    }
}

/// The body ended (`cut_short`: without sending all of it).
fn ended(state: &Option<BodyOf>, cut_short: Option<&'static str>) {
    if let Some(BodyOf(state)) = state {
        if state.lifecycle.body_ended() {
            if let Some(timings) = &state.timings {
                timings.request_body_ended(state.request_bytes.load(Ordering::Relaxed));
            }
            if cut_short.is_some() {
                state.request_body_done(cut_short);
            }
            // HTTP/1 waits for the flush that puts the end on the wire (`http1_tracker.rs`).
            wrote_request_if_body_done(state);
        }
    }
}

/// What the gate lets the body do now.
enum Go {
    Send,
    Withheld,
}

/// Waits on `gate`; the timer starts at the first poll (hyper polls the body only once the
/// head is encoded), and opens the gate when it fires.
fn poll_gate(
    gate: &ExpectGate,
    timer: &mut Option<Pin<Box<tokio::time::Sleep>>>,
    started: bool,
    cx: &mut Context<'_>,
) -> Poll<Go> {
    if !started {
        *timer = Some(Box::pin(tokio::time::sleep(gate.timeout())));
    }
    loop {
        match gate.poll_phase(cx) {
            Poll::Ready(Phase::Send) => return Poll::Ready(Go::Send),
            Poll::Ready(Phase::Withheld { .. }) => return Poll::Ready(Go::Withheld),
            Poll::Ready(Phase::Waiting) => unreachable!("poll_phase is pending while waiting"),
            Poll::Pending => {
                let Some(sleep) = timer.as_mut() else {
                    return Poll::Pending;
                };
                ready!(sleep.as_mut().poll(cx));
                *timer = None;
                // The server did not answer in time: send the body (Go does the same).
                gate.open();
            }
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
        if self.state.is_none() && self.gate.is_none() {
            return self.project().inner.poll_frame(cx); // nobody to tell, nothing to hold
        }
        offer_until_handed_over(&self.state);
        if let Some(BodyOf(state)) = &self.state {
            // On HTTP/2, hyper's connection task polls it once the stream has its place.
            slot_taken(state);
        }
        let mut this = self.project();
        if let Some(Gate { gate, timer }) = this.gate.as_deref_mut() {
            let started = timer.is_some();
            match ready!(poll_gate(gate, timer, started, cx)) {
                Go::Send => {
                    *this.gate = None;
                }
                Go::Withheld => {
                    // Not a byte of it: the end now (hyper then closes an HTTP/1 connection
                    // whose request was announced with a length it did not get).
                    ended(this.state, Some(BODY_HELD_BACK));
                    return Poll::Ready(None);
                }
            }
        }
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        if let Some(BodyOf(state)) = this.state {
            state.count_bytes(&state.request_bytes, &frame);
        }
        match &frame {
            None => ended(this.state, None),
            Some(Ok(_)) if this.inner.is_end_stream() => ended(this.state, None),
            // An error fails the request; the layer reports it in `WroteRequest`.
            Some(Err(_)) => {
                if let Some(BodyOf(state)) = this.state {
                    state.request_body_done(Some(BODY_FAILED));
                }
            }
            Some(Ok(_)) => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        // hyper asks this in the connection's task right before it encodes the head: the
        // hand-off (`handoff.rs`). An inner `HttpTrace` asks it too, to learn that the
        // request is traced already (`traced_outside`).
        offer_until_handed_over(&self.state);
        if let Some(BodyOf(state)) = &self.state {
            TRACED_BODY_ASKED.set(true);
            body_asked(state);
        }
        let end = self.inner.is_end_stream();
        if end {
            ended(&self.state, None);
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        offer_until_handed_over(&self.state);
        if let Some(BodyOf(state)) = &self.state {
            body_asked(state);
        }
        self.inner.size_hint()
    }
}

/// Offers the request to the connection about to write it (`handoff.rs`), until one has taken
/// it. hyper asks the body `is_end_stream`, then `size_hint` if it has not ended, and polls it
/// for its first frame or drops it, all before it flushes the head: whichever of these
/// reaches this body through wrappers that pass only some of them on makes the offer.
fn offer_until_handed_over(state: &Option<BodyOf>) {
    if let Some(BodyOf(state)) = state {
        offer_until_handed_over_to(state);
    }
}

fn offer_until_handed_over_to(state: &Arc<RequestState>) {
    if !state.lifecycle.has_conn() {
        handoff::offer(state);
    }
}

thread_local! {
    /// A traced body was asked `is_end_stream` on this thread (see [`traced_outside`]).
    static TRACED_BODY_ASKED: Cell<bool> = const { Cell::new(false) };
}

/// Whether `body` has ended, and whether it is the body of a request an outer `HttpTrace`
/// traces (a [`TracedRequestBody`] with a request, possibly under wrappers that ask their
/// inner body), which an inner `HttpTrace` then leaves alone.
pub(crate) fn traced_outside<B: Body>(body: &B) -> (bool, bool) {
    TRACED_BODY_ASKED.set(false);
    let ended = body.is_end_stream();
    (ended, TRACED_BODY_ASKED.replace(false))
}

impl<B> std::fmt::Debug for TracedRequestBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedRequestBody")
            .field("traced", &self.state.is_some())
            .field("expect_continue", &self.gate.as_ref().map(|g| &g.gate))
            .finish()
    }
}
