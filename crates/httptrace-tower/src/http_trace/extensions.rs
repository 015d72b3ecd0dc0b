//! What the layer adds to a request's extensions to watch it inside hyper, without
//! replacing what the caller added.

use std::sync::Arc;

use http::Request;
use hyper_util::client::legacy::connect::{capture_connection, CaptureConnection};

use crate::state::expect_gate::ExpectGate;
use crate::state::informational::watch_informational;
use crate::state::request::RequestState;

/// What to watch a request for.
pub(crate) struct Watch<'a> {
    /// The traced request, if it is (a gated request may be untraced).
    pub(crate) state: Option<&'a Arc<RequestState>>,
    /// 1xx hooks that the connection does not read off the wire.
    pub(crate) informational_hooks: bool,
    /// An `Expect: 100-continue` gate to open on `100 Continue`.
    pub(crate) gate: Option<&'a Arc<ExpectGate>>,
    /// The connection hyper-util hands the request to.
    pub(crate) connection: bool,
}

/// Adds what the layer needs to watch the request inside hyper: hyper-util's
/// `capture_connection` (how an HTTP/2 stream learns its connection, and how the layer can
/// keep a connection out of the pool) and, for 1xx hooks not read off the wire or a gate
/// waiting for `100 Continue`, hyper's informational callback. Neither replaces one the
/// caller added: the caller's extensions are merged over ours, so theirs are kept, and ours
/// then simply never fire (an HTTP/2 stream's hooks then fire when its response arrives;
/// 1xx hooks not at all).
pub(crate) fn watch_without_replacing<B>(
    req: &mut Request<B>,
    watch: Watch<'_>,
) -> Option<CaptureConnection> {
    let informational = watch.informational_hooks || watch.gate.is_some();
    if !watch.connection && !informational {
        return None;
    }
    let mut probe = Request::new(());
    let capture = watch.connection.then(|| capture_connection(&mut probe));
    if informational {
        watch_informational(&mut probe, watch.state, watch.gate);
    }
    let mut merged = std::mem::take(probe.extensions_mut());
    merged.extend(std::mem::take(req.extensions_mut()));
    *req.extensions_mut() = merged;
    capture
}
