//! Go's [`net/http/httptrace`](https://pkg.go.dev/net/http/httptrace) for Rust: the hooks
//! that show what happens inside one HTTP client request.
//!
//! This crate is the specification: [`ClientTrace`] with one optional hook per Go hook, the
//! argument types, composition, and the three ways to attach a trace. It depends on `http`
//! alone; the instrumentation that fires the hooks for hyper and tower stacks is the
//! `httptrace-tower` crate.
//!
//! # The hooks, in the order a fresh HTTP/1.1 request fires them
//! | Go hook | set with | argument |
//! |---|---|---|
//! | `GetConn` | [`ClientTrace::on_get_conn`] | [`GetConnInfo`] |
//! | `DNSStart` | [`ClientTrace::on_dns_start`] | [`DnsStartInfo`] |
//! | `DNSDone` | [`ClientTrace::on_dns_done`] | [`DnsDoneInfo`] |
//! | `ConnectStart` | [`ClientTrace::on_connect_start`] | [`ConnectStartInfo`] |
//! | `ConnectDone` | [`ClientTrace::on_connect_done`] | [`ConnectDoneInfo`] |
//! | `TLSHandshakeStart` | [`ClientTrace::on_tls_handshake_start`] | none |
//! | `TLSHandshakeDone` | [`ClientTrace::on_tls_handshake_done`] | [`TlsHandshakeDoneInfo`] |
//! | `GotConn` | [`ClientTrace::on_got_conn`] | [`GotConnInfo`] |
//! | `WroteHeaderField` | [`ClientTrace::on_wrote_header_field`] | [`WroteHeaderFieldInfo`] |
//! | `WroteHeaders` | [`ClientTrace::on_wrote_headers`] | none |
//! | `Wait100Continue` | [`ClientTrace::on_wait_100_continue`] | none |
//! | `WroteRequest` | [`ClientTrace::on_wrote_request`] | [`WroteRequestInfo`] |
//! | `GotFirstResponseByte` | [`ClientTrace::on_got_first_response_byte`] | none |
//! | `Got100Continue` | [`ClientTrace::on_got_100_continue`] | none |
//! | `Got1xxResponse` | [`ClientTrace::on_got_1xx_response`] | [`Got1xxResponseInfo`] |
//! | `PutIdleConn` | [`ClientTrace::on_put_idle_conn`] | [`PutIdleConnInfo`] |
//!
//! # The hooks Go lacks
//! | hook | set with | argument |
//! |---|---|---|
//! | `CallStart` | [`ClientTrace::on_call_start`] | [`CallStartInfo`] |
//! | `AttemptStart` | [`ClientTrace::on_attempt_start`] | [`AttemptStartInfo`] |
//! | `RequestBodyDone` | [`ClientTrace::on_request_body_done`] | [`BodyDoneInfo`] |
//! | `ResponseBodyDone` | [`ClientTrace::on_response_body_done`] | [`BodyDoneInfo`] |
//! | `CallDone` | [`ClientTrace::on_call_done`] | [`CallDoneInfo`] |
//! | `ConnClosed` | [`ClientTrace::on_conn_closed`] | [`ConnClosedInfo`] |
//! | `Http2StreamOpened` | [`ClientTrace::on_http2_stream_opened`] | [`Http2StreamOpenedInfo`] |
//! | `Http2StreamReset` | [`ClientTrace::on_http2_stream_reset`] | [`Http2StreamResetInfo`] |
//! | `Http2GoAway` | [`ClientTrace::on_http2_goaway`] | [`Http2GoAwayInfo`] |
//!
//! `CallStart`, `AttemptStart` and `CallDone` follow a call across redirects and retries;
//! `httptrace_tower::CallTraceLayer` fires them.
//!
//! # Attaching a trace
//! - to every request through a stack: `httptrace_tower::HttpTraceLayer::new(trace)`;
//! - to one request: [`with_client_trace`] (Go's `WithClientTrace`), read back with
//!   [`client_trace`] (Go's `ContextClientTrace`);
//! - to everything a future does: [`ClientTrace::scope`].
//!
//! When several apply, the most specific runs first: the request's own, then the scope's,
//! then the layer's.
//!
//! ```
//! use httptrace::{with_client_trace, ClientTrace};
//!
//! let trace = ClientTrace::new()
//!     .on_got_conn(|info| println!("got conn {} reused={}", info.conn.id, info.reused))
//!     .on_dns_done(|info| println!("dns: {:?}", info.addrs));
//! let mut req = http::Request::get("http://example.com/").body(()).unwrap();
//! with_client_trace(&mut req, trace);
//! ```
//!
//! # JSON (feature `serde`, on by default)
//! The infos, [`Event`] and [`Timings`] implement `serde::Serialize`, and every JSON this
//! crate writes ([`Event::to_json`], [`Timings::to_json`]) is that serialization. One key
//! scheme throughout: `snake_case`; durations and instants in whole microseconds, in keys
//! ending in `_us` (an event's `t_us` from the log's start, a timing's marks from the
//! request's start); `null` for what is absent or did not happen. An info has the keys its
//! hook has in Go's event logs (`host_port`, `reused`, `idle_us`, `addrs`, `err`, ...), and an
//! event is `event`, `t_us` and its info's keys. Secrets are redacted as [`Redaction::new`]
//! says (sensitive header values, URL userinfo, signed query values); `to_json_with` takes
//! another [`Redaction`].
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod attach;
mod compose;
mod error;
mod hook;
mod info;
pub mod instrument;
mod record;
mod scope;
mod tls;
mod trace;
pub mod wire;

pub use attach::{
    attach_to_extensions, client_trace, extensions_client_trace, take_client_trace,
    with_client_trace,
};
pub use compose::RequestTraces;
pub use error::{BoxError, TraceError};
pub use hook::{hook_panics, in_hook, set_panic_reporter, HookPanic};
pub use info::{
    AttemptStartInfo, BodyDoneInfo, CallDoneInfo, CallStartInfo, CloseReason, ConnClosedInfo,
};
pub use info::{
    ConnectDoneInfo, ConnectStartInfo, ConnectionId, ConnectionInfo, DnsDoneInfo, DnsStartInfo,
    GetConnInfo, Got1xxResponseInfo, GotConnInfo, HeaderField, PutIdleConnInfo,
    TlsHandshakeDoneInfo, WroteHeaderFieldInfo, WroteRequestInfo,
};
pub use info::{
    Http2ErrorCode, Http2GoAwayInfo, Http2Sender, Http2StreamOpenedInfo, Http2StreamResetInfo,
    ResetFrame, GOAWAY_CUT_STREAMS_LIMIT, GOAWAY_DEBUG_DATA_LIMIT,
};
pub use record::{
    is_sensitive_header, redact_authority, redact_url, Redaction, REDACTED, SENSITIVE_HEADERS,
    SIGNED_QUERY_PARAMETERS, URL_REDACTED,
};
pub use record::{Event, EventKind, EventLog};
pub use record::{Phase, Timings, TimingsRecorder};
pub use scope::{current_trace, EnteredTrace, Scoped};
pub use tls::TlsConnectionState;
pub use trace::{ClientTrace, HookKind};
