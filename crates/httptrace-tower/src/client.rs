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

/// The client [`http_client`] returns.
pub type TracedClient<B, C = TracedHttpConnector> = HttpTrace<Client<C, TracedRequestBody<B>>>;

/// A hyper-util `Client` for plain HTTP/1.1 with every hook in place, `trace` applied to
/// each request (add per-request traces with [`httptrace::with_client_trace`]).
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
    let client =
        Client::builder(TokioExecutor::new()).build(TraceConnector::new(TraceHttpConnector::new()));
    HttpTrace::new(client, trace)
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
        start(self.trace(), req, |req| client.request(req))
    }
}
