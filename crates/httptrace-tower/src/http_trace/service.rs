//! [`HttpTrace`]: the service that starts tracing a request.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::uri::Scheme;
use http::{Request, Version};
use httptrace::{
    current_trace, extensions_client_trace, ClientTrace, GetConnInfo, HookKind, TimingsRecorder,
};
use hyper_util::client::legacy::connect::{capture_connection, CaptureConnection};
use tower_service::Service;

use crate::http_trace::future::ResponseFuture;
use crate::http_trace::request_body::{traced_outside, TracedRequestBody};
use crate::state::call::current_call;
use crate::state::expect_gate::{expects_continue, ExpectGate, DEFAULT_TIMEOUT};
use crate::state::informational::watch_informational;
use crate::state::learned::Learned;
use crate::state::request::{OnTheWire, RequestState};
use crate::wire::connection_header::connection_has;
use crate::wire::h2_head::H2Head;

/// Traces the requests sent through `S`; made by [`HttpTraceLayer`](crate::HttpTraceLayer).
///
/// For each request it fires `GetConn`, hands the request's trace to the connector and the
/// connection (see the crate docs for where each hook fires), and wraps the response body so
/// that its end fires `PutIdleConn`. The inner service receives the request with its body
/// wrapped in [`TracedRequestBody`], and answers with any `http::Response`.
///
/// Requests that the client will refuse (no scheme, a scheme other than `http`/`https`, no
/// host, an HTTP version other than 1.0, 1.1 or 2) are passed on untouched and fire no hook,
/// as in Go; so are requests with no trace at all, at the cost of one extension lookup. A
/// request already traced by an outer `HttpTrace` is not traced twice.
#[derive(Debug, Clone)]
pub struct HttpTrace<S> {
    inner: S,
    settings: Settings,
}

/// What [`start`] needs of the layer, for every request.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    trace: ClientTrace,
    expect_continue_timeout: Duration,
    cleartext_http2: Learned,
    http1_handoffs: Learned,
    record_timings: bool,
    per_request: Option<PerRequest>,
}

/// Makes a trace for each request (`trace_per_request`).
#[derive(Clone)]
pub(crate) struct PerRequest(pub(crate) Arc<dyn Fn() -> ClientTrace + Send + Sync>);

impl std::fmt::Debug for PerRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PerRequest")
    }
}

impl<S> HttpTrace<S> {
    /// Traces `inner` with `trace`.
    pub fn new(inner: S, trace: ClientTrace) -> Self {
        crate::panic_report::install();
        HttpTrace {
            inner,
            settings: Settings {
                trace,
                expect_continue_timeout: DEFAULT_TIMEOUT,
                cleartext_http2: Learned::default(),
                http1_handoffs: Learned::default(),
                record_timings: false,
                per_request: None,
            },
        }
    }

    /// How long a request with `Expect: 100-continue` holds its body back waiting for the
    /// server's answer before sending it anyway (Go's `ExpectContinueTimeout`; 1 s).
    pub fn expect_continue_timeout(mut self, timeout: Duration) -> Self {
        self.settings.expect_continue_timeout = timeout;
        self
    }

    /// Records each request's [`Timings`](httptrace::Timings): the response carries a
    /// [`TimingsRecorder`] in its extensions, complete once the body has ended.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use http_body_util::{BodyExt, Empty};
    /// use httptrace::{ClientTrace, TimingsRecorder};
    ///
    /// let client = httptrace_tower::http_client::<Empty<bytes::Bytes>>(ClientTrace::new())
    ///     .record_timings();
    /// let res = client.request(http::Request::get("http://127.0.0.1:8080/").body(Empty::new())?).await?;
    /// let recorder = res.extensions().get::<TimingsRecorder>().cloned();
    /// res.into_body().collect().await?;
    /// let timings = recorder.unwrap().timings();
    /// println!("first byte after {:?}, total {:?}", timings.starttransfer(), timings.total());
    /// # Ok(()) }
    /// ```
    pub fn record_timings(mut self) -> Self {
        self.settings.record_timings = true;
        self
    }

    /// Calls `make` as each request starts (in the caller's context: its `tracing` span, say)
    /// for a trace of that request's own, composed over this layer's trace.
    /// [`TracingEvents`](crate::TracingEvents) uses it to record each request's hooks in the
    /// span it was sent from.
    pub fn trace_per_request(
        mut self,
        make: impl Fn() -> ClientTrace + Send + Sync + 'static,
    ) -> Self {
        self.settings.per_request = Some(PerRequest(Arc::new(make)));
        self
    }

    pub(crate) fn trace_per_request_shared(mut self, make: PerRequest) -> Self {
        self.settings.per_request = Some(make);
        self
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// This layer's trace.
    pub fn trace(&self) -> &ClientTrace {
        &self.settings.trace
    }
}

/// Prepares `req` for the inner service and, if it is traced, fires `GetConn`; `send` hands
/// it on. Shared by [`Service::call`] and the `request` of a traced client.
pub(crate) fn start<B: http_body::Body, F>(
    settings: &Settings,
    mut req: Request<B>,
    send: impl FnOnce(Request<TracedRequestBody<B>>) -> F,
) -> ResponseFuture<F> {
    let Settings {
        trace: layer_trace,
        expect_continue_timeout: expect_timeout,
        cleartext_http2,
        http1_handoffs,
        record_timings,
        per_request,
    } = settings;
    // A request an outer `HttpTrace` traces is not traced twice (its body says so).
    let (body_ended, traced_outside) = traced_outside(req.body());
    if traced_outside {
        return ResponseFuture::untraced(send(req.map(TracedRequestBody::untraced)));
    }
    // `Expect: 100-continue` with a body to hold back: the layer holds it, traced or not.
    let gate = (!body_ended && expects_continue(req.headers()))
        .then(|| Arc::new(ExpectGate::new(*expect_timeout)));
    let ambient = current_trace();
    let own = extensions_client_trace(req.extensions());
    // Nothing to trace (the layer's trace is empty and nothing else applies): no clone of the
    // layer's trace, whose reference count every request would otherwise bounce between cores,
    // and nothing of the request is looked at.
    let untraced = layer_trace.is_empty()
        && per_request.is_none()
        && ambient.is_none()
        && own.is_none()
        && !*record_timings;
    if untraced && gate.is_none() {
        return ResponseFuture::untraced(send(req.map(TracedRequestBody::untraced)));
    }
    let Some(host_port) = HostPort::of(&req) else {
        return ResponseFuture::untraced(send(req.map(TracedRequestBody::untraced)));
    };
    let mut trace = if untraced {
        ClientTrace::new()
    } else {
        layer_trace.clone()
    };
    if let Some(make) = per_request {
        trace = (make.0)().compose(&trace);
    }
    if let Some(ambient) = ambient {
        trace = ambient.compose(&trace);
    }
    if let Some(own) = own {
        trace = own.compose(&trace);
    }
    // The recorder's hooks run after every other's.
    let timings = record_timings.then(TimingsRecorder::new);
    if let Some(timings) = &timings {
        trace = trace.compose(&timings.trace());
    }
    if trace.is_empty() {
        let Some(gate) = gate else {
            return ResponseFuture::untraced(send(req.map(TracedRequestBody::untraced)));
        };
        let capture = watch_without_replacing(&mut req, None, false, Some(&gate), true)
            .expect("a gated request is watched");
        let req = req.map(|body| TracedRequestBody::new(body, None, Some(gate.clone())));
        return ResponseFuture::gated(send(req), gate, capture);
    }
    let request_close = connection_has(req.headers(), "close");
    // Only a request that may go out as an HTTP/2 stream needs watching for the hand-off, and
    // its head kept for the HEADERS fields: HTTPS (ALPN may pick h2), an HTTP/2 request, or
    // plain HTTP once this layer has seen cleartext HTTP/2. (A plain HTTP request is an
    // HTTP/1 exchange until then: keeping its head would copy its method, URI and fields
    // for nothing.)
    let may_be_http2 = req.version() == Version::HTTP_2
        || req.uri().scheme() == Some(&Scheme::HTTPS)
        || cleartext_http2.seen();
    let h2_head =
        (may_be_http2 && trace.is_set(HookKind::WroteHeaderField)).then(|| H2Head::of(&req));
    let learn = (!may_be_http2).then(|| cleartext_http2.clone());
    // Inside a traced call (`CallTraceLayer`), this request is its next attempt.
    let call = current_call();
    if let Some(call) = &call {
        call.attempt_started(&trace, &req);
    }
    let hooks_1xx =
        trace.is_set(HookKind::Got1xxResponse) || trace.is_set(HookKind::Got100Continue);
    // A request that watches 1xx responses fails past the limit, as one a hook vetoes.
    let may_abort = hooks_1xx;
    // Once the layer has seen its requests handed to traced HTTP/1 connections, those read
    // the 1xx responses off the wire: no hyper callback (two allocations) per request. A
    // gated request keeps the callback, which opens its gate.
    let reads_1xx = hooks_1xx && gate.is_none() && http1_handoffs.seen();
    let on_the_wire = OnTheWire::new(reads_1xx, may_abort, hooks_1xx.then_some(http1_handoffs));
    let state = Arc::new(RequestState::new(
        trace,
        h2_head,
        gate.is_some(),
        timings,
        call,
        on_the_wire,
    ));
    host_port.get_conn(&state.trace);
    // An HTTP/1 request keeps its connection at hand to keep it out of the pool after a 1xx
    // hook's veto (until the layer knows its connections are traced, which close themselves
    // then), or after a withheld `Expect: 100-continue` body.
    let keep = gate.is_some() || (may_abort && !http1_handoffs.seen());
    let capture = may_be_http2 || keep;
    let informational = hooks_1xx && !reads_1xx;
    let capture = watch_without_replacing(
        &mut req,
        Some(&state),
        informational,
        gate.as_ref(),
        capture,
    );
    let req = req.map(|body| TracedRequestBody::new(body, Some(state.clone()), gate.clone()));
    let mut lent = Some(state);
    let fut = RequestState::in_effect(&mut lent, || send(req));
    let state = lent.expect("given back after the call");
    ResponseFuture::traced(fut, state, request_close, gate, capture, learn)
}

impl<S, B, ResBody> Service<Request<B>> for HttpTrace<S>
where
    S: Service<Request<TracedRequestBody<B>>, Response = http::Response<ResBody>>,
    S::Error: std::error::Error + 'static,
    B: http_body::Body,
    ResBody: http_body::Body,
{
    type Response = http::Response<crate::TracedResponseBody<ResBody>>;
    type Error = crate::Error<S::Error>;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(crate::Error::Service)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        start(&self.settings, req, |req| self.inner.call(req))
    }
}

/// Adds what the layer needs to watch the request inside hyper: hyper-util's
/// `capture_connection` (how an HTTP/2 stream learns its connection, and how the layer can
/// keep a connection out of the pool) and, for 1xx hooks not read off the wire (`hooks`) or
/// a gate waiting for `100 Continue`, hyper's informational callback. Neither replaces one the caller added: the caller's extensions are merged over
/// ours, so theirs are kept, and ours then simply never fire (an HTTP/2 stream's hooks then
/// fire when its response arrives; 1xx hooks not at all).
fn watch_without_replacing<B>(
    req: &mut Request<B>,
    state: Option<&Arc<RequestState>>,
    hooks: bool,
    gate: Option<&Arc<ExpectGate>>,
    capture: bool,
) -> Option<CaptureConnection> {
    let informational = hooks || gate.is_some();
    if !capture && !informational {
        return None;
    }
    let mut probe = Request::new(());
    let capture = capture.then(|| capture_connection(&mut probe));
    if informational {
        watch_informational(&mut probe, state, gate);
    }
    let mut merged = std::mem::take(probe.extensions_mut());
    merged.extend(std::mem::take(req.extensions_mut()));
    *req.extensions_mut() = merged;
    capture
}

thread_local! {
    /// Where `GetConn`'s `host:port` is written, reused from one request to the next.
    static HOST_PORT: std::cell::Cell<String> = const { std::cell::Cell::new(String::new()) };
}

/// `GetConn`'s `host:port` (the port defaulted from the scheme), written into a buffer the
/// thread keeps from one request to the next; it is taken out while in use, so a hook that
/// sends a request of its own is safe.
struct HostPort(String);

impl HostPort {
    /// `None` for a request the client will refuse.
    fn of<B>(req: &Request<B>) -> Option<Self> {
        if ![Version::HTTP_10, Version::HTTP_11, Version::HTTP_2].contains(&req.version()) {
            return None;
        }
        let mut buf = HOST_PORT.take();
        buf.clear();
        let written = crate::wire::host_port::write_host_port(&mut buf, req.uri());
        let host_port = HostPort(buf);
        written.map(|()| host_port)
    }

    fn get_conn(&self, trace: &ClientTrace) {
        trace.get_conn(&GetConnInfo::new(&self.0));
    }
}

impl Drop for HostPort {
    fn drop(&mut self) {
        HOST_PORT.set(std::mem::take(&mut self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_conn_text(uri: &str) -> Option<String> {
        let req = Request::get(uri).body(()).unwrap();
        HostPort::of(&req).map(|h| h.0.clone())
    }

    #[test]
    fn get_conn_names_host_and_port_whatever_the_authority_looks_like() {
        for (uri, expected) in [
            ("http://127.0.0.1:8080/x", Some("127.0.0.1:8080")),
            ("http://example.com/", Some("example.com:80")),
            ("https://example.com/", Some("example.com:443")),
            ("https://Example.COM:8443", Some("Example.COM:8443")),
            ("http://[::1]:8080/", Some("[::1]:8080")),
            ("https://[::1]/", Some("[::1]:443")),
            ("http://user:pw@example.com:81/", Some("example.com:81")),
            ("http://user@example.com/", Some("example.com:80")),
            ("ftp://example.com/", None),
            ("/relative", None),
        ] {
            assert_eq!(get_conn_text(uri).as_deref(), expected, "{uri}");
        }
    }
}
