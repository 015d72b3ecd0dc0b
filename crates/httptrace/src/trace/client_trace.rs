//! [`ClientTrace`]: the type, its hooks and how two traces compose.

use std::fmt;
use std::sync::Arc;

use super::kind::HookKind;
use super::recorders::{records, Recorders};
use crate::hook::{
    chain, chain_fallible, chain_field, chain_get_conn, FallibleHook, FieldHook, GetConnHook, Hook,
};
use crate::info::go::{
    ConnectDoneInfo, ConnectStartInfo, DnsDoneInfo, DnsStartInfo, Got1xxResponseInfo, GotConnInfo,
    PutIdleConnInfo, TlsHandshakeDoneInfo, WroteRequestInfo,
};
use crate::info::http2::{Http2GoAwayInfo, Http2StreamOpenedInfo, Http2StreamResetInfo};
use crate::info::ours::{
    AttemptStartInfo, BodyDoneInfo, CallDoneInfo, CallStartInfo, ConnClosedInfo,
};
use crate::record::timings::TimingsRecorder;

/// A set of hooks run at the stages of an outgoing HTTP request: Go's `httptrace.ClientTrace`.
///
/// Build one with [`ClientTrace::new`] and the `on_*` methods; any hook may be left unset,
/// and an unset hook costs nothing. A trace is cheap to clone (one reference count) and may
/// be shared by any number of requests and threads: hooks may run concurrently, on other
/// tasks than the request's, and some after the request finished (a dial that completes in
/// the background reports to the request that started it).
///
/// The methods without `on_` (such as [`ClientTrace::dns_start`]) call the hook; the
/// instrumentation does that, and so may a connector of yours.
///
/// A hook that panics is contained: see [`hook_panics`](crate::hook_panics).
///
/// # Rules for hooks
/// - **Hooks must not block.** They run inline: on the request's task, on the connection's
///   task, and from `Drop` in the caller's context (dropping a response body fires
///   `PutIdleConn` and `ResponseBodyDone` before the drop returns; dropping a request
///   future reports a lookup, dial or handshake as cancelled). Hand slow work to a channel
///   or a task. What a slow hook costs: over HTTP/2 (hyper), a stream's hooks from `GotConn`
///   to `WroteRequest` run on the one task that opens every stream of its connection, so a
///   hook that takes *d* delays each stream of that connection queued behind it by *d*; over
///   HTTP/1 it delays its own connection, and the worker thread it runs on.
/// - **A request a hook sends is its own.** While a hook runs no trace is in effect
///   ([`in_hook`](crate::in_hook)), so a request sent (or spawned) from a hook is not traced
///   by the request that fired it, nor counted as an attempt of its call: no feedback loop.
/// - **A hook may call back into the library.** No lock of the library's is held while a
///   hook runs.
/// - **Hooks get the raw data.** Header values and URLs reach hooks as sent; only the
///   ready-made outputs redact ([`Redaction`](crate::Redaction)).
/// - **`ConnClosed` outlives the request**: see [`on_conn_closed`](Self::on_conn_closed).
///
/// ```
/// use httptrace::ClientTrace;
/// use std::sync::{Arc, Mutex};
///
/// let log = Arc::new(Mutex::new(Vec::new()));
/// let seen = log.clone();
/// let trace = ClientTrace::new()
///     .on_get_conn(move |info| seen.lock().unwrap().push(format!("GetConn {}", info.host_port)))
///     .on_wrote_headers(|| {});
///
/// trace.get_conn(&httptrace::GetConnInfo::new("example.com:80"));
/// assert_eq!(*log.lock().unwrap(), ["GetConn example.com:80"]);
/// ```
#[derive(Clone, Default)]
pub struct ClientTrace {
    /// `None` for a trace with no hook: making, cloning and dropping one then touches no
    /// shared memory and allocates nothing.
    pub(super) hooks: Option<Arc<Hooks>>,
    /// A timings recorder that runs after everything in `hooks`: one request's recorder
    /// composed under a shared trace takes this slot, so that composing it allocates no
    /// `Hooks` of its own.
    pub(super) last: Option<TimingsRecorder>,
}

/// The hooks of a trace with none set.
static NO_HOOKS: Hooks = Hooks {
    get_conn: None,
    got_conn: None,
    put_idle_conn: None,
    got_first_response_byte: None,
    got_100_continue: None,
    got_1xx_response: None,
    dns_start: None,
    dns_done: None,
    connect_start: None,
    connect_done: None,
    tls_handshake_start: None,
    tls_handshake_done: None,
    wrote_header_field: None,
    wrote_headers: None,
    wait_100_continue: None,
    wrote_request: None,
    request_body_done: None,
    response_body_done: None,
    conn_closed: None,
    call_start: None,
    attempt_start: None,
    call_done: None,
    http2_stream_opened: None,
    http2_stream_reset: None,
    http2_goaway: None,
    got_1xx_may_veto: false,
    recorders: Recorders::NONE,
};

#[derive(Clone, Default)]
pub(super) struct Hooks {
    pub(super) get_conn: GetConnHook,
    pub(super) got_conn: Hook<GotConnInfo>,
    pub(super) put_idle_conn: Hook<PutIdleConnInfo>,
    pub(super) got_first_response_byte: Hook<()>,
    pub(super) got_100_continue: Hook<()>,
    pub(super) got_1xx_response: FallibleHook<Got1xxResponseInfo>,
    pub(super) dns_start: Hook<DnsStartInfo>,
    pub(super) dns_done: Hook<DnsDoneInfo>,
    pub(super) connect_start: Hook<ConnectStartInfo>,
    pub(super) connect_done: Hook<ConnectDoneInfo>,
    pub(super) tls_handshake_start: Hook<()>,
    pub(super) tls_handshake_done: Hook<TlsHandshakeDoneInfo>,
    pub(super) wrote_header_field: FieldHook,
    pub(super) wrote_headers: Hook<()>,
    pub(super) wait_100_continue: Hook<()>,
    pub(super) wrote_request: Hook<WroteRequestInfo>,
    pub(super) request_body_done: Hook<BodyDoneInfo>,
    pub(super) response_body_done: Hook<BodyDoneInfo>,
    pub(super) conn_closed: Hook<ConnClosedInfo>,
    pub(super) call_start: Hook<CallStartInfo>,
    pub(super) attempt_start: Hook<AttemptStartInfo>,
    pub(super) call_done: Hook<CallDoneInfo>,
    pub(super) http2_stream_opened: Hook<Http2StreamOpenedInfo>,
    pub(super) http2_stream_reset: Hook<Http2StreamResetInfo>,
    pub(super) http2_goaway: Hook<Http2GoAwayInfo>,
    /// The `Got1xxResponse` hook may return an error (it was set with
    /// `on_got_1xx_response`, not `on_got_1xx_response_seen`).
    pub(super) got_1xx_may_veto: bool,
    /// Timings recorders, run after the hooks above, in the order of composition.
    pub(super) recorders: Recorders,
}

impl ClientTrace {
    /// A trace with no hook set.
    pub fn new() -> Self {
        Self::default()
    }

    pub(super) fn hooks_mut(&mut self) -> &mut Hooks {
        Arc::make_mut(self.hooks.get_or_insert_with(Default::default))
    }

    pub(super) fn hooks(&self) -> &Hooks {
        self.hooks.as_deref().unwrap_or(&NO_HOOKS)
    }
    /// Whether `kind`'s hook is set.
    pub fn is_set(&self, kind: HookKind) -> bool {
        let h = self.hooks();
        if (self.last.is_some() || !h.recorders.is_empty()) && records(kind) {
            return true;
        }
        match kind {
            HookKind::GetConn => h.get_conn.is_some(),
            HookKind::GotConn => h.got_conn.is_some(),
            HookKind::PutIdleConn => h.put_idle_conn.is_some(),
            HookKind::GotFirstResponseByte => h.got_first_response_byte.is_some(),
            HookKind::Got100Continue => h.got_100_continue.is_some(),
            HookKind::Got1xxResponse => h.got_1xx_response.is_some(),
            HookKind::DnsStart => h.dns_start.is_some(),
            HookKind::DnsDone => h.dns_done.is_some(),
            HookKind::ConnectStart => h.connect_start.is_some(),
            HookKind::ConnectDone => h.connect_done.is_some(),
            HookKind::TlsHandshakeStart => h.tls_handshake_start.is_some(),
            HookKind::TlsHandshakeDone => h.tls_handshake_done.is_some(),
            HookKind::WroteHeaderField => h.wrote_header_field.is_some(),
            HookKind::WroteHeaders => h.wrote_headers.is_some(),
            HookKind::Wait100Continue => h.wait_100_continue.is_some(),
            HookKind::WroteRequest => h.wrote_request.is_some(),
            HookKind::RequestBodyDone => h.request_body_done.is_some(),
            HookKind::ResponseBodyDone => h.response_body_done.is_some(),
            HookKind::ConnClosed => h.conn_closed.is_some(),
            HookKind::CallStart => h.call_start.is_some(),
            HookKind::AttemptStart => h.attempt_start.is_some(),
            HookKind::CallDone => h.call_done.is_some(),
            HookKind::Http2StreamOpened => h.http2_stream_opened.is_some(),
            HookKind::Http2StreamReset => h.http2_stream_reset.is_some(),
            HookKind::Http2GoAway => h.http2_goaway.is_some(),
        }
    }

    /// Combines two traces as Go's `WithClientTrace` does: `self` is the newly attached one,
    /// so for every hook set in both, `self`'s runs first and then `older`'s.
    ///
    /// Composing a trace with itself runs each of its hooks twice, as in Go.
    ///
    /// `Got1xxResponse` may abort the request: both hooks run (newer first) and the first
    /// error is the result. Go returns the older hook's result and drops the newer one's
    /// error, which loses a veto; we keep it on purpose.
    pub fn compose(&self, older: &ClientTrace) -> ClientTrace {
        if older.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return older.clone();
        }
        if older.hooks.is_none() && self.last.is_none() {
            // `older` is a recorder alone: it goes last, beside `self`'s shared hooks.
            return ClientTrace {
                hooks: self.hooks.clone(),
                last: older.last.clone(),
            };
        }
        let (n, o) = (self.hooks(), older.hooks());
        ClientTrace {
            last: None,
            hooks: Some(Arc::new(Hooks {
                get_conn: chain_get_conn(&n.get_conn, &o.get_conn),
                got_conn: chain("GotConn", &n.got_conn, &o.got_conn),
                put_idle_conn: chain("PutIdleConn", &n.put_idle_conn, &o.put_idle_conn),
                got_first_response_byte: chain(
                    "GotFirstResponseByte",
                    &n.got_first_response_byte,
                    &o.got_first_response_byte,
                ),
                got_100_continue: chain("Got100Continue", &n.got_100_continue, &o.got_100_continue),
                got_1xx_response: chain_fallible(
                    "Got1xxResponse",
                    &n.got_1xx_response,
                    &o.got_1xx_response,
                ),
                dns_start: chain("DNSStart", &n.dns_start, &o.dns_start),
                dns_done: chain("DNSDone", &n.dns_done, &o.dns_done),
                connect_start: chain("ConnectStart", &n.connect_start, &o.connect_start),
                connect_done: chain("ConnectDone", &n.connect_done, &o.connect_done),
                tls_handshake_start: chain(
                    "TLSHandshakeStart",
                    &n.tls_handshake_start,
                    &o.tls_handshake_start,
                ),
                tls_handshake_done: chain(
                    "TLSHandshakeDone",
                    &n.tls_handshake_done,
                    &o.tls_handshake_done,
                ),
                wrote_header_field: chain_field(&n.wrote_header_field, &o.wrote_header_field),
                wrote_headers: chain("WroteHeaders", &n.wrote_headers, &o.wrote_headers),
                wait_100_continue: chain(
                    "Wait100Continue",
                    &n.wait_100_continue,
                    &o.wait_100_continue,
                ),
                wrote_request: chain("WroteRequest", &n.wrote_request, &o.wrote_request),
                request_body_done: chain(
                    "RequestBodyDone",
                    &n.request_body_done,
                    &o.request_body_done,
                ),
                response_body_done: chain(
                    "ResponseBodyDone",
                    &n.response_body_done,
                    &o.response_body_done,
                ),
                conn_closed: chain("ConnClosed", &n.conn_closed, &o.conn_closed),
                call_start: chain("CallStart", &n.call_start, &o.call_start),
                attempt_start: chain("AttemptStart", &n.attempt_start, &o.attempt_start),
                call_done: chain("CallDone", &n.call_done, &o.call_done),
                http2_stream_opened: chain(
                    "Http2StreamOpened",
                    &n.http2_stream_opened,
                    &o.http2_stream_opened,
                ),
                http2_stream_reset: chain(
                    "Http2StreamReset",
                    &n.http2_stream_reset,
                    &o.http2_stream_reset,
                ),
                http2_goaway: chain("Http2GoAway", &n.http2_goaway, &o.http2_goaway),
                got_1xx_may_veto: n.got_1xx_may_veto || o.got_1xx_may_veto,
                recorders: self.all_recorders().then(&older.all_recorders()),
            })),
        }
    }

    /// True when no hook is set.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.last.is_none()
            && (self.hooks.is_none() || !HookKind::ALL.into_iter().any(|kind| self.is_set(kind)))
    }
}

impl fmt::Debug for ClientTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set: Vec<HookKind> = HookKind::ALL
            .into_iter()
            .filter(|k| self.is_set(*k))
            .collect();
        f.debug_struct("ClientTrace").field("hooks", &set).finish()
    }
}
