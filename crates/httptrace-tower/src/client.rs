//! A fully traced hyper-util client in one call.

use std::time::Duration;

use http::Request;
use http_body::Body;
use httptrace::{BoxError, ClientTrace};
use hyper_util::client::legacy::connect::Connect;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::connect::{TraceConnector, TraceExecutor, TraceHttpConnector};
use crate::http_trace::request_body::TracedRequestBody;
use crate::http_trace::service::HttpTrace;
use crate::http_trace::start::start;
use crate::http_trace::ResponseFuture;

/// The connector stack of [`http_client`]: traced I/O over our dialer over the system
/// resolver, traced.
pub type HttpConnectorStack = TraceConnector<TraceHttpConnector>;

/// The connector stack of [`https_client`]: traced I/O over rustls over our dialer.
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub type HttpsConnectorStack =
    TraceConnector<crate::connect::TraceTlsConnector<TraceHttpConnector>>;

/// How long the ready-made clients wait for each phase of getting a connection; `None`: no
/// limit. The default is Go's `DefaultTransport`: 30 s to connect (the lookup and every
/// attempt together), 10 s for the TLS handshake. An expiry fails the request with an
/// `io::Error` of kind `TimedOut` naming the phase ("connect timed out", "TLS handshake
/// timed out after 10s"), which `ConnectDone` / `TLSHandshakeDone` carry too.
///
/// ```
/// use std::time::Duration;
/// use httptrace_tower::Timeouts;
///
/// let quick = Timeouts { connect: Some(Duration::from_secs(2)), ..Timeouts::default() };
/// assert_eq!(quick.tls_handshake, Some(Duration::from_secs(10)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the start of the lookup to a connected socket.
    pub connect: Option<Duration>,
    /// The TLS handshake, once connected.
    pub tls_handshake: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Some(Duration::from_secs(30)),
            tls_handshake: Some(Duration::from_secs(10)),
        }
    }
}

/// The client [`http_client`] returns.
pub type TracedClient<B, C = HttpConnectorStack> = HttpTrace<Client<C, TracedRequestBody<B>>>;

/// A hyper-util `Client` for plain HTTP/1.1 with every hook in place, `trace` applied to
/// each request (add per-request traces with [`httptrace::with_client_trace`]), and Go's
/// connect timeout ([`Timeouts`]; [`http_client_with`] sets others). Its sockets
/// set `TCP_NODELAY`, as reqwest's and tonic's do (hyper-util's connector does not by
/// default, and small HTTP/2 writes then wait on delayed ACKs). Its connector is told
/// [`http2_only_by_alpn`](TraceConnector::http2_only_by_alpn): with no trace attached it
/// allocates what a plain hyper-util client does.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use http_body_util::{BodyExt, Empty};
/// use httptrace::ClientTrace;
///
/// let trace = ClientTrace::new().on_got_conn(|i| println!("reused: {}", i.reused));
/// let client = httptrace_tower::http_client::<Empty<bytes::Bytes>>(trace);
/// let res = client.request(http::Request::get("http://127.0.0.1:8080/").body(Empty::new())?).await?;
/// let body = res.into_body().collect().await?;
/// # Ok(()) }
/// ```
pub fn http_client<B>(trace: ClientTrace) -> TracedClient<B>
where
    B: Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    http_client_with(trace, Timeouts::default())
}

/// [`http_client`] with `timeouts` instead of Go's defaults.
pub fn http_client_with<B>(trace: ClientTrace, timeouts: Timeouts) -> TracedClient<B>
where
    B: Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut dialer = TraceHttpConnector::new();
    dialer
        .set_nodelay(true)
        .set_connect_timeout(timeouts.connect);
    let connector = TraceConnector::new(dialer).http2_only_by_alpn();
    let stats = connector.stats();
    let client = Client::builder(TraceExecutor::new(TokioExecutor::new())).build(connector);
    HttpTrace::new(client, trace)
        .with_trace_executor()
        .with_stats(stats)
}

/// A hyper-util `Client` for `http://` and `https://`, verifying servers with the platform's
/// verifier and roots ([`ClientTls::Platform`](crate::ClientTls::Platform); offering HTTP/2
/// and HTTP/1.1 by ALPN), with every hook in place; `TCP_NODELAY` and the connector's
/// [`http2_only_by_alpn`](TraceConnector::http2_only_by_alpn) set as for [`http_client`],
/// and Go's connect and TLS handshake timeouts ([`Timeouts`]). [`https_client_with`] takes
/// other roots, a config of your own, or other timeouts.
///
/// The crypto provider is [`crypto_provider`](crate::crypto_provider)'s: the process
/// default if one is installed, else aws-lc-rs (feature `aws-lc-rs`, on by default) or ring.
/// It fails only when the platform's roots cannot be loaded, or no provider is there.
///
/// ```no_run
/// # fn run() -> Result<(), rustls::Error> {
/// let trace = httptrace::ClientTrace::new().on_tls_handshake_done(|i| println!("{:?}", i.state.version));
/// let client = httptrace_tower::https_client::<http_body_util::Empty<bytes::Bytes>>(trace)?;
/// # Ok(()) }
/// ```
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub fn https_client<B>(
    trace: ClientTrace,
) -> Result<TracedClient<B, HttpsConnectorStack>, rustls::Error>
where
    B: Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    https_client_with(trace, crate::ClientTls::default(), Timeouts::default())
}

/// [`https_client`] with `tls` (other roots, or a `rustls::ClientConfig` of your own, which
/// converts into [`ClientTls::Config`](crate::ClientTls::Config)) and `timeouts`.
///
/// ```no_run
/// # fn run(roots: rustls::RootCertStore) -> Result<(), rustls::Error> {
/// use std::sync::Arc;
/// use httptrace_tower::{https_client_with, ClientTls, Timeouts};
///
/// let tls = ClientTls::Roots(Arc::new(roots));
/// let client = https_client_with::<http_body_util::Empty<bytes::Bytes>>(
///     httptrace::ClientTrace::new(),
///     tls,
///     Timeouts::default(),
/// )?;
/// # Ok(()) }
/// ```
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub fn https_client_with<B>(
    trace: ClientTrace,
    tls: impl Into<crate::ClientTls>,
    timeouts: Timeouts,
) -> Result<TracedClient<B, HttpsConnectorStack>, rustls::Error>
where
    B: Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let config = tls.into().into_config()?;
    let mut dialer = TraceHttpConnector::new();
    dialer
        .enforce_http(false)
        .set_nodelay(true)
        .set_connect_timeout(timeouts.connect);
    let mut tls = crate::connect::TraceTlsConnector::new(dialer, config);
    tls.set_handshake_timeout(timeouts.tls_handshake);
    let connector = TraceConnector::new(tls).http2_only_by_alpn();
    let stats = connector.stats();
    Ok(HttpTrace::new(
        Client::builder(TraceExecutor::new(TokioExecutor::new())).build(connector),
        trace,
    )
    .with_trace_executor()
    .with_stats(stats))
}

impl<C, B> HttpTrace<Client<C, TracedRequestBody<B>>>
where
    C: Connect + Clone + Send + Sync + 'static,
    B: Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Sends `req`, traced; `&self` like hyper-util's `Client::request`.
    pub fn request(
        &self,
        req: Request<B>,
    ) -> ResponseFuture<hyper_util::client::legacy::ResponseFuture> {
        let client = self.get_ref();
        start(self.settings(), req, |req| client.request(req))
    }
}
