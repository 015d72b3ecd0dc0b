//! [`EventLog`]: a ready trace that records every hook, and prints the record as JSON lines
//! in the format of the Go event logs (`httpstat --events`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::info::go::{
    ConnectDoneInfo, ConnectStartInfo, DnsDoneInfo, DnsStartInfo, GetConnInfo, Got1xxResponseInfo,
    GotConnInfo, HeaderField, PutIdleConnInfo, TlsHandshakeDoneInfo, WroteRequestInfo,
};
use crate::info::http2::{Http2GoAwayInfo, Http2StreamOpenedInfo, Http2StreamResetInfo};
use crate::info::ours::{
    AttemptStartInfo, BodyDoneInfo, CallDoneInfo, CallStartInfo, ConnClosedInfo,
};
use crate::trace::ClientTrace;

/// One recorded hook call (or caller-side mark), with the time since the log started.
#[derive(Debug, Clone)]
pub struct Event {
    /// Time since [`EventLog::new`].
    pub at: Duration,
    /// What happened.
    pub kind: EventKind,
}

/// What an [`Event`] records: a hook with its argument, or a mark the caller made.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[allow(missing_docs)] // Each variant is the Go hook (or mark) of the same name.
pub enum EventKind {
    GetConn(GetConnInfo<'static>),
    GotConn(GotConnInfo),
    PutIdleConn(PutIdleConnInfo),
    GotFirstResponseByte,
    Got100Continue,
    Got1xxResponse(Got1xxResponseInfo),
    DnsStart(DnsStartInfo),
    DnsDone(DnsDoneInfo),
    ConnectStart(ConnectStartInfo),
    ConnectDone(ConnectDoneInfo),
    TlsHandshakeStart,
    TlsHandshakeDone(TlsHandshakeDoneInfo),
    WroteHeaderField(HeaderField),
    WroteHeaders,
    Wait100Continue,
    WroteRequest(WroteRequestInfo),
    RequestBodyDone(BodyDoneInfo),
    ResponseBodyDone(BodyDoneInfo),
    ConnClosed(ConnClosedInfo),
    CallStart(CallStartInfo),
    AttemptStart(AttemptStartInfo),
    CallDone(CallDoneInfo),
    Http2StreamOpened(Http2StreamOpenedInfo),
    Http2StreamReset(Http2StreamResetInfo),
    Http2GoAway(Http2GoAwayInfo),
    /// The caller sends request number `n`.
    Request {
        n: u64,
    },
    /// The caller got a response.
    Response {
        status: u16,
        proto: String,
    },
    /// The caller got an error.
    Error {
        err: String,
    },
}

impl Event {
    /// The Go hook name (`"GotConn"`, `"DNSStart"`, ...), or the mark's name.
    pub fn name(&self) -> &'static str {
        match &self.kind {
            EventKind::GetConn(_) => "GetConn",
            EventKind::GotConn(_) => "GotConn",
            EventKind::PutIdleConn(_) => "PutIdleConn",
            EventKind::GotFirstResponseByte => "GotFirstResponseByte",
            EventKind::Got100Continue => "Got100Continue",
            EventKind::Got1xxResponse(_) => "Got1xxResponse",
            EventKind::DnsStart(_) => "DNSStart",
            EventKind::DnsDone(_) => "DNSDone",
            EventKind::ConnectStart(_) => "ConnectStart",
            EventKind::ConnectDone(_) => "ConnectDone",
            EventKind::TlsHandshakeStart => "TLSHandshakeStart",
            EventKind::TlsHandshakeDone(_) => "TLSHandshakeDone",
            EventKind::WroteHeaderField(_) => "WroteHeaderField",
            EventKind::WroteHeaders => "WroteHeaders",
            EventKind::Wait100Continue => "Wait100Continue",
            EventKind::WroteRequest(_) => "WroteRequest",
            EventKind::RequestBodyDone(_) => "RequestBodyDone",
            EventKind::ResponseBodyDone(_) => "ResponseBodyDone",
            EventKind::ConnClosed(_) => "ConnClosed",
            EventKind::CallStart(_) => "CallStart",
            EventKind::AttemptStart(_) => "AttemptStart",
            EventKind::CallDone(_) => "CallDone",
            EventKind::Http2StreamOpened(_) => "Http2StreamOpened",
            EventKind::Http2StreamReset(_) => "Http2StreamReset",
            EventKind::Http2GoAway(_) => "Http2GoAway",
            EventKind::Request { .. } => "Request",
            EventKind::Response { .. } => "Response",
            EventKind::Error { .. } => "Error",
        }
    }
}

/// Records every hook of the traces it makes, in the order they fire.
///
/// ```
/// use httptrace::{EventLog, GetConnInfo};
///
/// let log = EventLog::new();
/// let trace = log.trace();
/// log.request(0);
/// trace.get_conn(&GetConnInfo::new("localhost:80"));
/// assert_eq!(log.names(), ["Request", "GetConn"]);
/// assert!(log.events()[1].to_json().starts_with(r#"{"event":"GetConn","t_us":"#));
/// ```
#[derive(Debug, Clone)]
pub struct EventLog {
    start: Instant,
    events: Arc<Mutex<Vec<Event>>>,
}

impl Default for EventLog {
    fn default() -> Self {
        Self::new()
    }
}

impl EventLog {
    /// An empty log; times count from now.
    pub fn new() -> Self {
        EventLog {
            start: Instant::now(),
            events: Arc::default(),
        }
    }

    /// The instant times count from.
    pub fn started_at(&self) -> Instant {
        self.start
    }

    fn push(&self, kind: EventKind) {
        let event = Event {
            at: self.start.elapsed(),
            kind,
        };
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }

    /// Marks the start of request `n`.
    pub fn request(&self, n: u64) {
        self.push(EventKind::Request { n });
    }

    /// Marks a response.
    pub fn response(&self, status: u16, proto: impl Into<String>) {
        self.push(EventKind::Response {
            status,
            proto: proto.into(),
        });
    }

    /// Marks an error returned to the caller.
    pub fn error(&self, err: impl std::fmt::Display) {
        self.push(EventKind::Error {
            err: err.to_string(),
        });
    }

    /// Everything recorded so far.
    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Removes and returns everything recorded so far.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The names of the events recorded so far.
    pub fn names(&self) -> Vec<&'static str> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(Event::name)
            .collect()
    }

    /// A trace with every one of Go's sixteen hooks set, each recording into this log (the
    /// record then compares line for line with Go's event logs).
    pub fn trace(&self) -> ClientTrace {
        let l = self.clone();
        let rec = move |kind: EventKind| l.push(kind);
        let r = || rec.clone();
        let (a, b, c, d, e, f, g, h) = (r(), r(), r(), r(), r(), r(), r(), r());
        let (i, j, k, m, n, o, p, q) = (r(), r(), r(), r(), r(), r(), r(), r());
        ClientTrace::new()
            .on_get_conn(move |x| a(EventKind::GetConn(x.clone().into_owned())))
            .on_got_conn(move |x| b(EventKind::GotConn(x.clone())))
            .on_put_idle_conn(move |x| c(EventKind::PutIdleConn(x.clone())))
            .on_got_first_response_byte(move || d(EventKind::GotFirstResponseByte))
            .on_got_100_continue(move || e(EventKind::Got100Continue))
            .on_got_1xx_response(move |x| {
                f(EventKind::Got1xxResponse(x.clone()));
                Ok(())
            })
            .on_dns_start(move |x| g(EventKind::DnsStart(x.clone())))
            .on_dns_done(move |x| h(EventKind::DnsDone(x.clone())))
            .on_connect_start(move |x| i(EventKind::ConnectStart(x.clone())))
            .on_connect_done(move |x| j(EventKind::ConnectDone(x.clone())))
            .on_tls_handshake_start(move || k(EventKind::TlsHandshakeStart))
            .on_tls_handshake_done(move |x| m(EventKind::TlsHandshakeDone(x.clone())))
            .on_wrote_header_field(move |x| n(EventKind::WroteHeaderField(x.to_owned_field())))
            .on_wrote_headers(move || o(EventKind::WroteHeaders))
            .on_wait_100_continue(move || p(EventKind::Wait100Continue))
            .on_wrote_request(move |x| q(EventKind::WroteRequest(x.clone())))
    }

    /// [`trace`](EventLog::trace) and the nine hooks Go lacks (the ends of the bodies, the
    /// connection's close, the call and its attempts, the HTTP/2 stream's place, its reset
    /// and the connection's `GOAWAY`).
    pub fn trace_beyond_go(&self) -> ClientTrace {
        let l = self.clone();
        let rec = move |kind: EventKind| l.push(kind);
        let r = || rec.clone();
        let (a, b, c, d, e, f, i) = (r(), r(), r(), r(), r(), r(), r());
        ClientTrace::new()
            .on_request_body_done(move |x| a(EventKind::RequestBodyDone(x.clone())))
            .on_response_body_done(move |x| b(EventKind::ResponseBodyDone(x.clone())))
            .on_conn_closed(move |x| c(EventKind::ConnClosed(x.clone())))
            .on_call_start(move |x| d(EventKind::CallStart(x.clone())))
            .on_attempt_start(move |x| e(EventKind::AttemptStart(x.clone())))
            .on_call_done(move |x| f(EventKind::CallDone(x.clone())))
            .on_http2_goaway(move |x| i(EventKind::Http2GoAway(x.clone())))
            .compose(&self.http2_stream_trace())
            .compose(&self.trace())
    }

    /// The request's own HTTP/2 hooks Go lacks (`Http2StreamOpened`, `Http2StreamReset`),
    /// to compose with [`trace`](EventLog::trace) where the other hooks beyond Go are not
    /// wanted (`httpstat --timeline`). Without `Http2GoAway`: the connection's, it would keep
    /// the log as long as the connection lives.
    pub fn http2_stream_trace(&self) -> ClientTrace {
        let (l, m) = (self.clone(), self.clone());
        ClientTrace::new()
            .on_http2_stream_opened(move |x| l.push(EventKind::Http2StreamOpened(x.clone())))
            .on_http2_stream_reset(move |x| m.push(EventKind::Http2StreamReset(x.clone())))
    }
}
