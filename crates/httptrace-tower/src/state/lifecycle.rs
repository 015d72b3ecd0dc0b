//! One attempt of a traced request, from `GotConn` to the end of its response: which of its
//! once-only events have happened, and the hooks that report them, fired only here and only in
//! Go's order.
//!
//! The order kept: `GotConn` before everything the connection tells (never after the first
//! response byte); `WroteHeaders` after `GotConn`, then `Wait100Continue`; `RequestBodyDone`
//! before `WroteRequest`; a complete `WroteRequest` only once the body has ended (and, for an
//! HTTP/2 stream, once its head's hooks have returned, which another task may be firing); each
//! hook at most once per attempt. The protocols decide *when* (the HTTP/1 connection's bytes,
//! the HTTP/2 connection task's polls); this type decides *whether*.

use std::sync::atomic::{AtomicU16, Ordering};

use httptrace::{
    BodyDoneInfo, ClientTrace, GotConnInfo, HookKind, Http2StreamResetInfo, TraceError,
    WroteRequestInfo,
};

/// Once-only events, as bits of `Lifecycle::fired`.
#[derive(Clone, Copy)]
enum Milestone {
    GotConn = 1,
    WroteHeaders = 2,
    /// Not a hook: the request body reached its end (or was cut short).
    BodyEnded = 4,
    WroteRequest = 8,
    FirstByte = 16,
    /// Not a hook: hyper's HTTP/2 connection task polled or dropped the request body, which
    /// it does once the stream has its place (`h2_stream::slot_taken`).
    StreamSlot = 32,
    /// Not a hook: the request went out as an HTTP/2 stream.
    Http2 = 64,
    /// Not a hook: `WroteHeaders` (and `Wait100Continue`) have returned, so `WroteRequest`,
    /// fired from another task, cannot overtake them.
    HeadersReported = 128,
    /// The request body's end has been reported (`RequestBodyDone`), or will never be.
    RequestBodyDone = 256,
    /// The response body's end has been reported (`PutIdleConn`, `ResponseBodyDone`).
    ResponseEnded = 512,
    /// `Http2StreamOpened` has begun: the stream's head hooks are being fired.
    StreamOpened = 1024,
    /// `Http2StreamReset`.
    StreamReset = 2048,
    /// Not a hook: the hooks that follow `Http2StreamOpened` have all returned.
    StreamOpenedDone = 4096,
}

/// How the writing of a request ended, for `WroteRequest`.
pub(crate) enum Written {
    /// All of it is on the wire (reported once the body has ended).
    Complete,
    /// The body was held back: the server answered before `100 Continue`.
    Withheld,
    /// Writing failed or was abandoned.
    Failed(TraceError),
}

/// The once-only events of one attempt of a request (see the module docs).
#[derive(Default)]
pub(crate) struct Lifecycle {
    fired: AtomicU16,
}

impl Lifecycle {
    /// Marks `event`; true the first time only.
    fn first(&self, event: Milestone) -> bool {
        let bit = event as u16;
        self.fired.fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    fn has(&self, event: Milestone) -> bool {
        self.fired.load(Ordering::Acquire) & event as u16 != 0
    }

    /// `GotConn`, once per attempt and never after the response's first byte. `info` is made
    /// (with whatever it claims on the connection) only when the hook is to fire.
    pub(crate) fn got_conn(&self, trace: &ClientTrace, info: impl FnOnce() -> GotConnInfo) -> bool {
        if self.has(Milestone::FirstByte) || !self.first(Milestone::GotConn) {
            return false;
        }
        trace.got_conn(&info());
        true
    }

    /// `GotConn` for a request that goes out as an HTTP/2 stream: the stream's hooks follow.
    pub(crate) fn got_stream(
        &self,
        trace: &ClientTrace,
        info: impl FnOnce() -> GotConnInfo,
    ) -> bool {
        let got = self.got_conn(trace, info);
        if got {
            self.first(Milestone::Http2);
        }
        got
    }

    /// Whether the attempt has its connection (`GotConn` fired).
    pub(crate) fn has_conn(&self) -> bool {
        self.has(Milestone::GotConn)
    }

    /// Whether the attempt went out as an HTTP/2 stream.
    pub(crate) fn is_stream(&self) -> bool {
        self.has(Milestone::Http2)
    }

    /// `WroteHeaders`, then `Wait100Continue` for a request that expects it: once, after
    /// `GotConn`.
    pub(crate) fn wrote_headers(&self, trace: &ClientTrace, expects_continue: bool) {
        if !self.has(Milestone::GotConn) {
            return;
        }
        if self.first(Milestone::WroteHeaders) {
            trace.wrote_headers();
            if expects_continue {
                trace.wait_100_continue();
            }
        }
        self.first(Milestone::HeadersReported);
    }

    /// The stream got its place on its connection; true the first time.
    pub(crate) fn stream_got_slot(&self) -> bool {
        self.first(Milestone::StreamSlot)
    }

    pub(crate) fn stream_has_slot(&self) -> bool {
        self.has(Milestone::StreamSlot)
    }

    /// Claims the stream's head hooks (`Http2StreamOpened` and what follows), once the
    /// stream has its connection and its place: true for the one caller that fires them,
    /// which then calls [`stream_hooks_fired`](Self::stream_hooks_fired).
    pub(crate) fn open_stream(&self) -> bool {
        self.has(Milestone::Http2)
            && self.has(Milestone::StreamSlot)
            && self.first(Milestone::StreamOpened)
    }

    pub(crate) fn stream_hooks_fired(&self) {
        self.first(Milestone::StreamOpenedDone);
    }

    /// Whether another task is firing the stream's head hooks right now.
    pub(crate) fn stream_hooks_running(&self) -> bool {
        self.has(Milestone::StreamOpened) && !self.has(Milestone::StreamOpenedDone)
    }

    /// `Http2StreamReset`, once, for a request that went out as a stream.
    pub(crate) fn stream_reset(&self, trace: &ClientTrace, info: &Http2StreamResetInfo) {
        if self.has(Milestone::Http2) && self.first(Milestone::StreamReset) {
            trace.http2_stream_reset(info);
        }
    }

    /// The request body ended (or was cut short); true the first time.
    pub(crate) fn body_ended(&self) -> bool {
        self.first(Milestone::BodyEnded)
    }

    pub(crate) fn has_body_ended(&self) -> bool {
        self.has(Milestone::BodyEnded)
    }

    /// `RequestBodyDone`, once: `cut_short` says why the body did not reach its end.
    pub(crate) fn request_body_done(
        &self,
        trace: &ClientTrace,
        bytes: u64,
        cut_short: Option<&'static str>,
    ) {
        if trace.is_set(HookKind::RequestBodyDone) && self.first(Milestone::RequestBodyDone) {
            let err = cut_short.map(TraceError::msg);
            trace.request_body_done(&BodyDoneInfo::new(bytes, err));
        }
    }

    /// The request body's end will not be reported (it was unwrapped).
    pub(crate) fn never_report_request_body(&self) {
        self.first(Milestone::RequestBodyDone);
    }

    /// Whether the request's head and body are known to be all out: what a complete
    /// `WroteRequest` waits for (an HTTP/1 connection also waits for its flush).
    pub(crate) fn all_written(&self) -> bool {
        self.has(Milestone::BodyEnded)
            && (!self.has(Milestone::Http2) || self.has(Milestone::HeadersReported))
    }

    /// `WroteRequest`, once per attempt and only after `GotConn`; a complete one only once
    /// [`all_written`](Self::all_written). A body that ended reports `RequestBodyDone` first
    /// (`bytes` sent): hyper may take a whole body before writing a byte of the head.
    pub(crate) fn wrote_request(&self, trace: &ClientTrace, written: Written, bytes: u64) -> bool {
        if !self.has(Milestone::GotConn)
            || (matches!(written, Written::Complete) && !self.all_written())
            || !self.first(Milestone::WroteRequest)
        {
            return false;
        }
        if self.has(Milestone::BodyEnded) {
            self.request_body_done(trace, bytes, None);
        }
        let err = match written {
            Written::Failed(err) => Some(err),
            Written::Complete | Written::Withheld => None,
        };
        trace.wrote_request(&WroteRequestInfo::new(err));
        true
    }

    pub(crate) fn has_written(&self) -> bool {
        self.has(Milestone::WroteRequest)
    }

    /// `GotFirstResponseByte`, once; true when it fired.
    pub(crate) fn first_byte(&self, trace: &ClientTrace) -> bool {
        let first = self.first(Milestone::FirstByte);
        if first {
            trace.got_first_response_byte();
        }
        first
    }

    pub(crate) fn has_first_byte(&self) -> bool {
        self.has(Milestone::FirstByte)
    }

    /// The response body's end is to be reported; true the first time (then, or never).
    pub(crate) fn response_ended(&self) -> bool {
        self.first(Milestone::ResponseEnded)
    }

    /// hyper-util sends the request again on another connection: the attempt's once-only
    /// events may happen again on the new one.
    pub(crate) fn retried(&self) {
        let again = [
            Milestone::GotConn,
            Milestone::Http2,
            Milestone::WroteHeaders,
            Milestone::HeadersReported,
            Milestone::WroteRequest,
        ];
        let bits = again.iter().fold(0, |bits, event| bits | *event as u16);
        self.fired.fetch_and(!bits, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use httptrace::{ConnectionId, ConnectionInfo, EventLog};
    use std::time::Duration;

    fn info() -> GotConnInfo {
        GotConnInfo::new(
            ConnectionInfo::new(ConnectionId::next(), None, None),
            false,
            false,
            Duration::ZERO,
        )
    }

    /// Whatever order the protocols call them in, the hooks come out in Go's order, each
    /// once: nothing before `GotConn`, no `GotConn` after the first byte.
    #[test]
    fn hooks_fire_once_and_in_gos_order_whatever_the_calls_order() {
        let log = EventLog::new();
        let trace = log.trace();
        let life = Lifecycle::default();
        life.wrote_headers(&trace, true);
        assert!(!life.wrote_request(&trace, Written::Failed(TraceError::msg("x")), 0));
        assert!(life.got_stream(&trace, info));
        assert!(!life.got_conn(&trace, || unreachable!("claimed once")));
        assert!(
            !life.wrote_request(&trace, Written::Complete, 0),
            "body not ended"
        );
        life.body_ended();
        assert!(
            !life.wrote_request(&trace, Written::Complete, 0),
            "the stream's head hooks have not returned"
        );
        life.wrote_headers(&trace, true);
        life.wrote_headers(&trace, true);
        assert!(life.wrote_request(&trace, Written::Complete, 0));
        assert!(!life.wrote_request(&trace, Written::Complete, 0));
        assert!(life.first_byte(&trace));
        assert!(!life.first_byte(&trace));
        life.retried();
        assert!(
            !life.got_conn(&trace, info),
            "no GotConn after the first byte"
        );
        assert_eq!(
            log.names(),
            [
                "GotConn",
                "WroteHeaders",
                "Wait100Continue",
                "WroteRequest",
                "GotFirstResponseByte"
            ]
        );
    }

    /// A retried attempt reports its connection, head and end again.
    #[test]
    fn a_retry_before_any_answer_reports_the_attempt_again() {
        let log = EventLog::new();
        let trace = log.trace();
        let life = Lifecycle::default();
        assert!(life.got_conn(&trace, info));
        life.wrote_headers(&trace, false);
        life.retried();
        assert!(life.got_conn(&trace, info));
        life.wrote_headers(&trace, false);
        assert!(life.wrote_request(&trace, Written::Withheld, 0));
        assert_eq!(
            log.names(),
            [
                "GotConn",
                "WroteHeaders",
                "GotConn",
                "WroteHeaders",
                "WroteRequest"
            ]
        );
    }
}
