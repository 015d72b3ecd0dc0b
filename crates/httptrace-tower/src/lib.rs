//! Fires the hooks of an [`httptrace::ClientTrace`] for hyper-util's `Client` and any tower
//! `Service<http::Request<B>>`.
//!
//! Three pieces, used together (or all at once through [`http_client`]):
//! - [`HttpTraceLayer`] around the client: starts tracing each request;
//! - [`TraceConnector`] around the connector: traces each connection's I/O;
//! - [`TraceHttpConnector`] with [`TraceResolver`]: a dialer and resolver that report DNS and
//!   every connect attempt.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use http_body_util::Empty;
//! use httptrace::ClientTrace;
//! use httptrace_tower::{HttpTraceLayer, TraceConnector, TraceHttpConnector};
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use tower::{Layer, ServiceExt};
//!
//! let trace = ClientTrace::new()
//!     .on_connect_done(|i| println!("connected to {} ({:?})", i.addr, i.err))
//!     .on_got_first_response_byte(|| println!("first byte"));
//! let client = Client::builder(TokioExecutor::new())
//!     .build(TraceConnector::new(TraceHttpConnector::new()));
//! let traced = HttpTraceLayer::new(trace).layer(client);
//! let req = http::Request::get("http://127.0.0.1:8080/").body(Empty::<bytes::Bytes>::new())?;
//! let res = traced.oneshot(req).await?;
//! # Ok(()) }
//! ```
//!
//! # When the hooks are called (HTTP/1.1)
//! - `GetConn`: in [`HttpTrace`]'s `call`, before the client looks for a connection.
//! - `DNSStart` / `DNSDone`: in [`TraceResolver`], around the inner resolver's lookup; a
//!   lookup that joins one in flight reports `coalesced`.
//! - `ConnectStart` / `ConnectDone`: in [`TraceHttpConnector`], around each TCP attempt.
//! - `GotConn`: in the connection's task, when it first writes after hyper encoded the
//!   request's head (before any of it reaches the socket); with reuse and idle time.
//! - `WroteHeaderField`: as each header line is accepted by the socket, in wire order, the
//!   fields hyper-util and hyper add (`host`, `content-length`, ...) included.
//! - `WroteHeaders`: when the socket accepted the head's last byte.
//! - `WroteRequest`: when hyper flushes the connection after the body's end; with the error
//!   if writing failed or the request failed after the connection was obtained.
//! - `GotFirstResponseByte`: when the first response byte is read from the socket.
//! - `PutIdleConn`: when the response body reaches its end (`None`), or is dropped or fails
//!   before it (an error: Go fires nothing then); before the response future returns when
//!   there is no body. Never for HTTP/2, nor after `Connection: close` or a `101`.
//! - `TLSHandshakeStart` / `TLSHandshakeDone`, `Got100Continue`, `Got1xxResponse`,
//!   `Wait100Continue`: not fired yet (TLS, HTTP/2 and 1xx support are under way).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

mod client;
pub mod connect;
mod future;
mod h2_stream;
mod handoff;
mod head_scanner;
mod layer;
mod request_body;
mod request_state;
mod response_body;
mod service;

pub use client::{http_client, TracedClient, TracedHttpConnector};
pub use connect::{
    live_connection_states, ConnectError, ConnectionHandle, TraceConnector, TraceHttpConnector,
    TraceResolver, TracedConnection, TracedIo,
};
pub use future::ResponseFuture;
pub use layer::HttpTraceLayer;
pub use request_body::TracedRequestBody;
pub use response_body::TracedResponseBody;
pub use service::HttpTrace;
