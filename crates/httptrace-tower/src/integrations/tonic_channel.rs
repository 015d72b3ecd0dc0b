//! tonic (feature `tonic`): a `Channel` made by `Endpoint::connect_with_connector` over the traced connector
//! stack, with [`HttpTrace`] around it.
//!
//! | hook | with a tonic `Channel` |
//! |---|---|
//! | `DNSStart`/`DNSDone`, `ConnectStart`/`ConnectDone`, `TLSHandshakeStart`/`Done` | yes, for the connection made by [`connect`] (reported to its trace); not for a reconnect, which tonic makes on its own task |
//! | `GetConn` | yes, per call |
//! | `GotConn`, `WroteHeaderField`, `WroteHeaders`, `WroteRequest` | no: tonic drives hyper's HTTP/2 connection itself, and tells nobody which connection a call went out on |
//! | `GotFirstResponseByte` | yes, when the response head reaches the layer |
//! | `RequestBodyDone`, `ResponseBodyDone` | yes (the request body's end is reported when the call's state is dropped: no `WroteRequest` to wait for) |
//! | `ConnClosed` | yes, for the connection made by [`connect`] |
//! | `PutIdleConn`, 1xx hooks | never for HTTP/2, as in Go |
//!
//! For every per-call hook, send the calls through hyper-util's `Client` with
//! `http2_only(true)` over the same stack instead ([`client_channel`]): tonic's generated
//! clients take any `GrpcService`.

use std::task::{Context, Poll};

use http::{Request, Uri};
use httptrace::ClientTrace;

use crate::{HttpTrace, TraceExecutor, TracedClient, TracedRequestBody};
use hyper_util::client::legacy::connect::Connection;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tonic::body::Body;

/// The error type tonic's connectors return.
type BoxError = Box<dyn std::error::Error + Send + Sync>;
use tonic::transport::{Channel, Endpoint};
use tower_service::Service;

/// A tonic channel with the layer around it: what tonic's generated clients take.
pub type TracedChannel = WithOrigin<HttpTrace<IntoTonicBody<Channel>>>;

/// Hands tonic's channel the body type it takes.
#[derive(Debug, Clone)]
pub struct IntoTonicBody<S> {
    inner: S,
}

impl<S, B> Service<Request<TracedRequestBody<B>>> for IntoTonicBody<S>
where
    S: Service<Request<Body>>,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<TracedRequestBody<B>>) -> Self::Future {
        self.inner.call(req.map(Body::new))
    }
}

/// Gives each request the endpoint's scheme and authority before the layer sees it: tonic's
/// generated clients send a bare path, and tonic's channel adds the origin only inside.
#[derive(Debug, Clone)]
pub struct WithOrigin<S> {
    inner: S,
    origin: Uri,
}

impl<S, B> Service<Request<B>> for WithOrigin<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let mut parts = req.uri().clone().into_parts();
        if parts.authority.is_none() {
            parts.scheme = self.origin.scheme().cloned();
            parts.authority = self.origin.authority().cloned();
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
        self.inner.call(req)
    }
}

/// Connects `endpoint` through `connector` (a `TraceConnector` stack) with `trace` in effect,
/// so that the connection's hooks report to it, and traces every call with `trace`.
pub async fn connect<C>(
    endpoint: Endpoint,
    connector: C,
    trace: ClientTrace,
) -> Result<TracedChannel, tonic::transport::Error>
where
    C: Service<Uri> + Send + 'static,
    C::Response: hyper::rt::Read + hyper::rt::Write + Send + Unpin,
    C::Future: Send,
    BoxError: From<C::Error> + Send,
{
    let origin = endpoint.uri().clone();
    let channel = trace
        .scope(endpoint.connect_with_connector(connector))
        .await?;
    Ok(WithOrigin {
        inner: HttpTrace::new(IntoTonicBody { inner: channel }, trace),
        origin,
    })
}

/// hyper-util's pooled client speaking HTTP/2 only over `connector`, traced with `trace`: a
/// `GrpcService` for tonic's clients on which every per-call hook fires.
pub fn client_channel<C>(
    origin: Uri,
    connector: C,
    trace: ClientTrace,
) -> WithOrigin<TracedClient<Body, C>>
where
    C: Service<Uri> + Clone + Send + Sync + 'static,
    C::Response: hyper::rt::Read + hyper::rt::Write + Connection + Send + Unpin,
    C::Future: Send + Unpin,
    C::Error: Into<BoxError>,
{
    let client = Client::builder(TraceExecutor::new(TokioExecutor::new()))
        .http2_only(true)
        .build(connector);
    WithOrigin {
        inner: HttpTrace::new(client, trace).with_trace_executor(),
        origin,
    }
}
