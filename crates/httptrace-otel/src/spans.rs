//! One request's spans and its share of the metrics: the request span, its phases as the
//! hooks open and close them, and `http.client.request.duration` at its end.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use http::{Request, Response};
use httptrace::ConnectionId;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_REQUEST_METHOD_ORIGINAL, HTTP_RESPONSE_STATUS_CODE,
    NETWORK_PROTOCOL_VERSION, SERVER_ADDRESS, SERVER_PORT, URL_FULL, URL_SCHEME,
};

use super::layer::Shared;
use super::methods::KnownMethods;
use super::opt_in::OptIn;

/// One request's spans, as the hooks open and close them.
pub(super) struct RequestSpans {
    pub(super) shared: Arc<Shared>,
    started: Instant,
    /// The request span's context (the parent of the phases).
    pub(super) request: Context,
    /// `http.request.method`, `server.address`, `server.port`: the metrics' attributes.
    pub(super) common: Vec<KeyValue>,
    /// `http.client.active_requests`' attributes: the common ones and `url.scheme`; the
    /// request counts there until it ends.
    active: Vec<KeyValue>,
    /// The opt-in attributes recorded (the response's headers among them).
    opt_in: OptIn,
    open: Mutex<Open>,
}

/// The phases open now, and what the request learned so far.
#[derive(Default)]
pub(super) struct Open {
    pub(super) getconn: Option<Context>,
    pub(super) dns: Option<(Context, Instant)>,
    pub(super) connect: Vec<(SocketAddr, Context)>,
    pub(super) tls: Option<Context>,
    pub(super) send: Option<Context>,
    pub(super) receive: Option<Context>,
    /// The connection the request went over, once it had one.
    pub(super) conn: Option<ConnectionId>,
    /// Why getting the connection last failed (a lookup, an attempt, a handshake).
    pub(super) dial_error: Option<&'static str>,
    protocol: Option<&'static str>,
    pub(super) status: Option<u16>,
    /// A body with nothing in it ended before the response reached this layer: the
    /// request ends once the response's head is recorded.
    pub(super) ended_unanswered: bool,
    ended: bool,
    /// The bodies' sizes, once their ends were reported.
    pub(super) request_bytes: Option<u64>,
    pub(super) response_bytes: Option<u64>,
}

/// `network.protocol.version` of `version`.
fn protocol_version(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "0.9",
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

/// Ends `cx`'s span as failed: `error.type` and the message as its status.
pub(super) fn fail(cx: &Context, error_type: &'static str, message: String) {
    let span = cx.span();
    span.set_attribute(KeyValue::new(ERROR_TYPE, error_type));
    span.set_status(Status::error(message));
}

impl RequestSpans {
    pub(super) fn start<B>(
        shared: Arc<Shared>,
        req: &Request<B>,
        reveal_secrets: bool,
        known: &KnownMethods,
        opt_in: &OptIn,
    ) -> Arc<Self> {
        let uri = req.uri();
        let host = uri.host().unwrap_or_default();
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let default_port = if uri.scheme_str() == Some("https") {
            443
        } else {
            80
        };
        let port = uri.port_u16().unwrap_or(default_port);
        let method = known.name(req.method());
        let common = vec![
            KeyValue::new(
                HTTP_REQUEST_METHOD,
                method.clone().unwrap_or(Cow::Borrowed("_OTHER")),
            ),
            KeyValue::new(SERVER_ADDRESS, host),
            KeyValue::new(SERVER_PORT, i64::from(port)),
        ];
        let mut attributes = common.clone();
        attributes.push(KeyValue::new(URL_FULL, url_full(uri, reveal_secrets)));
        attributes.extend(opt_in.of_request(req));
        let mut active = common.clone();
        active.push(KeyValue::new(
            URL_SCHEME,
            uri.scheme_str().unwrap_or("http").to_owned(),
        ));
        shared.active_requests.add(1, &active);
        if method.is_none() {
            let original = req.method().as_str().to_owned();
            attributes.push(KeyValue::new(HTTP_REQUEST_METHOD_ORIGINAL, original));
        }
        let parent = Context::current();
        let span = shared
            .tracer
            .span_builder(method.unwrap_or(Cow::Borrowed("HTTP")))
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start_with_context(&shared.tracer, &parent);
        Arc::new(RequestSpans {
            shared,
            started: Instant::now(),
            request: parent.with_span(span),
            common,
            active,
            opt_in: opt_in.clone(),
            open: Mutex::new(Open::default()),
        })
    }

    /// The request span's context: what goes out in the request's headers.
    pub(super) fn context(&self) -> &Context {
        &self.request
    }

    pub(super) fn open(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Why getting the connection failed, if it did.
    pub(super) fn dial_error(&self) -> Option<&'static str> {
        self.open().dial_error
    }

    /// A child span of `parent` named `name`.
    pub(super) fn child(
        &self,
        parent: &Context,
        name: &'static str,
        attributes: Vec<KeyValue>,
    ) -> Context {
        let span = self
            .shared
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Internal)
            .with_attributes(attributes)
            .start_with_context(&self.shared.tracer, parent);
        parent.with_span(span)
    }

    /// The response head arrived.
    pub(super) fn responded<B>(&self, res: &Response<B>) {
        let mut open = self.open();
        let status = res.status();
        let protocol = protocol_version(res.version());
        open.status = Some(status.as_u16());
        open.protocol = Some(protocol);
        if let Some(conn) = open.conn {
            self.shared.pool.protocol(conn, protocol);
        }
        let span = self.request.span();
        span.set_attribute(KeyValue::new(
            HTTP_RESPONSE_STATUS_CODE,
            i64::from(status.as_u16()),
        ));
        span.set_attribute(KeyValue::new(NETWORK_PROTOCOL_VERSION, protocol));
        for header in self.opt_in.of_response(res.headers()) {
            span.set_attribute(header);
        }
        if status.is_client_error() || status.is_server_error() {
            // The conventions: the status code as `error.type`, no status description.
            span.set_attribute(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
            span.set_status(Status::error(""));
        }
        if open.ended_unanswered {
            self.finish(&mut open, None);
        }
    }

    /// The request failed (`error_type` says how): every open span ends with `message`.
    pub(super) fn failed(&self, message: &str, error_type: &'static str) {
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
            fail(&cx, error_type, message.to_owned());
            cx.span().end();
        }
        fail(&self.request, error_type, message.to_owned());
        self.finish(&mut open, Some(error_type));
    }

    /// Ends the request span and records its duration, once; the request's connection has
    /// one request fewer in flight.
    pub(super) fn finish(&self, open: &mut Open, error: Option<&'static str>) {
        if std::mem::replace(&mut open.ended, true) {
            return;
        }
        self.request.span().end();
        self.shared.active_requests.add(-1, &self.active);
        if let Some(conn) = open.conn {
            self.shared
                .pool
                .request_ended(&self.shared.pool_instruments(), conn);
        }
        let mut attributes = self.common.clone();
        if let Some(status) = open.status {
            attributes.push(KeyValue::new(HTTP_RESPONSE_STATUS_CODE, i64::from(status)));
        }
        if let Some(protocol) = open.protocol {
            attributes.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, protocol));
        }
        let status_error = open
            .status
            .filter(|s| *s >= 400)
            .and_then(|s| http::StatusCode::from_u16(s).ok());
        match (error, status_error) {
            (Some(error), _) => attributes.push(KeyValue::new(ERROR_TYPE, error)),
            (None, Some(status)) => {
                attributes.push(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
            }
            (None, None) => {}
        }
        self.shared
            .request_duration
            .record(self.started.elapsed().as_secs_f64(), &attributes);
        if let Some(bytes) = open.request_bytes {
            self.shared.request_body_size.record(bytes, &attributes);
        }
        if let Some(bytes) = open.response_bytes {
            self.shared.response_body_size.record(bytes, &attributes);
        }
    }
}
