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

use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context as TaskContext, Poll};
use std::time::Instant;

use http::{Request, Response};
use httptrace::{client_trace, with_client_trace, ClientTrace, CloseReason};
use opentelemetry::global::BoxedTracer;
use opentelemetry::metrics::{Histogram, Meter, UpDownCounter};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

/// Turns each request's hooks into spans and metrics; see the module docs.
///
/// ```
/// use httptrace_tower::{HttpTraceLayer, OtelLayer};
/// use opentelemetry::global;
///
/// let otel = OtelLayer::new(global::tracer("httptrace"), &global::meter("httptrace"));
/// let layers = tower::ServiceBuilder::new().layer(otel).layer(HttpTraceLayer::default());
/// # let _ = layers;
/// ```
#[derive(Clone)]
pub struct OtelLayer {
    shared: Arc<Shared>,
    /// `url.full` keeps its signed query values.
    reveal_secrets: bool,
}

struct Shared {
    tracer: BoxedTracer,
    request_duration: Histogram<f64>,
    connection_duration: Histogram<f64>,
    open_connections: UpDownCounter<i64>,
    dns_duration: Histogram<f64>,
}

impl std::fmt::Debug for OtelLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtelLayer")
    }
}

impl OtelLayer {
    /// Spans from `tracer` (`opentelemetry::global::tracer(..)`, or any tracer boxed with
    /// `BoxedTracer::new`), metrics from `meter`.
    pub fn new(tracer: BoxedTracer, meter: &Meter) -> Self {
        let seconds = |name: &'static str, about: &'static str| {
            meter
                .f64_histogram(name)
                .with_unit("s")
                .with_description(about)
                .build()
        };
        OtelLayer {
            shared: Arc::new(Shared {
                tracer,
                request_duration: seconds(
                    "http.client.request.duration",
                    "Duration of HTTP client requests, to the end of the response body.",
                ),
                connection_duration: seconds(
                    "http.client.connection.duration",
                    "The duration of the successfully established outbound HTTP connections.",
                ),
                open_connections: meter
                    .i64_up_down_counter("http.client.open_connections")
                    .with_unit("{connection}")
                    .with_description("Number of outbound HTTP connections that are open.")
                    .build(),
                dns_duration: seconds(
                    "dns.lookup.duration",
                    "Measures the time taken to perform a DNS lookup.",
                ),
            }),
            reveal_secrets: false,
        }
    }
}

impl OtelLayer {
    /// Records `url.full` with the values of its signed query parameters as they are
    /// (`X-Amz-Signature`, `sig`, ...; [`httptrace::SIGNED_QUERY_PARAMETERS`]). Its userinfo
    /// stays `REDACTED:REDACTED`, as the conventions require. Only for a setup whose traces
    /// nobody else reads.
    pub fn reveal_secrets(mut self) -> Self {
        self.reveal_secrets = true;
        self
    }
}

impl<S> Layer<S> for OtelLayer {
    type Service = OtelService<S>;

    fn layer(&self, inner: S) -> OtelService<S> {
        OtelService {
            inner,
            shared: self.shared.clone(),
            reveal_secrets: self.reveal_secrets,
        }
    }
}

/// The service of [`OtelLayer`].
#[derive(Clone)]
pub struct OtelService<S> {
    inner: S,
    shared: Arc<Shared>,
    reveal_secrets: bool,
}

impl<S> std::fmt::Debug for OtelService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtelService")
    }
}

impl<S, B, ResB> Service<Request<B>> for OtelService<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Display,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = OtelFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let spans = RequestSpans::start(self.shared.clone(), &req, self.reveal_secrets);
        let mut trace = spans.trace();
        if let Some(own) = client_trace(&req) {
            trace = own.compose(&trace);
        }
        with_client_trace(&mut req, trace);
        OtelFuture {
            inner: self.inner.call(req),
            spans: Unanswered(Some(spans)),
        }
    }
}

pin_project! {
    /// The future of [`OtelService`].
    pub struct OtelFuture<F> {
        #[pin]
        inner: F,
        spans: Unanswered,
    }
}

/// The request's spans until its response (or error) arrives; dropped before that, the
/// request was cancelled, and its open spans end with that error.
struct Unanswered(Option<Arc<RequestSpans>>);

impl Drop for Unanswered {
    fn drop(&mut self) {
        if let Some(spans) = self.0.take() {
            spans.failed("the request was dropped before its response");
        }
    }
}

impl<F> std::fmt::Debug for OtelFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtelFuture")
    }
}

impl<F, ResB, E> Future for OtelFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    E: Display,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Some(spans) = this.spans.0.take() {
            match &result {
                Ok(res) => spans.responded(res),
                Err(err) => spans.failed(&err.to_string()),
            }
        }
        Poll::Ready(result)
    }
}

/// One request's spans, as the hooks open and close them.
struct RequestSpans {
    shared: Arc<Shared>,
    started: Instant,
    /// The request span's context (the parent of the phases).
    request: Context,
    /// `http.request.method`, `server.address`, `server.port`: the metrics' attributes.
    common: Vec<KeyValue>,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    getconn: Option<Context>,
    dns: Option<(Context, Instant)>,
    connect: Vec<(SocketAddr, Context)>,
    tls: Option<Context>,
    send: Option<Context>,
    receive: Option<Context>,
    protocol: Option<&'static str>,
    status: Option<u16>,
    ended: bool,
}

fn protocol_version(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_10 => "1.0",
        http::Version::HTTP_2 => "2",
        http::Version::HTTP_3 => "3",
        _ => "1.1",
    }
}

/// `url.full`: never with credentials (the conventions' `REDACTED:REDACTED`), and with the
/// values of signed query parameters redacted unless revealed.
fn url_full(uri: &http::Uri, reveal_signatures: bool) -> String {
    let full = uri.to_string();
    if reveal_signatures {
        return match uri.authority() {
            Some(authority) if authority.as_str().contains('@') => {
                let shown = httptrace::redact_authority(authority.as_str());
                full.replacen(authority.as_str(), &shown, 1)
            }
            _ => full,
        };
    }
    httptrace::redact_url(&full).into_owned()
}

fn fail(cx: &Context, message: String) {
    let span = cx.span();
    span.set_attribute(KeyValue::new("error.type", "_OTHER"));
    span.set_status(Status::error(message));
}

impl RequestSpans {
    fn start<B>(shared: Arc<Shared>, req: &Request<B>, reveal_secrets: bool) -> Arc<Self> {
        let uri = req.uri();
        let host = uri.host().unwrap_or_default().to_owned();
        let port = uri
            .port_u16()
            .unwrap_or(if uri.scheme_str() == Some("https") {
                443
            } else {
                80
            });
        let common = vec![
            KeyValue::new("http.request.method", req.method().as_str().to_owned()),
            KeyValue::new("server.address", host),
            KeyValue::new("server.port", i64::from(port)),
        ];
        let mut attributes = common.clone();
        attributes.push(KeyValue::new("url.full", url_full(uri, reveal_secrets)));
        let parent = Context::current();
        let span = shared
            .tracer
            .span_builder(req.method().as_str().to_owned())
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(&shared.tracer, &parent);
        Arc::new(RequestSpans {
            shared,
            started: Instant::now(),
            request: parent.with_span(span),
            common,
            open: Mutex::new(Open::default()),
        })
    }

    fn open(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A child span of `parent` named `name`.
    fn child(&self, parent: &Context, name: &'static str, attributes: Vec<KeyValue>) -> Context {
        let span = self
            .shared
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .with_attributes(attributes)
            .start_with_context(&self.shared.tracer, parent);
        parent.with_span(span)
    }

    /// A phase of getting a connection (DNS, a connect attempt, TLS): a child of the open
    /// `http.getconn` span, or of the request span if there is none (a dial that finishes in
    /// the background after the request got another connection).
    fn dial_phase(&self, open: &Open, name: &'static str, attributes: Vec<KeyValue>) -> Context {
        let parent = open.getconn.as_ref().unwrap_or(&self.request);
        self.child(parent, name, attributes)
    }

    /// The response head arrived.
    fn responded<B>(&self, res: &Response<B>) {
        let mut open = self.open();
        open.status = Some(res.status().as_u16());
        open.protocol = Some(protocol_version(res.version()));
        let span = self.request.span();
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(res.status().as_u16()),
        ));
        span.set_attribute(KeyValue::new(
            "network.protocol.version",
            protocol_version(res.version()),
        ));
        if res.status().is_client_error() || res.status().is_server_error() {
            span.set_attribute(KeyValue::new(
                "error.type",
                res.status().as_str().to_owned(),
            ));
            span.set_status(Status::error(""));
        }
    }

    /// The request failed: every open span ends with `message`.
    fn failed(&self, message: &str) {
        let mut open = self.open();
        let phases = [
            open.dns.take().map(|(cx, _)| cx),
            open.tls.take(),
            open.getconn.take(),
            open.send.take(),
            open.receive.take(),
        ];
        let attempts = std::mem::take(&mut open.connect)
            .into_iter()
            .map(|(_, cx)| cx);
        for cx in phases.into_iter().flatten().chain(attempts) {
            fail(&cx, message.to_owned());
            cx.span().end();
        }
        fail(&self.request, message.to_owned());
        self.finish(&mut open, Some("_OTHER"));
    }

    /// Ends the request span and records its duration, once.
    fn finish(&self, open: &mut Open, error: Option<&'static str>) {
        if std::mem::replace(&mut open.ended, true) {
            return;
        }
        self.request.span().end();
        let mut attributes = self.common.clone();
        if let Some(status) = open.status {
            attributes.push(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
        }
        if let Some(protocol) = open.protocol {
            attributes.push(KeyValue::new("network.protocol.version", protocol));
        }
        if let Some(error) = error {
            attributes.push(KeyValue::new("error.type", error));
        }
        self.shared
            .request_duration
            .record(self.started.elapsed().as_secs_f64(), &attributes);
    }

    fn trace(self: &Arc<Self>) -> ClientTrace {
        let s = || self.clone();
        let (a, b, c, d, e, f, g) = (s(), s(), s(), s(), s(), s(), s());
        let (h, i, j, k, l) = (s(), s(), s(), s(), s());
        // The connection keeps its `ConnClosed` hook after the request: it holds the metrics
        // and the server's attributes, not the request's spans.
        let closing = ConnectionMetrics {
            shared: self.shared.clone(),
            server: self.common[1..].to_vec(),
        };
        ClientTrace::new()
            .on_get_conn(move |_| {
                let cx = a.child(&a.request, "http.getconn", Vec::new());
                a.open().getconn = Some(cx);
            })
            .on_dns_start(move |info| {
                let mut open = b.open();
                let cx = b.dial_phase(
                    &open,
                    "http.dns",
                    vec![KeyValue::new("dns.question.name", info.host.clone())],
                );
                open.dns = Some((cx, Instant::now()));
            })
            .on_dns_done(move |info| {
                let Some((cx, started)) = c.open().dns.take() else {
                    return;
                };
                let answers: Vec<String> = info.addrs.iter().map(ToString::to_string).collect();
                cx.span()
                    .set_attribute(KeyValue::new("dns.answers", answers.join(",")));
                let mut attributes = vec![KeyValue::new(
                    "dns.question.name",
                    c.common[1].value.as_str().into_owned(),
                )];
                if let Some(err) = &info.err {
                    fail(&cx, err.to_string());
                    attributes.push(KeyValue::new("error.type", "_OTHER"));
                }
                cx.span().end();
                c.shared
                    .dns_duration
                    .record(started.elapsed().as_secs_f64(), &attributes);
            })
            .on_connect_start(move |info| {
                let mut open = d.open();
                let cx = d.dial_phase(
                    &open,
                    "http.connect",
                    vec![
                        KeyValue::new("network.peer.address", info.addr.ip().to_string()),
                        KeyValue::new("network.peer.port", i64::from(info.addr.port())),
                        KeyValue::new("network.transport", info.network),
                    ],
                );
                open.connect.push((info.addr, cx));
            })
            .on_connect_done(move |info| {
                let mut open = e.open();
                let Some(at) = open.connect.iter().position(|(addr, _)| *addr == info.addr) else {
                    return;
                };
                let (_, cx) = open.connect.remove(at);
                if let Some(err) = &info.err {
                    fail(&cx, err.to_string());
                }
                cx.span().end();
            })
            .on_tls_handshake_start(move || {
                let mut open = f.open();
                open.tls = Some(f.dial_phase(&open, "http.tls", Vec::new()));
            })
            .on_tls_handshake_done(move |info| {
                let Some(cx) = g.open().tls.take() else {
                    return;
                };
                let state = &info.state;
                let span = cx.span();
                if let Some(version) = &state.version {
                    let version = version.trim_start_matches("TLSv").to_owned();
                    span.set_attribute(KeyValue::new("tls.protocol.version", version));
                }
                if let Some(cipher) = &state.cipher_suite {
                    span.set_attribute(KeyValue::new("tls.cipher", cipher.clone()));
                }
                if let Some(name) = &state.server_name {
                    span.set_attribute(KeyValue::new("tls.server.name", name.clone()));
                }
                span.set_attribute(KeyValue::new("tls.resumed", state.resumed));
                if let Some(err) = &info.err {
                    fail(&cx, err.to_string());
                }
                span.end();
            })
            .on_got_conn(move |info| {
                let mut open = h.open();
                if let Some(cx) = open.getconn.take() {
                    let span = cx.span();
                    span.set_attribute(KeyValue::new("http.conn.reused", info.reused));
                    span.set_attribute(KeyValue::new("http.conn.was_idle", info.was_idle));
                    span.set_attribute(KeyValue::new(
                        "http.conn.idle_time_ms",
                        info.idle_time.as_secs_f64() * 1000.0,
                    ));
                    if let Some(peer) = info.conn.remote_addr {
                        span.set_attribute(KeyValue::new(
                            "network.peer.address",
                            peer.ip().to_string(),
                        ));
                        span.set_attribute(KeyValue::new(
                            "network.peer.port",
                            i64::from(peer.port()),
                        ));
                    }
                    span.end();
                }
                if !info.reused {
                    h.shared.open_connections.add(1, &h.common[1..]);
                }
                open.send = Some(h.child(&h.request, "http.send", Vec::new()));
            })
            .on_request_body_done(move |info| {
                if let Some(cx) = &i.open().send {
                    cx.span()
                        .set_attribute(KeyValue::new("http.request.body.size", info.bytes as i64));
                }
            })
            .on_wrote_request(move |info| {
                let Some(cx) = j.open().send.take() else {
                    return;
                };
                if let Some(err) = &info.err {
                    fail(&cx, err.to_string());
                }
                cx.span().end();
            })
            .on_got_first_response_byte(move || {
                let mut open = k.open();
                open.receive = Some(k.child(&k.request, "http.receive", Vec::new()));
            })
            .on_response_body_done(move |info| {
                let mut open = l.open();
                if let Some(cx) = open.receive.take() {
                    cx.span()
                        .set_attribute(KeyValue::new("http.response.body.size", info.bytes as i64));
                    if let Some(err) = &info.err {
                        fail(&cx, err.to_string());
                    }
                    cx.span().end();
                }
                let error = info.err.as_ref().map(|_| "_OTHER");
                l.finish(&mut open, error);
            })
            .on_conn_closed(move |info| closing.closed(info))
    }
}

/// What a connection's close records: its duration and one open connection fewer.
struct ConnectionMetrics {
    shared: Arc<Shared>,
    /// `server.address`, `server.port`.
    server: Vec<KeyValue>,
}

impl ConnectionMetrics {
    fn closed(&self, info: &httptrace::ConnClosedInfo) {
        let mut attributes = self.server.clone();
        if let Some(peer) = info.conn.remote_addr {
            attributes.push(KeyValue::new("network.peer.address", peer.ip().to_string()));
        }
        if let CloseReason::Error(_) = info.reason {
            attributes.push(KeyValue::new("error.type", "_OTHER"));
        }
        self.shared
            .connection_duration
            .record(info.lifetime.as_secs_f64(), &attributes);
        if info.requests_served > 0 {
            self.shared.open_connections.add(-1, &self.server);
        }
    }
}
