//! `httptrace-otel`: [`OtelLayer`], each request as an HTTP client span by the
//! OpenTelemetry semantic conventions (attribute and metric names from
//! `opentelemetry-semantic-conventions`), with its phases as child spans, as Go's
//! `otelhttptrace` makes them, and the conventions' HTTP client and DNS metrics.
//!
//! Each request gets a client span named after its method (`HTTP` for a method the
//! conventions do not know), a child of the context current where it is sent, and under it
//! one span per phase:
//!
//! ```text
//! GET ........................ http.request.method (_OTHER + http.request.method_original),
//!  │                           url.full (redacted), server.address, server.port,
//!  │                           network.peer.address, network.peer.port,
//!  │                           http.response.status_code, network.protocol.version,
//!  │                           http.request.resend_count, http.request.body.size,
//!  │                           http.response.body.size, error.type
//!  ├─ http.getconn ........... from GetConn to GotConn: httptrace.conn.reused,
//!  │   │                       httptrace.conn.was_idle, httptrace.conn.idle_time_ms (ours, out
//!  │   │                       of the conventions' `http.` namespace: none has these),
//!  │   │                       network.peer.address, network.peer.port
//!  │   ├─ http.dns ........... dns.question.name, dns.answers (array), error.type
//!  │   ├─ http.connect ....... one per attempt: network.peer.address, network.peer.port,
//!  │   │                       network.transport, network.type, error.type
//!  │   └─ http.tls ........... tls.protocol.name, tls.protocol.version, tls.cipher,
//!  │                           tls.next_protocol, tls.resumed, tls.established,
//!  │                           server.address (the SNI name), error.type
//!  ├─ http.send .............. from GotConn to WroteRequest: http.request.body.size
//!  └─ http.receive ........... from the first response byte to the body's end:
//!                              http.response.body.size
//! ```
//! `http.request.method` names the conventions' nine methods, `_OTHER` for any other; the
//! list is replaced whole by `OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS` (comma-separated,
//! case-sensitive, read when the layer is made) or by [`OtelLayer::known_methods`].
//!
//! **Why phases are child spans.** The conventions define the client span and say nothing of
//! its inside; a trace viewer draws children as a waterfall, so where a slow request spent
//! its time (a lookup, a refused first address, a handshake, the server) reads at a glance,
//! with each phase's own error. They are `Internal` spans, so that tools that count client
//! spans count one per request. A connection's close is recorded in the metrics only, not
//! in a span: the connection outlives the request that dialled it, and keeps nothing of
//! that request's spans.
//!
//! **Errors.** A failed request or phase ends with an error status, its message, and an
//! `error.type`; a response with a 4xx or 5xx status gets its status code as `error.type`
//! and an error status with no message, as the conventions say. `error.type` names:
//!
//! | failure | `error.type` |
//! |---|---|
//! | the lookup (its own span, `dns.lookup.duration`) | getaddrinfo's `host_not_found`, `try_again`, `no_recovery`, else `_OTHER` |
//! | the lookup (the request) | `name_resolution_error` |
//! | a connect attempt refused, reset, unreachable | `connection_error` |
//! | any phase past its time limit | `timeout` |
//! | the server's certificate not accepted | `server_certificate_invalid` |
//! | the TLS handshake, otherwise | `secure_connection_error` |
//! | the connection ended before the response did | `response_ended` |
//! | an unparsable response, or more 1xx than allowed | `invalid_response` |
//! | any other failure of the exchange (hyper's) | `http_protocol_error` |
//! | a `Got1xxResponse` hook's veto | `aborted` |
//! | the request dropped before its response | `canceled` |
//! | none of these | `_OTHER` |
//!
//! **Metrics**, with the conventions' advised bucket boundaries ([`SHORT_BUCKETS`] for
//! requests and lookups, [`LONG_BUCKETS`] for connections):
//! `http.client.request.duration` (s, from the call to the response body's end: the request
//! span's own length; method, server, status, protocol version, `error.type`),
//! `http.client.connection.duration` (s, a connection's life, recorded when it closes),
//! `http.client.open_connections` (by `http.connection.state`: `active` while a request is in
//! flight on the connection, `idle` between requests; counted from a connection's first
//! request to its close), and `dns.lookup.duration` (s). The recommended
//! `http.client.active_requests` (`{request}`, from the call to the request span's end;
//! method, server, `url.scheme`) and `http.client.request.body.size` /
//! `http.client.response.body.size` (bytes, recorded at the request's end with the duration's
//! attributes, on [`BODY_SIZE_BUCKETS`], ours: the conventions advise none).
//!
//! **Opt-in attributes**, each by a builder method: `user_agent.original`
//! ([`OtelLayer::with_user_agent`]), `url.scheme` ([`OtelLayer::with_url_scheme`]),
//! `url.template` (a closure of yours, [`OtelLayer::url_template`]), and
//! `http.request.header.<key>` / `http.response.header.<key>` for the names you list
//! ([`OtelLayer::capture_request_headers`], [`OtelLayer::capture_response_headers`]), their
//! values redacted as every output of this crate is.
//!
//! **Scope.** [`OtelLayer::scope`] is this crate's instrumentation scope, with the schema URL
//! of the conventions the names come from; [`OtelLayer::global`] uses it with the global
//! providers.
//!
//! **Trace context** goes out with each request by default: the request span's context,
//! through the globally configured propagator, into the request's headers (W3C
//! `traceparent` with the SDK's `TraceContextPropagator`), so that the server's spans join
//! the client's trace; [`OtelLayer::without_propagation`] turns it off.
//!
//! **Where it goes.** Outside an [`HttpTraceLayer`](httptrace_tower::HttpTraceLayer), whose trace it
//! extends with its own for each request; inside any layer that redirects or retries, with a
//! [`CallTraceLayer`](httptrace_tower::CallTraceLayer) outside those, so that each attempt is its own
//! client span and the second on carries `http.request.resend_count`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod connections;
mod error_type;
mod future;
mod hooks;
mod layer;
mod methods;
mod opt_in;
mod service;
mod spans;

pub use future::ResponseFuture;
pub use layer::{OtelLayer, BODY_SIZE_BUCKETS, LONG_BUCKETS, SHORT_BUCKETS};
pub use service::Otel;
