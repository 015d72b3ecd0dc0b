//! [`ResponseFuture`]: runs the inner client's future with the request's trace in effect
//! while a connector may still run for it, and wraps the response body.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use http::{Response, Version};
use httptrace::{BoxError, HookKind, TraceError};
use hyper_util::client::legacy::connect::CaptureConnection;
use pin_project_lite::pin_project;

use crate::connect::{http1_got_conn, ConnectionHandle, Http1Reuse};
use crate::error::TooManyInformational;
use crate::http_trace::h2_stream::{self, stream_started};
use crate::http_trace::response_body::{EndOfBody, PutIdle, TracedResponseBody};
use crate::state::connection::next_stream_seq;
use crate::state::expect_gate::ExpectGate;
use crate::state::learned::Learned;
use crate::state::lifecycle::Written;
use crate::state::request::RequestState;
use httptrace::wire::protocol_name;
use httptrace::wire::returns_to_pool;

pin_project! {
    /// The future of [`HttpTrace`](crate::HttpTrace).
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F: Future> {
        #[pin]
        kind: Kind<F>,
    }
}

pin_project! {
    /// An untraced request holds its inner future alone; a traced one, its state boxed.
    #[project = KindProj]
    enum Kind<F: Future> {
        Untraced {
            #[pin]
            inner: F,
        },
        // No trace, but an `Expect: 100-continue` gate to drive.
        Gated {
            #[pin]
            inner: F,
            gate: Option<Arc<ExpectGate>>,
            // The connection hyper-util handed the request to, to poison if the body is
            // withheld.
            connected: Option<CaptureConnection>,
        },
        Traced {
            #[pin]
            inner: F,
            traced: Box<TracedParts<F::Output>>,
        },
    }
}

/// What a traced request's future keeps beside the inner future.
struct TracedParts<O> {
    state: Option<Arc<RequestState>>,
    request_close: bool,
    // `Expect: 100-continue`: the gate holding the request body.
    gate: Option<Arc<ExpectGate>>,
    // Watched until it names the request's connection (HTTP/2 streams start there).
    capture: Option<CaptureConnection>,
    // The connection hyper-util handed the request to, kept to poison it when the request
    // must not leave it reusable (a veto, a withheld body).
    connected: Option<CaptureConnection>,
    // The HTTP/2 stream sequence number current when the first poll began, 0 before it
    // (see `h2_stream::stream_started`; the sequence starts at 1).
    seq_first_poll: u64,
    // Not watched for an HTTP/2 hand-off: the layer's flag to set if it went out as one.
    learn_http2: Option<Learned>,
    // An HTTP/2 stream's capture and connection, watched while that connection has
    // received GOAWAY: hyper-util may send the stream again on another.
    retry_watch: Option<RetryWatch>,
    // The inner future's output, held while hyper's connection task fires the stream's
    // hooks (`h2_stream::stream_hooks_done`): the response's come after them.
    parked: Option<O>,
}

/// The capture of a request whose HTTP/2 stream was handed to `conn`.
struct RetryWatch {
    capture: CaptureConnection,
    conn: ConnectionHandle,
}

/// What a traced request's future keeps.
pub(crate) struct Traced {
    pub(crate) state: Arc<RequestState>,
    /// The request said `Connection: close`.
    pub(crate) request_close: bool,
    pub(crate) gate: Option<Arc<ExpectGate>>,
    pub(crate) capture: Option<CaptureConnection>,
    pub(crate) learn_http2: Option<Learned>,
}

impl<F: Future> ResponseFuture<F> {
    pub(crate) fn untraced(inner: F) -> Self {
        ResponseFuture {
            kind: Kind::Untraced { inner },
        }
    }

    /// No trace, but an `Expect: 100-continue` gate to drive.
    pub(crate) fn gated(inner: F, gate: Arc<ExpectGate>, capture: CaptureConnection) -> Self {
        ResponseFuture {
            kind: Kind::Gated {
                inner,
                gate: Some(gate),
                connected: Some(capture),
            },
        }
    }

    pub(crate) fn traced(inner: F, traced: Traced) -> Self {
        ResponseFuture {
            kind: Kind::Traced {
                inner,
                traced: Box::new(TracedParts {
                    state: Some(traced.state),
                    request_close: traced.request_close,
                    gate: traced.gate,
                    capture: traced.capture,
                    connected: None,
                    seq_first_poll: 0,
                    learn_http2: traced.learn_http2,
                    retry_watch: None,
                    parked: None,
                }),
            },
        }
    }
}

/// Marks the request's HTTP/1 connection as not to be reused.
fn poison(connected: &Option<CaptureConnection>) {
    if let Some(capture) = connected {
        if let Some(connected) = capture.connection_metadata().as_ref() {
            connected.poison();
        }
    }
}

/// A final response arrived before `100 Continue`: if the body was still waiting, it is not
/// sent, and an HTTP/1 connection whose request was cut short is not reused.
fn withheld<B>(
    gate: &Option<Arc<ExpectGate>>,
    res: &Response<B>,
    connected: &Option<CaptureConnection>,
) -> bool {
    let withheld = gate.as_ref().is_some_and(|g| g.final_response());
    if withheld && res.version() != Version::HTTP_2 {
        poison(connected);
    }
    withheld
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
    B: http_body::Body,
{
    type Output = Result<Response<TracedResponseBody<B>>, crate::Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Untraced { inner } => {
                let res = ready!(inner.poll(cx)).map_err(|e| crate::Error::Service(e.into()))?;
                Poll::Ready(Ok(res.map(TracedResponseBody::untraced)))
            }
            KindProj::Gated {
                inner,
                gate,
                connected,
            } => {
                let res = ready!(inner.poll(cx)).map_err(|e| crate::Error::Service(e.into()))?;
                withheld(gate, &res, connected);
                let gate = gate.take();
                Poll::Ready(Ok(res.map(|body| TracedResponseBody::new(body, None, gate))))
            }
            KindProj::Traced { inner, traced } => poll_traced(inner, traced, cx),
        }
    }
}

fn poll_traced<F, B, E>(
    inner: Pin<&mut F>,
    this: &mut TracedParts<F::Output>,
    cx: &mut Context<'_>,
) -> Poll<Result<Response<TracedResponseBody<B>>, crate::Error>>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: Into<BoxError>,
    B: http_body::Body,
{
    if let Some(parked) = this.parked.take() {
        return finish(this, parked, cx);
    }
    // The stream sequence number current as this poll begins.
    let mut seq_this_poll = 0;
    if let Some(state) = this.state.as_ref().filter(|s| s.may_be_http2) {
        state.owner_task.get_or_init(tokio::task::try_id);
    }
    if this.capture.is_some() {
        seq_this_poll = next_stream_seq();
        if this.seq_first_poll == 0 {
            this.seq_first_poll = seq_this_poll;
        }
    }
    let polled = if this.state.as_ref().is_some_and(|s| needs_lending(s)) {
        RequestState::in_effect(&mut this.state, || inner.poll(cx))
    } else {
        inner.poll(cx)
    };
    let state = this.state.as_ref().expect("given back after the poll");
    let keep = state.may_abort_1xx() || this.gate.is_some();
    let cleartext_http2 = this.learn_http2.is_none();
    if let Some(watch) = &mut this.retry_watch {
        watch_retry(state, watch, this.seq_first_poll, cleartext_http2);
    }
    watch_handoff(
        state,
        &mut this.capture,
        keep.then_some(&mut this.connected),
        &mut this.retry_watch,
        seq_this_poll,
        cleartext_http2,
    );
    // Checked after polling: a 1xx always comes before its final response, so a veto
    // made while the response was arriving is seen here, before the response is given.
    let may_abort = state.may_abort_1xx();
    if let Some(veto) = may_abort.then(|| state.take_veto(cx.waker())).flatten() {
        let state = this.state.take().expect("polled after completion");
        let err = match veto.downcast::<TooManyInformational>() {
            Ok(too_many) => crate::Error::TooManyInformational(*too_many),
            Err(veto) => crate::Error::Aborted(veto),
        };
        if state.lifecycle.has_conn() && !state.lifecycle.has_written() {
            let why = match &err {
                crate::Error::Aborted(veto) => {
                    format!("request aborted by a Got1xxResponse hook: {veto}")
                }
                other => format!("request aborted: {other}"),
            };
            state.wrote_request(Written::Failed(TraceError::msg(why)));
        }
        state.end_stream();
        state.answered(None);
        // As Go, the connection is not reused after a veto (whatever the server sends next
        // belongs to the abandoned exchange); the response is dropped unread.
        poison(&this.connected);
        drop(polled);
        return Poll::Ready(Err(err));
    }
    let result = ready!(polled);
    finish(this, result, cx)
}

/// The inner future's output, once hyper's connection task is not firing the stream's
/// hooks (else it is parked, and the task wakes this one when they are done).
fn finish<B, E>(
    this: &mut TracedParts<Result<Response<B>, E>>,
    result: Result<Response<B>, E>,
    cx: &mut Context<'_>,
) -> Poll<Result<Response<TracedResponseBody<B>>, crate::Error>>
where
    E: Into<BoxError>,
    B: http_body::Body,
{
    let state = this.state.as_ref().expect("polled after completion");
    if !h2_stream::stream_hooks_done(state, cx.waker()) {
        this.parked = Some(result);
        return Poll::Pending;
    }
    let state = this.state.take().expect("polled after completion");
    let seq = this.seq_first_poll;
    Poll::Ready(match result {
        Ok(mut res) => {
            state.answered(Some(res.status()));
            if res.version() == Version::HTTP_2 {
                if let Some(flag) = &this.learn_http2 {
                    flag.see();
                }
            }
            let withheld = withheld(&this.gate, &res, &this.connected);
            let end = respond(&mut res, state, this.request_close, seq, withheld);
            let gate = this.gate.take();
            // The response is moved once, here (it is large: each move is a copy).
            Ok(res.map(|body| TracedResponseBody::new(body, Some(end), gate)))
        }
        Err(err) => {
            let err: BoxError = err.into();
            h2_stream::failed(&state, &*err);
            state.answered(None);
            state.wrote_request(Written::Failed(TraceError::describe(&*err)));
            state.end_stream();
            Err(crate::Error::Service(err))
        }
    })
}

/// Whether the inner client's poll needs the request's trace and identity in effect: while a
/// connector may still run for it. hyper gives a request back to hyper-util (which sends it
/// again, maybe on a connection it dials) only while no connection task has taken it: on
/// HTTP/1 until its head is written (its `GotConn`), on HTTP/2 until hyper's connection task
/// has opened its stream (its slot); a stream named by hyper-util's capture has its `GotConn`
/// before that, at the pool's hand-off.
fn needs_lending(state: &RequestState) -> bool {
    let life = &state.lifecycle;
    !life.has_conn() || (life.is_stream() && !life.stream_has_slot())
}

/// Once hyper-util names the request's connection: an HTTP/2 stream starts now; an HTTP/1
/// request is its connection's I/O's business (`handoff.rs`), so stop watching (but `keep`
/// the connection, where given, to poison it later).
///
/// Unless ALPN says h2, the connection is only looked at when `cleartext_http2` may be
/// spoken (reading our handle out of hyper-util's `Connected` costs an allocation per extra).
fn watch_handoff(
    state: &Arc<RequestState>,
    capture: &mut Option<CaptureConnection>,
    keep: Option<&mut Option<CaptureConnection>>,
    retry_watch: &mut Option<RetryWatch>,
    seq: u64,
    cleartext_http2: bool,
) {
    let Some(watched) = capture.as_ref() else {
        return;
    };
    let Some(conn) = named(watched, cleartext_http2) else {
        return;
    };
    let Some(watched) = capture.take() else {
        return;
    };
    let conn = conn.filter(ConnectionHandle::is_http2);
    if let Some(conn) = &conn {
        stream_started(state, conn, seq);
        *retry_watch = Some(RetryWatch {
            capture: watched.clone(),
            conn: conn.clone(),
        });
    }
    if let Some(keep) = keep {
        *keep = Some(watched);
    }
}

/// The connection `capture` names: `None` before it names one; then its handle, read only
/// where it may speak HTTP/2 (see `watch_handoff`).
fn named(capture: &CaptureConnection, cleartext_http2: bool) -> Option<Option<ConnectionHandle>> {
    match capture.connection_metadata().as_ref() {
        None => None,
        Some(connected) if connected.is_negotiated_h2() || cleartext_http2 => {
            Some(ConnectionHandle::from_connected(connected))
        }
        Some(_) => Some(None),
    }
}

/// hyper-util sends a stream that never started again on another connection when the one it
/// was handed to shut down first (after GOAWAY), and names that one in the capture
/// (`h2_stream::started_again`). Looked at only once the connection the stream was handed
/// to has received GOAWAY.
fn watch_retry(state: &Arc<RequestState>, watch: &mut RetryWatch, seq: u64, cleartext_http2: bool) {
    if !watch.conn.shared.going_away() || state.lifecycle.has_first_byte() {
        return;
    }
    let Some(Some(now)) = named(&watch.capture, cleartext_http2) else {
        return;
    };
    if now.is_http2() && h2_stream::started_again(state, &watch.conn.shared, &now, seq) {
        watch.conn = now;
    }
}

/// The response head arrived: its hooks, its timings, and what its body's end will tell.
fn respond<B>(
    res: &mut Response<B>,
    state: Arc<RequestState>,
    request_close: bool,
    seq: u64,
    withheld: bool,
) -> EndOfBody {
    let handed_over = state.lifecycle.has_conn();
    if !handed_over {
        // The request's connection was not named before its response came: report what is
        // known now that the response is here (a connection's handle is in the response
        // unless `TraceConnector::http2_only_by_alpn` left it out).
        if let Some(conn) = res.extensions().get::<ConnectionHandle>() {
            if conn.is_http2() {
                stream_started(&state, conn, seq);
            } else {
                // HTTP/1 whose I/O counted the exchange but did not see the request's head
                // hand-off (see `handoff.rs`).
                let reused = conn.requests_served() > 1;
                let reuse = Http1Reuse {
                    reused,
                    idle_since: reused.then(Instant::now),
                };
                http1_got_conn(&state, &conn.shared, reuse);
            }
        }
    }
    h2_stream::responded(&state);
    state.lifecycle.first_byte(&state.trace);
    if let Some(timings) = &state.timings {
        timings.response(res.status(), protocol_name(res.version()));
        res.extensions_mut().insert(timings.clone());
    }
    if withheld {
        // The decision not to send the body is the end of writing the request.
        state.wrote_request(Written::Withheld);
    }
    // An HTTP/1 connection whose close is reported learns how this exchange ends. The
    // request's hand-off kept it then; the response's handle names it otherwise.
    let conn = match res.version() {
        Version::HTTP_2 | Version::HTTP_3 => None,
        _ => match state.http1_connection() {
            Some(shared) => shared.reports_close().then(|| ConnectionHandle {
                shared: shared.clone(),
            }),
            None if handed_over => None,
            None => res
                .extensions()
                .get::<ConnectionHandle>()
                .filter(|conn| conn.shared.reports_close())
                .cloned(),
        },
    };
    // Whether the connection goes back to the pool is told to a `PutIdleConn` hook and to a
    // connection that reports its close; for nobody else are the heads looked at.
    let put_idle = if conn.is_some() || state.trace.is_set(HookKind::PutIdleConn) {
        match (returns_to_pool(res, request_close), withheld) {
            (true, false) => PutIdle::Returns,
            (true, true) => PutIdle::NotReusedBodyWithheld,
            (false, _) => PutIdle::Never,
        }
    } else {
        PutIdle::Never
    };
    EndOfBody::new(state, put_idle, conn)
}

impl<F: Future> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (traced, expect_continue) = match &self.kind {
            Kind::Untraced { .. } => (false, false),
            Kind::Gated { gate, .. } => (false, gate.is_some()),
            Kind::Traced { traced, .. } => (traced.state.is_some(), traced.gate.is_some()),
        };
        f.debug_struct("ResponseFuture")
            .field("traced", &traced)
            .field("expect_continue", &expect_continue)
            .finish()
    }
}
