//! [`HookKind`]: names one hook.

/// Names one hook, to ask a trace whether it is set ([`ClientTrace::is_set`](crate::ClientTrace::is_set)).
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
    /// `Http2StreamOpened` (not in Go)
    Http2StreamOpened,
    /// `Http2StreamReset` (not in Go)
    Http2StreamReset,
    /// `Http2GoAway` (not in Go)
    Http2GoAway,
}

impl HookKind {
    /// Every hook, Go's sixteen in the order of its struct, then ours.
    pub const ALL: [HookKind; 25] = [
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
        HookKind::Http2StreamOpened,
        HookKind::Http2StreamReset,
        HookKind::Http2GoAway,
    ];
}
