//! `Expect: 100-continue` for hyper's client, which never waits: the request body is held
//! until the server answers `100 Continue` (then it is sent), a final response comes first
//! (then it is not sent), or the timeout passes (then it is sent anyway; Go's
//! `ExpectContinueTimeout`, 1 s by default).
//!
//! The gate is shared by the request body (which waits on it), hyper's informational callback
//! (a 100 opens it), the response future (a final response closes it) and the response body
//! (whose end lets the withheld request body finish, so that hyper never cuts the response
//! short by failing the request body while the response is still being read).

use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use http::{header, HeaderMap};

/// Go's default `ExpectContinueTimeout`.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);

/// Whether `headers` ask the server to confirm before the body is sent.
pub(crate) fn expects_continue(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::EXPECT)
        .iter()
        .any(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// No answer yet: the body waits.
    Waiting,
    /// `100 Continue`, or the timeout: the body goes.
    Send,
    /// A final response came first: the body is not sent. `released` once that response's
    /// body has ended.
    Withheld { released: bool },
}

pub(crate) struct ExpectGate {
    timeout: Duration,
    state: Mutex<(Phase, Option<Waker>)>,
}

impl ExpectGate {
    pub(crate) fn new(timeout: Duration) -> Self {
        ExpectGate {
            timeout,
            state: Mutex::new((Phase::Waiting, None)),
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    fn change(&self, from: impl Fn(Phase) -> Option<Phase>) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match from(state.0) {
            Some(next) => {
                state.0 = next;
                if let Some(waker) = state.1.take() {
                    waker.wake();
                }
                true
            }
            None => false,
        }
    }

    /// `100 Continue` arrived, or the timeout passed: send the body (if still waiting).
    pub(crate) fn open(&self) -> bool {
        self.change(|p| (p == Phase::Waiting).then_some(Phase::Send))
    }

    /// A final response arrived; true if the body is withheld because of it.
    pub(crate) fn final_response(&self) -> bool {
        self.change(|p| (p == Phase::Waiting).then_some(Phase::Withheld { released: false }))
    }

    /// The final response's body has ended (or was dropped).
    pub(crate) fn release(&self) {
        self.change(|p| {
            (p == Phase::Withheld { released: false }).then_some(Phase::Withheld { released: true })
        });
    }

    /// The phase now; registers `cx` to be woken when it changes.
    pub(crate) fn poll_phase(&self, cx: &mut Context<'_>) -> Poll<Phase> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.0 {
            Phase::Waiting | Phase::Withheld { released: false } => {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
            phase => Poll::Ready(phase),
        }
    }
}

impl std::fmt::Debug for ExpectGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let phase = self.state.lock().unwrap_or_else(|e| e.into_inner()).0;
        f.debug_struct("ExpectGate").field("phase", &phase).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_answer_decides() {
        let gate = ExpectGate::new(DEFAULT_TIMEOUT);
        assert!(gate.open());
        assert!(!gate.final_response(), "the body already went");
        let gate = ExpectGate::new(DEFAULT_TIMEOUT);
        assert!(gate.final_response());
        assert!(!gate.open(), "a late 100 does not send a withheld body");
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(
            gate.poll_phase(&mut cx).is_pending(),
            "held until the response ends"
        );
        gate.release();
        assert_eq!(
            gate.poll_phase(&mut cx),
            Poll::Ready(Phase::Withheld { released: true })
        );
    }

    #[test]
    fn only_100_continue_is_the_expectation() {
        let mut h = HeaderMap::new();
        assert!(!expects_continue(&h));
        h.insert(header::EXPECT, "100-Continue".parse().unwrap());
        assert!(expects_continue(&h));
        h.insert(header::EXPECT, "something-else".parse().unwrap());
        assert!(!expects_continue(&h));
    }
}
