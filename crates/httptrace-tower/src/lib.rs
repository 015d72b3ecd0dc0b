//! Fires the hooks of an [`httptrace::ClientTrace`] for hyper-util's `Client` and any tower
//! `Service<http::Request<B>>`.
//!
//! The pieces, used together (or all at once through [`http_client`] or `https_client`):
//! - [`HttpTraceLayer`] around the client: starts tracing each request;
//! - [`TraceConnector`] around the connector: traces each connection's I/O;
//! - `TraceTlsConnector` (feature `rustls`, on by default): rustls, with the TLS hooks;
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
//!     .build(TraceConnector::new(TraceHttpConnector::new()).http2_only_by_alpn());
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
//! - `TLSHandshakeStart` / `TLSHandshakeDone`: in [`TraceTlsConnector`], around the rustls
//!   handshake of an `https://` connection.
//! - `Got100Continue`, `Got1xxResponse`: in the connection's task, for each 1xx before the
//!   final response, as its bytes are read (or from hyper's informational callback, until the
//!   layer has seen its requests go to connections made by [`TraceConnector`]; HTTP/1 only:
//!   hyper's HTTP/2 client reads no 1xx). A `Got1xxResponse` hook's error fails the request
//!   with [`Error::Aborted`]; the connection is then closed, as Go closes it.
//! - `Wait100Continue`: right after `WroteHeaders` for a request with
//!   `Expect: 100-continue` and a body; the layer then holds the body back until `100
//!   Continue`, a final response (the body is then not sent, and an HTTP/1 connection is not
//!   reused: `PutIdleConn` says why), or the timeout (then it is sent). `WroteRequest` fires
//!   after the body, or when the decision not to send it is made. Over HTTP/2 hyper reports no
//!   1xx, so the body waits for the timeout or a final response.
//!
//! # HTTP/2
//! A stream's `GotConn`, `WroteHeaderField` (pseudo-headers first, one value per call) and
//! `WroteHeaders` fire in the request's task when hyper-util hands the request to the
//! connection, just before hyper writes its HEADERS frame; `WroteRequest` when its body has
//! ended (at once for a request without one); `GotFirstResponseByte` when the response head
//! arrives. `PutIdleConn` never fires for HTTP/2, as in Go. `Reused` is true for every stream
//! after the connection's first; `WasIdle` when no other stream was open.
//!
//! # The hooks Go lacks
//! - `RequestBodyDone`: with `WroteRequest`, just before it, for a body that reached its end
//!   (hyper may take a whole body before it writes the head, so its end is reported when it
//!   is on the wire); at once, with the reason, for one that failed, was dropped or was held
//!   back after `Expect: 100-continue`.
//! - `ResponseBodyDone`: at the response body's end, failure or drop, right after
//!   `PutIdleConn` when that fires; with the data bytes read.
//! - `ConnClosed`: when the connection's I/O is dropped, to the trace of the request that
//!   dialled it; why ([`httptrace::CloseReason`]) comes from what the I/O saw (the server's
//!   end of stream, an error) and how the layer saw the last exchange end (returned to the
//!   pool, `Connection: close`, body dropped, still in flight); a connection dropped idle
//!   while its connector (the client) lives was dropped by the pool's idle timeout. The
//!   exchange-based reasons need the connection's requests to go through [`HttpTrace`].
//! - `CallStart`, `AttemptStart`, `CallDone`: from [`CallTraceLayer`], placed outside the
//!   layers that redirect or retry, with an [`HttpTrace`] inside them that numbers each
//!   attempt; `CallDone` when the call has its final response (or error).
//!
//! On the server side, [`ServerTimingLayer`] answers each request with a `Server-Timing`
//! header telling where its handler's outbound calls (through an [`HttpTrace`]) spent their
//! time.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub)]

pub mod call;
mod client;
pub mod connect;
mod error;
mod http_trace;
mod integrations;
mod panic_report;
pub mod server_timing;
mod state;
mod wire;

pub use call::{CallTrace, CallTraceLayer};
pub use client::{http_client, http_client_with, HttpConnectorStack, Timeouts, TracedClient};
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub use client::{https_client, https_client_with, HttpsConnectorStack};
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub use connect::{crypto_provider, ClientTls, MaybeTlsStream, TraceTlsConnector};
pub use connect::{
    live_connection_states, ClosedBy, ConnectError, ConnectionHandle, ConnectionStats,
    DestinationStats, TraceConnector, TraceExecutor, TraceHttpConnector, TraceResolver,
    TracedConnection, TracedIo,
};
pub use error::{Error, TooManyInformational, MAX_INFORMATIONAL};
pub use http_trace::{
    HttpTrace, HttpTraceLayer, RequestHead, ResponseFuture, TracedRequestBody, TracedResponseBody,
};
#[cfg(feature = "tonic")]
#[cfg_attr(docsrs, doc(cfg(feature = "tonic")))]
pub use integrations::tonic_channel;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub use integrations::tracing_events::TracingEvents;
/// The rustls this crate builds on, for its `ClientConfig`.
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub use rustls;
pub use server_timing::{ServerTiming, ServerTimingLayer, ServerTimingMetrics};
