//! The hooks of a request sent as an HTTP/2 stream.
//!
//! An HTTP/2 connection carries many requests at once, and hyper writes them from a task that
//! never touches the socket, so the HTTP/1 hand-off (`handoff.rs`) cannot apply. Instead the
//! stream learns its connection from the hyper task that takes its body: spawned through a
//! [`TraceExecutor`](crate::TraceExecutor), that task has its connection in effect
//! (`body_asked`, `state/serving.rs`); on another executor, the stream learns it from
//! hyper-util's `capture_connection`, filled in just before the request is handed over,
//! which the request's next poll reads (ARCHITECTURE.md, "HTTP/2"). Either fires `GotConn`.
//!
//! hyper's connection task then takes the request, opens its stream (h2 holds it while the
//! connection carries as many streams as the server allows) and, once the stream has its
//! place, polls the request body or drops it (`poll_pipe` in hyper's `proto/h2/client.rs`):
//! the body wrapper's signal. At the later of the two, `Http2StreamOpened`, the header fields
//! as hyper sends them, and `WroteHeaders` fire, as Go's HTTP/2 transport does after waiting
//! for a stream slot. `WroteRequest` follows when the body ends; `GotFirstResponseByte` when
//! the response head arrives. A stream reset, or cut by GOAWAY, is read from the h2 error that
//! fails the request.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use httptrace::{
    GotConnInfo, HookKind, Http2ErrorCode, Http2Sender, Http2StreamOpenedInfo,
    Http2StreamResetInfo, ResetFrame,
};

use crate::connect::ConnectionHandle;
use crate::state::connection::{next_stream_seq, ConnShared};
use crate::state::handle::OpenStream;
use crate::state::lifecycle::Written;
use crate::state::request::RequestState;
use crate::state::serving;

/// The request was handed to HTTP/2 connection `conn`, at some point after stream sequence
/// number `seq` was current: streams opened before `seq` are others', never its own. The one
/// place an HTTP/2 stream gets its `GotConn`.
pub(crate) fn stream_started(state: &Arc<RequestState>, conn: &ConnectionHandle, seq: u64) {
    let got = state.lifecycle.got_stream(&state.trace, || {
        let shared = &conn.shared;
        let handed_before = shared.h2_handoffs.fetch_add(1, Ordering::AcqRel) > 0;
        let (stream, traced_open) = OpenStream::open(conn);
        state.hold_stream(stream);
        // As Go's HTTP/2 transport: reused for every stream after the connection's first;
        // idle if reused and no other stream is open.
        let reused = handed_before || shared.opened_before(seq);
        let was_idle = reused && traced_open == 0 && !shared.open_from_before(seq);
        let idle_time = if was_idle {
            shared.idle_since().elapsed()
        } else {
            Duration::ZERO
        };
        let mut times = state.stream_times();
        times.handed = Some(Instant::now());
        times.stop_waiting(); // on the connection of an attempt before, if any
        times.at_limit = times.slot.is_none() && shared.at_stream_limit(traced_open);
        if times.at_limit && shared.stats.is_some() {
            shared.stream_waiting(true);
            times.counted_waiting = Some(shared.clone());
        }
        drop(times);
        GotConnInfo::new(conn.info().clone(), reused, was_idle, idle_time)
    });
    if got {
        stream_opened_if_ready(state);
    }
}

/// hyper's connection task polled or dropped the request body: the stream has its place on
/// the connection (for an HTTP/1 request, nothing follows from it). A body dropped by the
/// request's own task never reached that connection task (hyper-util gave it back with an
/// error): no signal.
pub(crate) fn slot_taken(state: &Arc<RequestState>) {
    if state.lifecycle.stream_has_slot() {
        return;
    }
    let serving = serving::connection().filter(|conn| conn.is_http2());
    if !state.may_be_http2 && serving.is_none() {
        return;
    }
    if let Some(here) = tokio::task::try_id() {
        if state.owner_task.get() == Some(&Some(here)) {
            return;
        }
    }
    if let Some(conn) = serving.filter(|_| !state.lifecycle.has_conn()) {
        // Not named when the body was asked: the streams opened before it was asked are
        // others'.
        let seq = state.stream_times().asked.unwrap_or_else(next_stream_seq);
        stream_started(state, &ConnectionHandle { shared: conn }, seq);
    }
    got_slot(state);
}

/// The body is asked `size_hint` or `is_end_stream`: hyper's HTTP/2 connection task does so
/// right before it opens the stream, so the stream sequence number now bounds the streams
/// opened before this one. Asked by a task that serves an HTTP/2 connection
/// (`state/serving.rs`), the request has its connection now: `GotConn`, before its HEADERS
/// can be written (and so before any answer). Asked there again after its first connection
/// received GOAWAY, hyper-util is sending it again on another: a second `GetConn` and
/// `GotConn`, as Go reports a retry.
pub(crate) fn body_asked(state: &Arc<RequestState>) {
    let Some(conn) = serving::connection() else {
        return;
    };
    // A connection's task asks: the client spawns them through a `TraceExecutor`.
    if let Some(linked) = &state.learn_linked {
        linked.see();
    }
    if !conn.is_http2() {
        return;
    }
    if !state.lifecycle.has_conn() {
        let seq = next_stream_seq();
        state.stream_times().asked = Some(seq);
        stream_started(state, &ConnectionHandle { shared: conn }, seq);
    } else if let Some(before) = state.stream_connection() {
        started_again(
            state,
            &before,
            &ConnectionHandle { shared: conn },
            next_stream_seq(),
        );
    }
}

/// The stream handed to `before` is sent again on `now` by hyper-util, `before` having
/// received GOAWAY before opening it: the failed attempt ends there, and the request gets its
/// connection again, as Go reports a retry (a second `GetConn` and `GotConn`). Whether it was.
pub(crate) fn started_again(
    state: &Arc<RequestState>,
    before: &Arc<ConnShared>,
    now: &ConnectionHandle,
    seq: u64,
) -> bool {
    if Arc::ptr_eq(before, &now.shared) || !before.going_away() || state.lifecycle.has_first_byte()
    {
        return false;
    }
    state.lifecycle.retried();
    state
        .trace
        .get_conn(&httptrace::GetConnInfo::new(&now.shared.destination));
    stream_started(state, now, seq);
    true
}

fn got_slot(state: &RequestState) {
    {
        let mut times = state.stream_times();
        times.slot.get_or_insert_with(Instant::now);
        times.stop_waiting();
    }
    if state.lifecycle.stream_got_slot() {
        stream_opened_if_ready(state);
    }
}

/// `Http2StreamOpened`, the header fields and `WroteHeaders`, once the request has its
/// connection (`GotConn`) and its stream its place, whichever is seen last.
fn stream_opened_if_ready(state: &RequestState) {
    if !state.lifecycle.open_stream() {
        return;
    }
    let trace = &state.trace;
    if trace.is_set(HookKind::Http2StreamOpened) {
        // A stream handed while the connection had room waited for nothing.
        let waited = {
            let times = state.stream_times();
            match (times.handed, times.slot) {
                (Some(handed), Some(slot)) if times.at_limit => {
                    slot.saturating_duration_since(handed)
                }
                _ => Duration::ZERO,
            }
        };
        let limit = state
            .stream_connection()
            .and_then(|conn| conn.peer_max_streams());
        trace.http2_stream_opened(&Http2StreamOpenedInfo::new(waited, limit));
    }
    if let Some(head) = state.h2_head() {
        head.report_fields(|field| trace.wrote_header_field(field));
    }
    // hyper reports no 1xx on HTTP/2: a body held back for `100 Continue` waits for the
    // timeout or a final response.
    state
        .lifecycle
        .wrote_headers(&state.trace, state.expects_continue);
    wrote_request_if_body_done(state);
    state.lifecycle.stream_hooks_fired();
    // The request's own task may be waiting to fire the response's hooks.
    let waiting = state.stream_times().waiting.take();
    if let Some(waker) = waiting {
        waker.wake();
    }
}

/// Whether the request's own task may fire the response's (or the failure's) hooks now:
/// not while hyper's connection task is firing the stream's (`Http2StreamOpened` to
/// `WroteRequest`), which come first. Then `waker` is woken once they are done.
pub(crate) fn stream_hooks_done(state: &RequestState, waker: &Waker) -> bool {
    if !state.lifecycle.stream_hooks_running() {
        return true;
    }
    state.stream_times().waiting = Some(waker.clone());
    // Done between the first look and the waker's registration: no wake will come.
    !state.lifecycle.stream_hooks_running()
}

/// The response head arrived: the stream certainly had its place, whether or not the body
/// wrapper was there to tell (a layer between this one and the client may swap the body).
pub(crate) fn responded(state: &RequestState) {
    if state.lifecycle.is_stream() && !state.lifecycle.stream_has_slot() {
        got_slot(state);
    }
}

/// The request failed: if its HTTP/2 stream was reset or cut by GOAWAY, `Http2StreamReset`
/// with the frame's code (read from the h2 error under hyper's).
pub(crate) fn failed(state: &RequestState, err: &(dyn std::error::Error + 'static)) {
    if !state.lifecycle.is_stream() || !state.trace.is_set(HookKind::Http2StreamReset) {
        return;
    }
    let Some(h2) = std::iter::successors(Some(err), |e| e.source())
        .find_map(|e| e.downcast_ref::<h2::Error>())
    else {
        return;
    };
    let frame = if h2.is_reset() {
        ResetFrame::RstStream
    } else if h2.is_go_away() {
        ResetFrame::GoAway
    } else {
        return;
    };
    let sender = if h2.is_remote() {
        Http2Sender::Server
    } else {
        Http2Sender::Client
    };
    let code = Http2ErrorCode(h2.reason().map_or(0x2, u32::from));
    let info = Http2StreamResetInfo::new(code, sender, frame);
    state.lifecycle.stream_reset(&state.trace, &info);
}

/// `WroteRequest` once both the stream's head is out and its body has ended, whichever of the
/// two is seen last (they are seen on different tasks).
pub(crate) fn wrote_request_if_body_done(state: &RequestState) {
    if state.lifecycle.is_stream() {
        state.wrote_request(Written::Complete);
    }
}
