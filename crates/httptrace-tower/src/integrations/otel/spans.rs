//! One request's spans and its share of the metrics, as the hooks open and close them.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::{Request, Response};
use httptrace::{ClientTrace, CloseReason};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};

use super::layer::Shared;

/// One request's spans, as the hooks open and close them.
pub(super) struct RequestSpans {
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
    pub(super) fn start<B>(
        shared: Arc<Shared>,
        req: &Request<B>,
        reveal_secrets: bool,
    ) -> Arc<Self> {
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
    pub(super) fn responded<B>(&self, res: &Response<B>) {
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
    pub(super) fn failed(&self, message: &str) {
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

    pub(super) fn trace(self: &Arc<Self>) -> ClientTrace {
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
