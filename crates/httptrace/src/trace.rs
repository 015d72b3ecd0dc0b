//! [`ClientTrace`]: one optional hook for each of Go's sixteen, and six Go lacks.

use std::fmt;
use std::sync::Arc;

use crate::beyond_go::{
    AttemptStartInfo, BodyDoneInfo, CallDoneInfo, CallStartInfo, ConnClosedInfo,
};
use crate::error::BoxError;
use crate::hook::{
    call, call_fallible, call_field, call_get_conn, chain, chain_fallible, chain_field,
    chain_get_conn, FallibleHook, FieldHook, GetConnHook, Hook,
};
use crate::info::{
    ConnectDoneInfo, ConnectStartInfo, DnsDoneInfo, DnsStartInfo, GetConnInfo, Got1xxResponseInfo,
    GotConnInfo, PutIdleConnInfo, TlsHandshakeDoneInfo, WroteHeaderFieldInfo, WroteRequestInfo,
};
use crate::timings::TimingsRecorder;

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
///   or a task.
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
    hooks: Option<Arc<Hooks>>,
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
    got_1xx_may_veto: false,
    recorders: Recorders::NONE,
};

/// The hooks a [`TimingsRecorder`] in a trace listens to.
const RECORDED: [HookKind; 12] = [
    HookKind::GetConn,
    HookKind::DnsStart,
    HookKind::DnsDone,
    HookKind::ConnectStart,
    HookKind::ConnectDone,
    HookKind::TlsHandshakeStart,
    HookKind::TlsHandshakeDone,
    HookKind::GotConn,
    HookKind::WroteRequest,
    HookKind::Got1xxResponse,
    HookKind::Got100Continue,
    HookKind::GotFirstResponseByte,
];

#[derive(Clone, Default)]
struct Hooks {
    get_conn: GetConnHook,
    got_conn: Hook<GotConnInfo>,
    put_idle_conn: Hook<PutIdleConnInfo>,
    got_first_response_byte: Hook<()>,
    got_100_continue: Hook<()>,
    got_1xx_response: FallibleHook<Got1xxResponseInfo>,
    dns_start: Hook<DnsStartInfo>,
    dns_done: Hook<DnsDoneInfo>,
    connect_start: Hook<ConnectStartInfo>,
    connect_done: Hook<ConnectDoneInfo>,
    tls_handshake_start: Hook<()>,
    tls_handshake_done: Hook<TlsHandshakeDoneInfo>,
    wrote_header_field: FieldHook,
    wrote_headers: Hook<()>,
    wait_100_continue: Hook<()>,
    wrote_request: Hook<WroteRequestInfo>,
    request_body_done: Hook<BodyDoneInfo>,
    response_body_done: Hook<BodyDoneInfo>,
    conn_closed: Hook<ConnClosedInfo>,
    call_start: Hook<CallStartInfo>,
    attempt_start: Hook<AttemptStartInfo>,
    call_done: Hook<CallDoneInfo>,
    /// The `Got1xxResponse` hook may return an error (it was set with
    /// `on_got_1xx_response`, not `on_got_1xx_response_seen`).
    got_1xx_may_veto: bool,
    /// Timings recorders, run after the hooks above, in the order of composition.
    recorders: Recorders,
}

/// The timings recorders of a trace, in the order of composition. The first is kept in
/// place: a trace that records one request's timings allocates no list.
#[derive(Clone, Default)]
struct Recorders {
    first: Option<TimingsRecorder>,
    more: Vec<TimingsRecorder>,
}

impl Recorders {
    const NONE: Self = Recorders {
        first: None,
        more: Vec::new(),
    };

    fn iter(&self) -> impl Iterator<Item = &TimingsRecorder> {
        self.first.iter().chain(&self.more)
    }

    fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// These, then `older`'s.
    fn then(&self, older: &Recorders) -> Recorders {
        let mut all = self.iter().chain(older.iter()).cloned();
        Recorders {
            first: all.next(),
            more: all.collect(),
        }
    }
}

/// Names one hook, to ask a trace whether it is set ([`ClientTrace::is_set`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HookKind {
    /// `GetConn`
    GetConn,
    /// `GotConn`
    GotConn,
    /// `PutIdleConn`
    PutIdleConn,
    /// `GotFirstResponseByte`
    GotFirstResponseByte,
    /// `Got100Continue`
    Got100Continue,
    /// `Got1xxResponse`
    Got1xxResponse,
    /// `DNSStart`
    DnsStart,
    /// `DNSDone`
    DnsDone,
    /// `ConnectStart`
    ConnectStart,
    /// `ConnectDone`
    ConnectDone,
    /// `TLSHandshakeStart`
    TlsHandshakeStart,
    /// `TLSHandshakeDone`
    TlsHandshakeDone,
    /// `WroteHeaderField`
    WroteHeaderField,
    /// `WroteHeaders`
    WroteHeaders,
    /// `Wait100Continue`
    Wait100Continue,
    /// `WroteRequest`
    WroteRequest,
    /// `RequestBodyDone` (not in Go)
    RequestBodyDone,
    /// `ResponseBodyDone` (not in Go)
    ResponseBodyDone,
    /// `ConnClosed` (not in Go)
    ConnClosed,
    /// `CallStart` (not in Go)
    CallStart,
    /// `AttemptStart` (not in Go)
    AttemptStart,
    /// `CallDone` (not in Go)
    CallDone,
}

impl HookKind {
    /// Every hook, Go's sixteen in the order of its struct, then ours.
    pub const ALL: [HookKind; 22] = [
        HookKind::GetConn,
        HookKind::GotConn,
        HookKind::PutIdleConn,
        HookKind::GotFirstResponseByte,
        HookKind::Got100Continue,
        HookKind::Got1xxResponse,
        HookKind::DnsStart,
        HookKind::DnsDone,
        HookKind::ConnectStart,
        HookKind::ConnectDone,
        HookKind::TlsHandshakeStart,
        HookKind::TlsHandshakeDone,
        HookKind::WroteHeaderField,
        HookKind::WroteHeaders,
        HookKind::Wait100Continue,
        HookKind::WroteRequest,
        HookKind::RequestBodyDone,
        HookKind::ResponseBodyDone,
        HookKind::ConnClosed,
        HookKind::CallStart,
        HookKind::AttemptStart,
        HookKind::CallDone,
    ];
}

fn arc1<A, F: Fn(&A) + Send + Sync + 'static>(f: F) -> Hook<A> {
    Some(Arc::new(f))
}

fn arc0<F: Fn() + Send + Sync + 'static>(f: F) -> Hook<()> {
    Some(Arc::new(move |_: &()| f()))
}

impl ClientTrace {
    /// A trace with no hook set.
    pub fn new() -> Self {
        Self::default()
    }

    fn hooks_mut(&mut self) -> &mut Hooks {
        Arc::make_mut(self.hooks.get_or_insert_with(Default::default))
    }

    fn hooks(&self) -> &Hooks {
        self.hooks.as_deref().unwrap_or(&NO_HOOKS)
    }

    /// A trace whose only hooks are `recorder`'s (`TimingsRecorder::trace`).
    pub(crate) fn recording(recorder: TimingsRecorder) -> Self {
        ClientTrace {
            hooks: Some(Arc::new(Hooks {
                recorders: Recorders {
                    first: Some(recorder),
                    more: Vec::new(),
                },
                ..Hooks::default()
            })),
        }
    }

    /// Runs `record` on each timings recorder of the trace.
    fn record(&self, record: impl Fn(&TimingsRecorder)) {
        for recorder in self.hooks().recorders.iter() {
            record(recorder);
        }
    }

    /// Whether `kind`'s hook is set.
    pub fn is_set(&self, kind: HookKind) -> bool {
        let h = self.hooks();
        if !h.recorders.is_empty() && RECORDED.contains(&kind) {
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
        let (n, o) = (self.hooks(), older.hooks());
        ClientTrace {
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
                got_1xx_may_veto: n.got_1xx_may_veto || o.got_1xx_may_veto,
                recorders: n.recorders.then(&o.recorders),
            })),
        }
    }

    /// True when no hook is set.
    pub fn is_empty(&self) -> bool {
        self.hooks.is_none() || !HookKind::ALL.into_iter().any(|kind| self.is_set(kind))
    }

    // ----- setters, in the order of Go's struct -----

    /// `GetConn`: before a connection is created or taken from the idle pool, even when an
    /// idle one is waiting.
    pub fn on_get_conn(mut self, f: impl Fn(&GetConnInfo<'_>) + Send + Sync + 'static) -> Self {
        self.hooks_mut().get_conn = Some(Arc::new(f));
        self
    }

    /// `GotConn`: the request has a connection, before any of its header is written. There is
    /// no hook for failing to get one: the request's error says why.
    pub fn on_got_conn(mut self, f: impl Fn(&GotConnInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().got_conn = arc1(f);
        self
    }

    /// `PutIdleConn`: the connection went back to the idle pool (`err` is `None`) or, with an
    /// error, why it did not. Called before the response body reports its end to the caller.
    /// Not called for HTTP/2, nor when either side said `Connection: close`.
    pub fn on_put_idle_conn(
        mut self,
        f: impl Fn(&PutIdleConnInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().put_idle_conn = arc1(f);
        self
    }

    /// `GotFirstResponseByte`: the first byte of the response arrived (of any response, a 1xx
    /// included); once per request.
    pub fn on_got_first_response_byte(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks_mut().got_first_response_byte = arc0(f);
        self
    }

    /// `Got100Continue`: the server answered `100 Continue`.
    pub fn on_got_100_continue(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks_mut().got_100_continue = arc0(f);
        self
    }

    /// `Got1xxResponse`: an informational response (100 to 199, but not 101) arrived before
    /// the final one. Returning an error aborts the request with it.
    pub fn on_got_1xx_response(
        mut self,
        f: impl Fn(&Got1xxResponseInfo) -> Result<(), BoxError> + Send + Sync + 'static,
    ) -> Self {
        let hooks = self.hooks_mut();
        hooks.got_1xx_response = Some(Arc::new(f));
        hooks.got_1xx_may_veto = true;
        self
    }

    /// `Got1xxResponse`, for a hook that only looks and never aborts the request. Not in Go;
    /// the instrumentation then need not keep the request's connection at hand to close it
    /// after a veto, which costs an HTTP/1 request several allocations.
    pub fn on_got_1xx_response_seen(
        mut self,
        f: impl Fn(&Got1xxResponseInfo) + Send + Sync + 'static,
    ) -> Self {
        let hooks = self.hooks_mut();
        hooks.got_1xx_response = Some(Arc::new(move |info: &Got1xxResponseInfo| {
            f(info);
            Ok(())
        }));
        hooks.got_1xx_may_veto = false;
        self
    }

    /// Whether the `Got1xxResponse` hook may abort the request (see
    /// [`on_got_1xx_response_seen`](ClientTrace::on_got_1xx_response_seen)).
    pub fn may_veto_1xx(&self) -> bool {
        self.hooks().got_1xx_may_veto
    }

    /// `DNSStart`: a lookup begins.
    pub fn on_dns_start(mut self, f: impl Fn(&DnsStartInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().dns_start = arc1(f);
        self
    }

    /// `DNSDone`: a lookup ended.
    pub fn on_dns_done(mut self, f: impl Fn(&DnsDoneInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().dns_done = arc1(f);
        self
    }

    /// `ConnectStart`: a dial attempt begins; several with Happy Eyeballs.
    pub fn on_connect_start(
        mut self,
        f: impl Fn(&ConnectStartInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().connect_start = arc1(f);
        self
    }

    /// `ConnectDone`: a dial attempt ended, with its error if it failed.
    pub fn on_connect_done(mut self, f: impl Fn(&ConnectDoneInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().connect_done = arc1(f);
        self
    }

    /// `TLSHandshakeStart`: a TLS handshake begins.
    pub fn on_tls_handshake_start(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks_mut().tls_handshake_start = arc0(f);
        self
    }

    /// `TLSHandshakeDone`: a TLS handshake ended, with the state or the error.
    pub fn on_tls_handshake_done(
        mut self,
        f: impl Fn(&TlsHandshakeDoneInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().tls_handshake_done = arc1(f);
        self
    }

    /// `WroteHeaderField`: a header field was written, all values of one name in one call.
    pub fn on_wrote_header_field(
        mut self,
        f: impl Fn(&WroteHeaderFieldInfo<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().wrote_header_field = Some(Arc::new(f));
        self
    }

    /// `WroteHeaders`: the request head was written to the connection.
    pub fn on_wrote_headers(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks_mut().wrote_headers = arc0(f);
        self
    }

    /// `Wait100Continue`: the request said `Expect: 100-continue`; its head is written and
    /// its body held back until the server answers.
    pub fn on_wait_100_continue(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks_mut().wait_100_continue = arc0(f);
        self
    }

    /// `WroteRequest`: the request and its body were written, or writing failed. May be
    /// called again when the request is retried.
    pub fn on_wrote_request(
        mut self,
        f: impl Fn(&WroteRequestInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().wrote_request = arc1(f);
        self
    }

    // ----- the hooks Go lacks -----

    /// `RequestBodyDone` (not in Go): the request body ended, with the data bytes handed to
    /// the connection, or the error that cut it short (it failed, it was dropped unsent, or
    /// it was held back for `Expect: 100-continue` and never sent). Fires before
    /// `WroteRequest`, which waits for the end to be on the wire.
    pub fn on_request_body_done(
        mut self,
        f: impl Fn(&BodyDoneInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().request_body_done = arc1(f);
        self
    }

    /// `ResponseBodyDone` (not in Go): the response body ended, with the data bytes read,
    /// or the error that cut it short (it failed, or it was dropped before its end). Fires
    /// right after `PutIdleConn`, when that fires; once per response.
    pub fn on_response_body_done(
        mut self,
        f: impl Fn(&BodyDoneInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().response_body_done = arc1(f);
        self
    }

    /// `ConnClosed` (not in Go): a connection closed, why, and how many requests it carried.
    ///
    /// It is told to the trace of the request whose connector call opened the connection
    /// (so to a layer's trace for all its connections), usually long after that request
    /// ended, from the connection's own task. The connection keeps this hook alone
    /// ([`only_conn_closed`](Self::only_conn_closed)), and with it whatever the closure
    /// captured, for as long as it lives (on HTTP/2, hours): capture nothing of the request
    /// (its span, its buffers) here.
    pub fn on_conn_closed(mut self, f: impl Fn(&ConnClosedInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().conn_closed = arc1(f);
        self
    }

    /// This trace's `ConnClosed` hook alone: what a connection keeps of the trace of the
    /// request that dialled it, so that a pooled connection holds nothing else of that
    /// request (its other hooks, what they captured, its timings) past the request's end.
    /// A connector of yours that reports `ConnClosed` keeps this, not the whole trace.
    ///
    /// ```
    /// use httptrace::{ClientTrace, HookKind};
    ///
    /// let trace = ClientTrace::new().on_conn_closed(|_| {}).on_got_conn(|_| {});
    /// let kept = trace.only_conn_closed();
    /// assert!(kept.is_set(HookKind::ConnClosed));
    /// assert!(!kept.is_set(HookKind::GotConn));
    /// assert!(ClientTrace::new().on_got_conn(|_| {}).only_conn_closed().is_empty());
    /// ```
    pub fn only_conn_closed(&self) -> ClientTrace {
        let Some(hook) = self.hooks.as_ref().and_then(|h| h.conn_closed.clone()) else {
            return ClientTrace::new();
        };
        let mut kept = ClientTrace::new();
        kept.hooks_mut().conn_closed = Some(hook);
        kept
    }

    /// `CallStart` (not in Go): a whole call begins, before its first attempt. Fired by a
    /// call-tracing layer placed outside redirect and retry layers.
    pub fn on_call_start(mut self, f: impl Fn(&CallStartInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().call_start = arc1(f);
        self
    }

    /// `AttemptStart` (not in Go): one request of a call goes out, numbered from 1, before
    /// its `GetConn`.
    pub fn on_attempt_start(
        mut self,
        f: impl Fn(&AttemptStartInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().attempt_start = arc1(f);
        self
    }

    /// `CallDone` (not in Go): a whole call has its final response or its error.
    pub fn on_call_done(mut self, f: impl Fn(&CallDoneInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().call_done = arc1(f);
        self
    }

    // ----- callers -----

    /// Calls the `GetConn` hook.
    pub fn get_conn(&self, info: &GetConnInfo<'_>) {
        call_get_conn(&self.hooks().get_conn, info);
        self.record(TimingsRecorder::get_conn)
    }
    /// Calls the `GotConn` hook.
    pub fn got_conn(&self, info: &GotConnInfo) {
        call("GotConn", &self.hooks().got_conn, info);
        self.record(|r| r.got_conn(info))
    }
    /// Calls the `PutIdleConn` hook.
    pub fn put_idle_conn(&self, info: &PutIdleConnInfo) {
        call("PutIdleConn", &self.hooks().put_idle_conn, info)
    }
    /// Calls the `GotFirstResponseByte` hook.
    pub fn got_first_response_byte(&self) {
        call(
            "GotFirstResponseByte",
            &self.hooks().got_first_response_byte,
            &(),
        );
        self.record(TimingsRecorder::got_first_response_byte)
    }
    /// Calls the `Got100Continue` hook.
    pub fn got_100_continue(&self) {
        call("Got100Continue", &self.hooks().got_100_continue, &());
        self.record(TimingsRecorder::interim_response)
    }
    /// Calls the `Got1xxResponse` hook; an error means: abort the request with it.
    pub fn got_1xx_response(&self, info: &Got1xxResponseInfo) -> Result<(), BoxError> {
        let result = call_fallible("Got1xxResponse", &self.hooks().got_1xx_response, info);
        self.record(TimingsRecorder::interim_response);
        result
    }
    /// Calls the `DNSStart` hook.
    pub fn dns_start(&self, info: &DnsStartInfo) {
        call("DNSStart", &self.hooks().dns_start, info);
        self.record(TimingsRecorder::dns_start)
    }
    /// Calls the `DNSDone` hook.
    pub fn dns_done(&self, info: &DnsDoneInfo) {
        call("DNSDone", &self.hooks().dns_done, info);
        self.record(TimingsRecorder::dns_done)
    }
    /// Calls the `ConnectStart` hook.
    pub fn connect_start(&self, info: &ConnectStartInfo) {
        call("ConnectStart", &self.hooks().connect_start, info);
        self.record(TimingsRecorder::connect_start)
    }
    /// Calls the `ConnectDone` hook.
    pub fn connect_done(&self, info: &ConnectDoneInfo) {
        call("ConnectDone", &self.hooks().connect_done, info);
        self.record(|r| r.connect_done(info))
    }
    /// Calls the `TLSHandshakeStart` hook.
    pub fn tls_handshake_start(&self) {
        call("TLSHandshakeStart", &self.hooks().tls_handshake_start, &());
        self.record(TimingsRecorder::tls_handshake_start)
    }
    /// Calls the `TLSHandshakeDone` hook.
    pub fn tls_handshake_done(&self, info: &TlsHandshakeDoneInfo) {
        call("TLSHandshakeDone", &self.hooks().tls_handshake_done, info);
        self.record(|r| r.tls_handshake_done(info))
    }
    /// Calls the `WroteHeaderField` hook.
    pub fn wrote_header_field(&self, info: &WroteHeaderFieldInfo<'_>) {
        call_field(&self.hooks().wrote_header_field, info)
    }
    /// Calls the `WroteHeaders` hook.
    pub fn wrote_headers(&self) {
        call("WroteHeaders", &self.hooks().wrote_headers, &())
    }
    /// Calls the `Wait100Continue` hook.
    pub fn wait_100_continue(&self) {
        call("Wait100Continue", &self.hooks().wait_100_continue, &())
    }
    /// Calls the `WroteRequest` hook.
    pub fn wrote_request(&self, info: &WroteRequestInfo) {
        call("WroteRequest", &self.hooks().wrote_request, info);
        self.record(TimingsRecorder::wrote_request)
    }
    /// Calls the `RequestBodyDone` hook.
    pub fn request_body_done(&self, info: &BodyDoneInfo) {
        call("RequestBodyDone", &self.hooks().request_body_done, info)
    }
    /// Calls the `ResponseBodyDone` hook.
    pub fn response_body_done(&self, info: &BodyDoneInfo) {
        call("ResponseBodyDone", &self.hooks().response_body_done, info)
    }
    /// Calls the `ConnClosed` hook.
    pub fn conn_closed(&self, info: &ConnClosedInfo) {
        call("ConnClosed", &self.hooks().conn_closed, info)
    }
    /// Calls the `CallStart` hook.
    pub fn call_start(&self, info: &CallStartInfo) {
        call("CallStart", &self.hooks().call_start, info)
    }
    /// Calls the `AttemptStart` hook.
    pub fn attempt_start(&self, info: &AttemptStartInfo) {
        call("AttemptStart", &self.hooks().attempt_start, info)
    }
    /// Calls the `CallDone` hook.
    pub fn call_done(&self, info: &CallDoneInfo) {
        call("CallDone", &self.hooks().call_done, info)
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
