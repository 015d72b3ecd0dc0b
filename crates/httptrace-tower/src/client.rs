//! A fully traced hyper-util client in one call.

use http::Request;
use http_body::Body;
use httptrace::{BoxError, ClientTrace};
use hyper_util::client::legacy::connect::Connect;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::connect::{TraceConnector, TraceHttpConnector};
use crate::future::ResponseFuture;
use crate::request_body::TracedRequestBody;
use crate::service::{start, HttpTrace};

/// The connector stack of [`http_client`]: traced I/O over our dialer over the system
/// resolver, traced.
pub type TracedHttpConnector = TraceConnector<TraceHttpConnector>;

/// The connector stack of [`https_client`]: traced I/O over rustls over our dialer.
#[cfg(feature = "rustls")]
pub type TracedHttpsConnector =
    TraceConnector<crate::connect::TraceTlsConnector<TraceHttpConnector>>;

/// The client [`http_client`] returns.
pub type TracedClient<B, C = TracedHttpConnector> = HttpTrace<Client<C, TracedRequestBody<B>>>;

/// A hyper-util `Client` for plain HTTP/1.1 with every hook in place, `trace` applied to
/// each request (add per-request traces with [`httptrace::with_client_trace`]). Its sockets
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
    let mut dialer = TraceHttpConnector::new();
    dialer.set_nodelay(true);
    let connector = TraceConnector::new(dialer).http2_only_by_alpn();
    let client = Client::builder(TokioExecutor::new()).build(connector);
    HttpTrace::new(client, trace)
}

/// A hyper-util `Client` for `http://` and `https://` (rustls with `config`; its
/// `alpn_protocols` decide whether HTTP/2 is offered), with every hook in place; `TCP_NODELAY`
/// and the connector's [`http2_only_by_alpn`](TraceConnector::http2_only_by_alpn) set as for
/// [`http_client`].
///
/// ```no_run
/// # fn run(roots: rustls::RootCertStore) {
/// use std::sync::Arc;
///
/// let mut config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
/// config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
/// let trace = httptrace::ClientTrace::new().on_tls_handshake_done(|i| println!("{:?}", i.state.version));
/// let client = httptrace_tower::https_client::<http_body_util::Empty<bytes::Bytes>>(trace, Arc::new(config));
/// # }
/// ```
#[cfg(feature = "rustls")]
pub fn https_client<B>(
    trace: ClientTrace,
    config: std::sync::Arc<rustls::ClientConfig>,
) -> TracedClient<B, TracedHttpsConnector>
where
    B: Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let mut dialer = TraceHttpConnector::new();
    dialer.enforce_http(false).set_nodelay(true);
    let connector = TraceConnector::new(crate::connect::TraceTlsConnector::new(dialer, config))
        .http2_only_by_alpn();
    HttpTrace::new(
        Client::builder(TokioExecutor::new()).build(connector),
        trace,
    )
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
