//! 1xx responses: `Got100Continue`, `Got1xxResponse`, and the veto a `Got1xxResponse` hook
//! may return.
//!
//! A traced HTTP/1 connection reads them off the wire (`wire/interim.rs`); otherwise hyper
//! reports them to a callback carried in the request's extensions
//! (`hyper::ext::on_informational`). Both run on the connection's task; neither exists for
//! HTTP/2. A veto is kept in the request's state, closes the traced connection, and the
//! request's future, woken, fails with it; so does a sixth 1xx response (Go's limit), which
//! fires no hook.

use std::sync::{Arc, Weak};

use http::{Request, StatusCode};
use httptrace::Got1xxResponseInfo;

use crate::error::{TooManyInformational, MAX_INFORMATIONAL};
use crate::state::expect_gate::ExpectGate;
use crate::state::request::RequestState;

/// Adds the 1xx callback for a request to `probe` (merged into the request by the caller, so
/// that a callback the caller set stays theirs): its hooks, if traced, and its
/// `Expect: 100-continue` gate, if any.
pub(crate) fn watch_informational(
    probe: &mut Request<()>,
    state: Option<&Arc<RequestState>>,
    gate: Option<&Arc<ExpectGate>>,
) {
    let state: Option<Weak<RequestState>> = state.map(Arc::downgrade);
    let gate = gate.cloned();
    hyper::ext::on_informational(probe, move |res| {
        if res.status() == StatusCode::CONTINUE {
            if let Some(gate) = &gate {
                gate.open();
            }
        }
        if let Some(state) = state.as_ref().and_then(Weak::upgrade) {
            informational(&state, res.status(), res.headers());
        }
    });
}

/// One informational response arrived. As Go's HTTP/1 transport: `Got100Continue` first,
/// then `Got1xxResponse`; past [`MAX_INFORMATIONAL`] of them, the request fails instead.
pub(crate) fn informational(state: &RequestState, status: StatusCode, headers: &http::HeaderMap) {
    if status == StatusCode::SWITCHING_PROTOCOLS || state.is_aborted() {
        return; // a final response, or one nobody waits for any more
    }
    if state.count_informational() > MAX_INFORMATIONAL {
        state.abort(Box::new(TooManyInformational::new(status)));
        return;
    }
    if status == StatusCode::CONTINUE {
        state.trace.got_100_continue();
    }
    let info = Got1xxResponseInfo::new(status, headers.clone());
    if let Err(veto) = state.trace.got_1xx_response(&info) {
        state.abort(veto);
    }
}
