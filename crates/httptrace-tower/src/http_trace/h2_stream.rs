//! The hooks of a request sent as an HTTP/2 stream.
//!
//! An HTTP/2 connection carries many requests at once, and hyper writes them from a task that
//! never touches the socket, so the HTTP/1 hand-off (`handoff.rs`) cannot apply. Instead the
//! layer learns the stream's connection from hyper-util's `capture_connection`, which hyper-util
//! fills in just before handing the request to the connection; the request's future returns
//! `Pending` right after (ARCHITECTURE.md, "HTTP/2"). There the layer fires `GotConn`, the
//! header fields as hyper will send them, and `WroteHeaders`; `WroteRequest` follows when the
//! body ends; `GotFirstResponseByte` when the response head arrives.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use httptrace::{GotConnInfo, WroteRequestInfo};

use crate::connect::ConnectionHandle;
use crate::state::connection::OpenStream;
use crate::state::request::{Milestone, RequestState};

/// The request was handed to HTTP/2 connection `conn`, at some point after stream sequence
/// number `seq` was current: streams opened before `seq` are others', never its own.
pub(crate) fn stream_started(state: &Arc<RequestState>, conn: &ConnectionHandle, seq: u64) {
    if !state.first(Milestone::GotConn) {
        return;
    }
    state.first(Milestone::Http2);
    let shared = &conn.shared;
    let handed_before = shared.h2_handoffs.fetch_add(1, Ordering::AcqRel) > 0;
    let (stream, traced_open) = OpenStream::open(conn);
    state.hold_stream(stream);
    // As Go's HTTP/2 transport: reused for every stream after the connection's first; idle
    // if reused and no other stream is open.
    let reused = handed_before || shared.opened_before(seq);
    let was_idle = reused && traced_open == 0 && !shared.open_from_before(seq);
    let idle_time = if was_idle {
        shared.idle_since().elapsed()
    } else {
        Duration::ZERO
    };
    let trace = &state.trace;
    trace.got_conn(&GotConnInfo::new(
        conn.info().clone(),
        reused,
        was_idle,
        idle_time,
    ));
    if let Some(head) = state.h2_head() {
        head.report_fields(|field| trace.wrote_header_field(field));
    }
    if state.first(Milestone::WroteHeaders) {
        trace.wrote_headers();
    }
    // hyper reports no 1xx on HTTP/2: the body waits for the timeout or a final response.
    if state.expects_continue && state.first(Milestone::Wait100Continue) {
        trace.wait_100_continue();
    }
    state.first(Milestone::HeadersReported);
    wrote_request_if_body_done(state);
}

/// `WroteRequest` once both the stream's head is out and its body has ended, whichever of the
/// two is seen last (they are seen on different tasks).
pub(crate) fn wrote_request_if_body_done(state: &RequestState) {
    if state.has(Milestone::Http2)
        && state.has(Milestone::HeadersReported)
        && state.has(Milestone::BodyDone)
        && state.first(Milestone::WroteRequest)
    {
        state.wrote_request(&WroteRequestInfo::new(None));
    }
}
