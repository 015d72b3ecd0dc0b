//! The trace an [`Otel`](super::Otel) service adds to each request: each hook opens or
//! closes one of the request's phase spans, or sets an attribute.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use httptrace::ClientTrace;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{KeyValue, StringValue, Value};
use opentelemetry_semantic_conventions::attribute::{
    DNS_ANSWERS, DNS_QUESTION_NAME, ERROR_TYPE, HTTP_REQUEST_BODY_SIZE, HTTP_REQUEST_RESEND_COUNT,
    HTTP_RESPONSE_BODY_SIZE, NETWORK_PEER_ADDRESS, NETWORK_PEER_PORT, NETWORK_TRANSPORT,
    NETWORK_TYPE, SERVER_ADDRESS, TLS_CIPHER, TLS_ESTABLISHED, TLS_NEXT_PROTOCOL,
    TLS_PROTOCOL_NAME, TLS_PROTOCOL_VERSION, TLS_RESUMED,
};

use super::error_type;
use super::layer::Shared;
use super::spans::{fail, Open, RequestSpans};

/// `network.peer.address`, `network.peer.port` of `addr`.
fn peer(addr: SocketAddr) -> [KeyValue; 2] {
    [
        KeyValue::new(NETWORK_PEER_ADDRESS, addr.ip().to_string()),
        KeyValue::new(NETWORK_PEER_PORT, i64::from(addr.port())),
    ]
}

/// What a connection keeps after the request that dialled it: its `ConnClosed` hook, which
/// holds the layer's instruments and the server's attributes, nothing of the request.
struct Closing {
    shared: Arc<Shared>,
    /// `server.address`, `server.port`.
    server: Vec<KeyValue>,
}

impl Closing {
    fn closed(&self, info: &httptrace::ConnClosedInfo) {
        let to = self.shared.pool_instruments();
        self.shared.pool.closed(&to, info, &self.server);
    }
}

impl RequestSpans {
    /// A phase of getting a connection (DNS, a connect attempt, TLS): a child of the open
    /// `http.getconn` span, or of the request span if there is none (a dial that finishes in
    /// the background after the request got another connection).
    fn dial_phase(
        &self,
        open: &Open,
        name: &'static str,
        attributes: Vec<KeyValue>,
    ) -> opentelemetry::Context {
        let parent = open.getconn.as_ref().unwrap_or(&self.request);
        self.child(parent, name, attributes)
    }

    pub(super) fn trace(self: &Arc<Self>) -> ClientTrace {
        let s = || self.clone();
        let (a, b, c, d, e, f, g) = (s(), s(), s(), s(), s(), s(), s());
        let (h, i, j, k, l, m) = (s(), s(), s(), s(), s(), s());
        let (n, o) = (s(), s());
        let closing = Closing {
            shared: self.shared.clone(),
            server: self.common[1..].to_vec(),
        };
        ClientTrace::new()
            .on_attempt_start(move |info| {
                // Each attempt of a call (behind `CallTraceLayer`) has its own request span;
                // the second is the first resend.
                if info.attempt > 1 {
                    let resends = i64::from(info.attempt - 1);
                    m.request
                        .span()
                        .set_attribute(KeyValue::new(HTTP_REQUEST_RESEND_COUNT, resends));
                }
            })
            .on_get_conn(move |_| {
                let cx = a.child(&a.request, "http.getconn", Vec::new());
                a.open().getconn = Some(cx);
            })
            .on_dns_start(move |info| {
                let mut open = b.open();
                let name = KeyValue::new(DNS_QUESTION_NAME, info.host.clone());
                let cx = b.dial_phase(&open, "http.dns", vec![name]);
                open.dns = Some((cx, Instant::now()));
            })
            .on_dns_done(move |info| {
                let mut open = c.open();
                let Some((cx, started)) = open.dns.take() else {
                    return;
                };
                let answers: Vec<StringValue> =
                    info.addrs.iter().map(|a| a.to_string().into()).collect();
                cx.span()
                    .set_attribute(KeyValue::new(DNS_ANSWERS, Value::Array(answers.into())));
                let name = c.common[1].value.as_str().into_owned();
                let mut attributes = vec![KeyValue::new(DNS_QUESTION_NAME, name)];
                if let Some(err) = &info.err {
                    let why = error_type::of_lookup(err);
                    fail(&cx, why, err.to_string());
                    attributes.push(KeyValue::new(ERROR_TYPE, why));
                    open.dial_error = Some(error_type::NAME_RESOLUTION);
                }
                cx.span().end();
                c.shared
                    .dns_duration
                    .record(started.elapsed().as_secs_f64(), &attributes);
            })
            .on_connect_start(move |info| {
                let mut open = d.open();
                let family = if info.addr.is_ipv4() { "ipv4" } else { "ipv6" };
                let mut attributes = peer(info.addr).to_vec();
                attributes.push(KeyValue::new(NETWORK_TRANSPORT, "tcp"));
                attributes.push(KeyValue::new(NETWORK_TYPE, family));
                let cx = d.dial_phase(&open, "http.connect", attributes);
                open.connect.push((info.addr, cx));
            })
            .on_connect_done(move |info| {
                let mut open = e.open();
                let Some(at) = open.connect.iter().position(|(addr, _)| *addr == info.addr) else {
                    return;
                };
                let (_, cx) = open.connect.remove(at);
                if let Some(err) = &info.err {
                    let why = error_type::of_connect(err);
                    fail(&cx, why, err.to_string());
                    open.dial_error = Some(why);
                }
                cx.span().end();
            })
            .on_tls_handshake_start(move || {
                let mut open = f.open();
                open.tls = Some(f.dial_phase(&open, "http.tls", Vec::new()));
            })
            .on_tls_handshake_done(move |info| {
                let mut open = g.open();
                let Some(cx) = open.tls.take() else {
                    return;
                };
                let state = &info.state;
                let span = cx.span();
                span.set_attribute(KeyValue::new(TLS_PROTOCOL_NAME, "tls"));
                if let Some(version) = &state.version {
                    let version = version.trim_start_matches("TLSv").to_owned();
                    span.set_attribute(KeyValue::new(TLS_PROTOCOL_VERSION, version));
                }
                if let Some(cipher) = &state.cipher_suite {
                    span.set_attribute(KeyValue::new(TLS_CIPHER, cipher.clone()));
                }
                if let Some(alpn) = &state.alpn_protocol {
                    let alpn = String::from_utf8_lossy(alpn).into_owned();
                    span.set_attribute(KeyValue::new(TLS_NEXT_PROTOCOL, alpn));
                }
                if let Some(name) = &state.server_name {
                    span.set_attribute(KeyValue::new(SERVER_ADDRESS, name.clone()));
                }
                span.set_attribute(KeyValue::new(TLS_RESUMED, state.resumed));
                span.set_attribute(KeyValue::new(TLS_ESTABLISHED, info.err.is_none()));
                if let Some(err) = &info.err {
                    let why = error_type::of_tls(err);
                    fail(&cx, why, err.to_string());
                    open.dial_error = Some(why);
                }
                span.end();
            })
            .on_got_conn(move |info| {
                let mut open = h.open();
                let peer = info.conn.remote_addr.map(peer);
                if let Some(cx) = open.getconn.take() {
                    // Go's names (otelhttptrace): the conventions have none for these.
                    let span = cx.span();
                    span.set_attribute(KeyValue::new("httptrace.conn.reused", info.reused));
                    span.set_attribute(KeyValue::new("httptrace.conn.was_idle", info.was_idle));
                    span.set_attribute(KeyValue::new(
                        "httptrace.conn.idle_time_ms",
                        info.idle_time.as_secs_f64() * 1000.0,
                    ));
                    for kv in peer.iter().flatten() {
                        span.set_attribute(kv.clone());
                    }
                    span.end();
                }
                for kv in peer.into_iter().flatten() {
                    h.request.span().set_attribute(kv);
                }
                open.dial_error = None;
                // A request that failed over and got another connection counts once.
                if open.conn.replace(info.conn.id).is_none() {
                    h.shared.pool.request_started(
                        &h.shared.pool_instruments(),
                        info.conn.id,
                        &h.common[1..],
                    );
                }
                open.send = Some(h.child(&h.request, "http.send", Vec::new()));
            })
            .on_request_body_done(move |info| {
                let size = KeyValue::new(HTTP_REQUEST_BODY_SIZE, info.bytes as i64);
                let mut open = i.open();
                open.request_bytes = Some(info.bytes);
                if let Some(cx) = &open.send {
                    cx.span().set_attribute(size.clone());
                }
                i.request.span().set_attribute(size);
            })
            .on_wrote_request(move |info| {
                let Some(cx) = j.open().send.take() else {
                    return;
                };
                if let Some(err) = &info.err {
                    fail(&cx, error_type::PROTOCOL, err.to_string());
                }
                cx.span().end();
            })
            .on_got_first_response_byte(move || {
                let mut open = k.open();
                open.receive = Some(k.child(&k.request, "http.receive", Vec::new()));
            })
            .on_response_body_done(move |info| {
                let mut open = l.open();
                open.response_bytes = Some(info.bytes);
                let size = KeyValue::new(HTTP_RESPONSE_BODY_SIZE, info.bytes as i64);
                l.request.span().set_attribute(size.clone());
                let error = info.err.as_ref().map(|_| error_type::RESPONSE_ENDED);
                if let Some(cx) = open.receive.take() {
                    cx.span().set_attribute(size);
                    if let (Some(err), Some(why)) = (&info.err, error) {
                        fail(&cx, why, err.to_string());
                    }
                    cx.span().end();
                }
                if let (Some(err), Some(why)) = (&info.err, error) {
                    fail(&l.request, why, err.to_string());
                }
                if open.status.is_none() && error.is_none() {
                    // No body (a 302, a 204): it ended before the response reached the
                    // layer, which records the head, then ends the request.
                    open.ended_unanswered = true;
                    return;
                }
                l.finish(&mut open, error);
            })
            .on_conn_closed(move |info| closing.closed(info))
            // The conventions name nothing of HTTP/2's streams: events of ours on the spans.
            .on_http2_stream_opened(move |info| {
                let attributes = vec![
                    KeyValue::new("http2.stream.waited_ms", info.waited.as_secs_f64() * 1000.0),
                    KeyValue::new(
                        "http2.max_concurrent_streams",
                        info.max_concurrent_streams.map_or(-1, i64::from),
                    ),
                ];
                let open = n.open();
                let span = open.send.as_ref().unwrap_or(&n.request);
                span.span().add_event("http2.stream.opened", attributes);
            })
            .on_http2_stream_reset(move |info| {
                let attributes = vec![
                    KeyValue::new("http2.error_code", info.code.to_string()),
                    KeyValue::new("http2.frame", info.frame.as_str()),
                    KeyValue::new("http2.sender", info.sender.as_str()),
                ];
                o.request.span().add_event("http2.stream.reset", attributes);
            })
    }
}
