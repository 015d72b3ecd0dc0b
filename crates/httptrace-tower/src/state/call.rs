//! One call of [`CallTraceLayer`](crate::CallTraceLayer), shared by its future and the
//! attempts made inside it, and the call in effect on this thread.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use http::{Request, StatusCode};
use httptrace::{AttemptStartInfo, CallDoneInfo, ClientTrace, EnteredTrace, TraceError};

use crate::state::in_effect::{self, Entered};

/// Reports `CallDone` once: with the result, or, dropped first, as abandoned.
pub(crate) struct CallEnd(Arc<CallState>);

impl CallEnd {
    /// `call`'s end, to report once.
    pub(crate) fn new(call: Arc<CallState>) -> Self {
        CallEnd(call)
    }

    /// The call, to put in effect.
    pub(crate) fn call(&self) -> &Arc<CallState> {
        &self.0
    }

    /// `CallDone` with the result.
    pub(crate) fn done(mut self, status: Option<StatusCode>, err: Option<TraceError>) {
        self.report(status, err);
    }

    fn report(&mut self, status: Option<StatusCode>, err: Option<TraceError>) {
        let call = &self.0;
        if call.reported() {
            return;
        }
        call.trace.call_done(&CallDoneInfo::new(
            call.attempts.load(Ordering::Relaxed),
            status,
            err,
            call.started.elapsed(),
        ));
    }
}

impl Drop for CallEnd {
    fn drop(&mut self) {
        self.report(
            None,
            Some(TraceError::msg(
                "the call was dropped before it had a result",
            )),
        );
    }
}

/// One call, shared by its future and the attempts made inside it.
pub(crate) struct CallState {
    trace: ClientTrace,
    attempts: AtomicU32,
    /// The previous attempt's status, 0 when it had none (or there was none). `u16::MAX`
    /// once `CallDone` was reported.
    previous_status: AtomicU16,
    started: Instant,
}

const REPORTED: u16 = u16::MAX;

impl CallState {
    /// A call begins, reported to `trace`.
    pub(crate) fn new(trace: ClientTrace) -> Arc<Self> {
        Arc::new(CallState {
            trace,
            attempts: AtomicU32::new(0),
            previous_status: AtomicU16::new(0),
            started: Instant::now(),
        })
    }

    fn reported(&self) -> bool {
        self.previous_status.swap(REPORTED, Ordering::AcqRel) == REPORTED
    }

    /// The call is in effect on this thread until the drop.
    pub(crate) fn enter(self: &Arc<Self>) -> EnteredCall {
        EnteredCall {
            _call: in_effect::enter(&CURRENT_CALL, self),
            _trace: self.trace.enter(),
        }
    }

    /// An attempt of this call goes out: `AttemptStart` on `trace` (the attempt's, which
    /// includes the call's).
    pub(crate) fn attempt_started<B>(&self, trace: &ClientTrace, req: &Request<B>) {
        let attempt = self.attempts.fetch_add(1, Ordering::Relaxed) + 1;
        let previous = match self.previous_status.load(Ordering::Acquire) {
            0 | REPORTED => None,
            code => StatusCode::from_u16(code).ok(),
        };
        trace.attempt_start(&AttemptStartInfo::new(
            attempt,
            req.method().clone(),
            req.uri().clone(),
            previous,
        ));
    }

    /// The current attempt ended with `status` (`None`: with an error).
    pub(crate) fn attempt_answered(&self, status: Option<StatusCode>) {
        let code = status.map_or(0, |s| s.as_u16());
        let _ = self
            .previous_status
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                (v != REPORTED).then_some(code)
            });
    }
}

thread_local! {
    static CURRENT_CALL: RefCell<Option<Arc<CallState>>> = const { RefCell::new(None) };
}

/// The call being polled on this thread, if any (none while a hook runs).
/// A request a hook sends is no attempt of the call.
pub(crate) fn current_call() -> Option<Arc<CallState>> {
    in_effect::current(&CURRENT_CALL)
}

/// Puts the previous call and trace back in effect, on drop.
pub(crate) struct EnteredCall {
    _call: Entered<CallState>,
    _trace: EnteredTrace,
}
