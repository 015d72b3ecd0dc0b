//! [`OtelLayer`] (feature `opentelemetry`): the hooks as OpenTelemetry spans and metrics, as
//! Go's `otelhttptrace` makes them.
//!
//! Each request gets a client span named after its method, a child of the context current
//! where it is sent, and under it one span per phase:
//!
//! ```text
//! GET ........................ http.request.method, url.full (redacted), server.address, server.port,
//!  │                           http.response.status_code, network.protocol.version
//!  ├─ http.getconn ........... from GetConn to GotConn: http.conn.reused, http.conn.was_idle,
//!  │   │                       http.conn.idle_time_ms, network.peer.address, network.peer.port
//!  │   ├─ http.dns ........... dns.question.name, dns.answers
//!  │   ├─ http.connect ....... one per attempt: network.peer.address, network.peer.port
//!  │   └─ http.tls ........... tls.protocol.version, tls.cipher, tls.resumed, tls.server.name
//!  ├─ http.send .............. from GotConn to WroteRequest: http.request.body.size
//!  └─ http.receive ........... from the first response byte to the body's end:
//!                              http.response.body.size
//! ```
//!
//! A connection's close is recorded in the metrics only (`http.client.connection.duration`,
//! `http.client.open_connections`), not in a span: the connection outlives the request that
//! dialled it, and keeps nothing of that request's spans.
//!
//! A phase that fails ends with an error status and its message; so does the request span
//! when the request fails. The metrics, from the OpenTelemetry HTTP and DNS semantic
//! conventions: `http.client.request.duration` (s, from the call to the response body's end),
//! `http.client.connection.duration` (s, a connection's life, recorded when it closes),
//! `http.client.open_connections` (connections that carried a request and are not closed
//! yet; without `http.connection.state`, which the hooks cannot follow) and
//! `dns.lookup.duration` (s).
//!
//! The layer goes outside an [`HttpTraceLayer`](crate::HttpTraceLayer), whose trace it
//! extends with its own for each request.

mod future;
mod layer;
mod service;
mod spans;

pub use future::ResponseFuture;
pub use layer::OtelLayer;
pub use service::Otel;
