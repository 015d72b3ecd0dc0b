//! Attaching a trace to one request and reading back the effective one: Go's
//! `WithClientTrace` and `ContextClientTrace`.

use http::{Extensions, Request};

use crate::trace::ClientTrace;

/// The request extension holding the trace. Private, so that every attach composes.
#[derive(Clone)]
struct Attached(ClientTrace);

/// Attaches `trace` to `req`, in addition to any trace already attached: `trace`'s hooks run
/// first, then the earlier ones' (Go's `WithClientTrace`). Attaching the same trace twice runs
/// its hooks twice.
///
/// ```
/// use httptrace::{client_trace, with_client_trace, ClientTrace};
///
/// let mut req = http::Request::new(());
/// assert!(client_trace(&req).is_none());
/// with_client_trace(&mut req, ClientTrace::new().on_wrote_headers(|| {}));
/// assert!(client_trace(&req).is_some());
/// ```
pub fn with_client_trace<B>(req: &mut Request<B>, trace: ClientTrace) {
    attach_to_extensions(req.extensions_mut(), trace)
}

/// The trace attached to `req`, all attached traces composed (Go's `ContextClientTrace`).
pub fn client_trace<B>(req: &Request<B>) -> Option<&ClientTrace> {
    extensions_client_trace(req.extensions())
}

/// [`with_client_trace`] for a request's extensions alone (an `http::request::Parts`).
pub fn attach_to_extensions(ext: &mut Extensions, trace: ClientTrace) {
    let effective = match ext.get::<Attached>() {
        Some(Attached(previous)) => trace.compose(previous),
        None => trace,
    };
    ext.insert(Attached(effective));
}

/// [`client_trace`] for a request's extensions alone.
pub fn extensions_client_trace(ext: &Extensions) -> Option<&ClientTrace> {
    ext.get::<Attached>().map(|a| &a.0)
}

/// Removes and returns the attached trace, so that instrumentation fires it exactly once.
pub fn take_client_trace(ext: &mut Extensions) -> Option<ClientTrace> {
    ext.remove::<Attached>().map(|a| a.0)
}
