//! [`TracingEvents`]: a ready trace that records every hook as a `tracing` event, in the span
//! the request was sent from.
//!
//! Every event has target `httptrace`, its hook's Go name (or ours) in the `hook` field and
//! as its message, and the fields below, named as the OpenTelemetry semantic conventions
//! name the same facts (the attributes [`OtelLayer`](crate::OtelLayer) records), ours where
//! they have none. Levels: `DEBUG` for every hook, `TRACE` for `WroteHeaderField` (one per
//! header line), `WARN` for a hook that reports an error (then an `error.message` field is
//! present) and for `ConnClosed` with an error.
//!
//! | hook | fields |
//! |---|---|
//! | `CallStart` | `http.request.method`, `url.full` |
//! | `AttemptStart` | `attempt`, `http.request.method`, `url.full`, `previous_status` (0: none) |
//! | `GetConn` | `server.address`, `server.port` |
//! | `DNSStart` | `dns.question.name` |
//! | `DNSDone` | `dns.answers` (comma-separated), `coalesced`, `error.message` |
//! | `ConnectStart` | `network.transport`, `network.peer.address`, `network.peer.port` |
//! | `ConnectDone` | `network.transport`, `network.peer.address`, `network.peer.port`, `error.message` |
//! | `TLSHandshakeStart` | |
//! | `TLSHandshakeDone` | `tls.protocol.version` (`1.3`), `tls.next_protocol`, `tls.cipher`, `tls.resumed`, `server.address` (the SNI name), `error.message` |
//! | `GotConn` | `conn.id`, `network.peer.address`, `network.peer.port`, `reused`, `was_idle`, `idle_us` |
//! | `WroteHeaderField` | `name`, `value` (values joined by `, `; sensitive ones redacted) |
//! | `WroteHeaders`, `Wait100Continue`, `Got100Continue`, `GotFirstResponseByte` | |
//! | `WroteRequest` | `error.message` |
//! | `Got1xxResponse` | `http.response.status_code` |
//! | `PutIdleConn` | `error.message` |
//! | `RequestBodyDone` | `http.request.body.size`, `error.message` |
//! | `ResponseBodyDone` | `http.response.body.size`, `error.message` |
//! | `CallDone` | `attempts`, `http.response.status_code` (0: none), `elapsed_us`, `error.message` |
//! | `ConnClosed` | `conn.id`, `reason`, `requests_served`, `lifetime_us`, `error.message` |
//! | `Http2StreamOpened` | `waited_us`, `max_concurrent_streams` (-1: none sent) |
//! | `Http2StreamReset` (`WARN`) | `error.message` (`RST_STREAM CANCEL from server`), `code`, `sender`, `frame` |
//! | `Http2GoAway` (`WARN` unless `NO_ERROR`) | `conn.id`, `last_stream_id`, `code`, `debug_data`, `cut_count`, `cut_streams` (comma-separated) |
//!
//! `ConnClosed` and `Http2GoAway` have no parent span: a pooled connection outlives the request that dialled it
//! (90 s idle on HTTP/1.1, hours on HTTP/2), and keeping that request's span for it would
//! keep the span, and every span above it, open until then. The request's span closes when
//! the request is done with; `conn.id` ties the close to the request's `GotConn`.
//!
//! The values of `authorization`, `proxy-authorization`, `cookie` and `set-cookie`
//! ([`httptrace::SENSITIVE_HEADERS`], names in any case) are recorded as `[redacted]`, and URLs
//! (`uri`, HTTP/2's `:authority` and `:path`, `location`, `referer`) with their userinfo and
//! signed query values as `REDACTED` ([`httptrace::Redaction`]), unless
//! [`reveal_secrets`](TracingEvents::reveal_secrets) says otherwise. Hooks of your own get
//! the raw values.

use std::sync::Arc;

use httptrace::{ClientTrace, CloseReason, Http2ErrorCode, Redaction, TraceError};
use tracing::{event, Level, Span};

use crate::HttpTraceLayer;

/// Records each hook of a request as a `tracing` event (see the module docs for targets,
/// fields and levels).
///
/// ```
/// use httptrace_tower::TracingEvents;
///
/// // Every request through this layer records its hooks in the span it was sent from.
/// let layer = TracingEvents::new().layer();
/// # let _ = layer;
/// ```
#[derive(Debug, Clone, Default)]
pub struct TracingEvents {
    redaction: Arc<Redaction>,
}

/// `server.address` (no brackets around an IPv6 literal) and `server.port` of `host:port`.
fn split_host_port(host_port: &str) -> (&str, u16) {
    match host_port.rsplit_once(':') {
        Some((host, port)) => (
            host.trim_start_matches('[').trim_end_matches(']'),
            port.parse().unwrap_or(0),
        ),
        None => (host_port, 0),
    }
}

fn err_text(err: &Option<TraceError>) -> Option<String> {
    err.as_ref().map(ToString::to_string)
}

/// Emits one event for `hook`, at `WARN` with an `error.message` field when `err` is some, at `$level`
/// otherwise.
macro_rules! hook_event {
    ($span:expr, $level:expr, $hook:literal, $err:expr $(, $($field:tt)*)?) => {
        match $err {
            Some(err) => event!(
                target: "httptrace", parent: $span, Level::WARN,
                hook = $hook, error.message = %err $(, $($field)*)?, $hook
            ),
            None => event!(
                target: "httptrace", parent: $span, $level,
                hook = $hook $(, $($field)*)?, $hook
            ),
        }
    };
}

impl TracingEvents {
    /// Records every hook; sensitive header values redacted.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records every secret as it is: sensitive header values, URL userinfo and signed query
    /// values. Only for debugging a setup whose logs nobody else reads.
    pub fn reveal_secrets(self) -> Self {
        self.with(Redaction::reveal_secrets)
    }

    /// Redacts the values of header `name` (any case) too.
    pub fn redact_header(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.with(move |r| r.redact_header(name))
    }

    fn with(self, change: impl FnOnce(Redaction) -> Redaction) -> Self {
        TracingEvents {
            redaction: Arc::new(change((*self.redaction).clone())),
        }
    }

    /// A layer whose every request records its hooks in the span current where it is sent.
    pub fn layer(&self) -> HttpTraceLayer {
        let events = self.clone();
        HttpTraceLayer::default().trace_per_request(move || events.trace())
    }

    /// A trace that records its hooks in the span current now (attach it to one request).
    pub fn trace(&self) -> ClientTrace {
        self.trace_in(Span::current())
    }

    /// A trace that records its hooks in `span`.
    pub fn trace_in(&self, span: Span) -> ClientTrace {
        let span = Arc::new(span);
        let s = || span.clone();
        let redaction = self.redaction.clone();
        let (uri_a, uri_b) = (self.redaction.clone(), self.redaction.clone());
        let (a, b, c, d, e, f, g, h) = (s(), s(), s(), s(), s(), s(), s(), s());
        let (i, j, k, l, m, n, o, p) = (s(), s(), s(), s(), s(), s(), s(), s());
        let (q, r, t, u, v, w, x) = (s(), s(), s(), s(), s(), s(), s());
        ClientTrace::new()
            .on_call_start(move |info| {
                event!(target: "httptrace", parent: &*a, Level::DEBUG,
                    hook = "CallStart", http.request.method = %info.method,
                    url.full = %uri_a.url(&info.uri.to_string()), "CallStart")
            })
            .on_attempt_start(move |info| {
                event!(target: "httptrace", parent: &*b, Level::DEBUG,
                    hook = "AttemptStart", attempt = info.attempt, http.request.method = %info.method,
                    url.full = %uri_b.url(&info.uri.to_string()),
                    previous_status = info.previous_status.map_or(0, |s| s.as_u16()),
                    "AttemptStart")
            })
            .on_get_conn(move |info| {
                let (address, port) = split_host_port(&info.host_port);
                event!(target: "httptrace", parent: &*c, Level::DEBUG,
                    hook = "GetConn", server.address = address, server.port = port, "GetConn")
            })
            .on_dns_start(move |info| {
                event!(target: "httptrace", parent: &*d, Level::DEBUG,
                    hook = "DNSStart", dns.question.name = %info.host, "DNSStart")
            })
            .on_dns_done(move |info| {
                let addrs = info
                    .addrs
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                hook_event!(&*e, Level::DEBUG, "DNSDone", err_text(&info.err),
                    dns.answers = %addrs, coalesced = info.coalesced)
            })
            .on_connect_start(move |info| {
                event!(target: "httptrace", parent: &*f, Level::DEBUG,
                    hook = "ConnectStart", network.transport = info.network,
                    network.peer.address = %info.addr.ip(), network.peer.port = info.addr.port(),
                    "ConnectStart")
            })
            .on_connect_done(move |info| {
                hook_event!(&*g, Level::DEBUG, "ConnectDone", err_text(&info.err),
                    network.transport = info.network,
                    network.peer.address = %info.addr.ip(), network.peer.port = info.addr.port())
            })
            .on_tls_handshake_start(move || {
                event!(target: "httptrace", parent: &*h, Level::DEBUG,
                    hook = "TLSHandshakeStart", "TLSHandshakeStart")
            })
            .on_tls_handshake_done(move |info| {
                let state = &info.state;
                let version = state.version.as_deref().unwrap_or("");
                let version = version.trim_start_matches("TLSv");
                let alpn = state
                    .alpn_protocol
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                hook_event!(&*i, Level::DEBUG, "TLSHandshakeDone", err_text(&info.err),
                    tls.protocol.version = version,
                    tls.next_protocol = %alpn,
                    tls.cipher = state.cipher_suite.as_deref().unwrap_or(""),
                    tls.resumed = state.resumed,
                    server.address = state.server_name.as_deref().unwrap_or(""))
            })
            .on_got_conn(move |info| {
                let peer = info.conn.remote_addr;
                event!(target: "httptrace", parent: &*j, Level::DEBUG,
                    hook = "GotConn", conn.id = info.conn.id.as_u64(),
                    network.peer.address = peer.map(|a| a.ip().to_string()).unwrap_or_default(),
                    network.peer.port = peer.map_or(0, |a| a.port()), reused = info.reused,
                    was_idle = info.was_idle, idle_us = info.idle_time.as_micros() as u64,
                    "GotConn")
            })
            .on_wrote_header_field(move |info| {
                let value = info
                    .value_strs()
                    .map(|v| redaction.header_value(info.name, &v).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ");
                event!(target: "httptrace", parent: &*k, Level::TRACE,
                    hook = "WroteHeaderField", name = info.name, value = %value,
                    "WroteHeaderField")
            })
            .on_wrote_headers(move || {
                event!(target: "httptrace", parent: &*l, Level::DEBUG,
                    hook = "WroteHeaders", "WroteHeaders")
            })
            .on_wait_100_continue(move || {
                event!(target: "httptrace", parent: &*m, Level::DEBUG,
                    hook = "Wait100Continue", "Wait100Continue")
            })
            .on_wrote_request(move |info| {
                hook_event!(&*n, Level::DEBUG, "WroteRequest", err_text(&info.err))
            })
            .on_got_first_response_byte(move || {
                event!(target: "httptrace", parent: &*o, Level::DEBUG,
                    hook = "GotFirstResponseByte", "GotFirstResponseByte")
            })
            .on_got_100_continue(move || {
                event!(target: "httptrace", parent: &*p, Level::DEBUG,
                    hook = "Got100Continue", "Got100Continue")
            })
            .on_got_1xx_response(move |info| {
                event!(target: "httptrace", parent: &*q, Level::DEBUG,
                    hook = "Got1xxResponse", http.response.status_code = info.status.as_u16(),
                    "Got1xxResponse");
                Ok(())
            })
            .on_put_idle_conn(move |info| {
                hook_event!(&*r, Level::DEBUG, "PutIdleConn", err_text(&info.err))
            })
            .on_request_body_done(move |info| {
                hook_event!(
                    &*t,
                    Level::DEBUG,
                    "RequestBodyDone",
                    err_text(&info.err),
                    http.request.body.size = info.bytes
                )
            })
            .on_response_body_done(move |info| {
                hook_event!(
                    &*u,
                    Level::DEBUG,
                    "ResponseBodyDone",
                    err_text(&info.err),
                    http.response.body.size = info.bytes
                )
            })
            .on_call_done(move |info| {
                hook_event!(
                    &*v,
                    Level::DEBUG,
                    "CallDone",
                    err_text(&info.err),
                    attempts = info.attempts,
                    http.response.status_code = info.status.map_or(0, |s| s.as_u16()),
                    elapsed_us = info.elapsed.as_micros() as u64
                )
            })
            .on_conn_closed(move |info| {
                let err = match &info.reason {
                    CloseReason::Error(err) => Some(err.to_string()),
                    _ => None,
                };
                // The connection outlives the request: its close is an event of its own, with
                // no parent, and keeps no span open.
                hook_event!(
                    None,
                    Level::DEBUG,
                    "ConnClosed",
                    err,
                    conn.id = info.conn.id.as_u64(),
                    reason = info.reason.as_str(),
                    requests_served = info.requests_served,
                    lifetime_us = info.lifetime.as_micros() as u64
                )
            })
            .on_http2_stream_opened(move |info| {
                hook_event!(
                    &*w,
                    Level::DEBUG,
                    "Http2StreamOpened",
                    None::<String>,
                    waited_us = info.waited.as_micros() as u64,
                    max_concurrent_streams = info.max_concurrent_streams.map_or(-1, i64::from)
                )
            })
            .on_http2_stream_reset(move |info| {
                let what = format!(
                    "{} {} from {}",
                    info.frame.as_str(),
                    info.code,
                    info.sender.as_str()
                );
                hook_event!(
                    &*x,
                    Level::WARN,
                    "Http2StreamReset",
                    Some(what),
                    code = %info.code,
                    sender = info.sender.as_str(),
                    frame = info.frame.as_str()
                )
            })
            .on_http2_goaway(move |info| {
                let cut: Vec<String> = info.cut_streams.iter().map(u32::to_string).collect();
                let err = (info.code != Http2ErrorCode::NO_ERROR)
                    .then(|| format!("GOAWAY {}", info.code));
                // Like the close: the connection's, with no parent.
                hook_event!(
                    None,
                    Level::DEBUG,
                    "Http2GoAway",
                    err,
                    conn.id = info.conn.id.as_u64(),
                    last_stream_id = info.last_stream_id,
                    code = %info.code,
                    debug_data = info.debug_data.as_str(),
                    cut_count = info.cut_count,
                    cut_streams = cut.join(",")
                )
            })
    }
}
