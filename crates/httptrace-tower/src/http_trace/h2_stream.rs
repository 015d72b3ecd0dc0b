//! The hooks of a request sent as an HTTP/2 stream.
//!
//! An HTTP/2 connection carries many requests at once, and hyper writes them from a task that
//! never touches the socket, so the HTTP/1 hand-off (`handoff.rs`) cannot apply. Instead the
//! layer learns the stream's connection from hyper-util's `capture_connection`, which hyper-util
//! fills in just before handing the request to the connection; the request's future returns
//! `Pending` right after (ARCHITECTURE.md, "HTTP/2"). There the layer fires `GotConn`, the
//! header fields as hyper will send them, and `WroteHeaders`; `WroteRequest` follows when the
//! body ends; `GotFirstResponseByte` when the response head arrives.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use http::{header, HeaderMap, HeaderValue, Method, Request, Uri};
use httptrace::{GotConnInfo, WroteHeaderFieldInfo, WroteRequestInfo};

use crate::connect::ConnectionHandle;
use crate::state::request::{Once, RequestState};

/// What hyper will put in the stream's HEADERS frame, kept from the request when a
/// `WroteHeaderField` hook wants it (the request itself is gone by the time the stream opens).
pub(crate) struct H2Head {
    method: Method,
    uri: Uri,
    /// The regular fields as hyper will send them (see [`H2Head::of`]).
    headers: HeaderMap,
}

impl H2Head {
    /// Keeps `req`'s head with hyper's HTTP/2 changes already made: the connection-specific
    /// fields stripped, `content-length` added where hyper adds it.
    pub(crate) fn of<B: http_body::Body>(req: &Request<B>) -> Self {
        let method = req.method().clone();
        let mut headers = req.headers().clone();
        strip_connection_headers(&mut headers);
        if let Some(len) = req.body().size_hint().exact() {
            let defined_payload = !matches!(
                method,
                Method::GET | Method::HEAD | Method::DELETE | Method::CONNECT
            );
            if len != 0 || defined_payload {
                headers
                    .entry(header::CONTENT_LENGTH)
                    .or_insert_with(|| HeaderValue::from(len));
            }
        }
        H2Head {
            method,
            uri: req.uri().clone(),
            headers,
        }
    }

    /// Reports the fields in the order the `h2` crate encodes them: the pseudo-headers
    /// `:method`, `:scheme`, `:authority`, `:path`, then the regular fields without the
    /// connection-specific ones hyper strips, with the `content-length` hyper adds; one call
    /// per value, as Go's HTTP/2 transport does.
    pub(crate) fn report_fields(&self, mut report: impl FnMut(&WroteHeaderFieldInfo<'_>)) {
        let mut field = |name: &str, value: &[u8]| {
            report(&WroteHeaderFieldInfo::new(
                name,
                std::slice::from_ref(&value),
            ));
        };
        field(":method", self.method.as_str().as_bytes());
        let connect = self.method == Method::CONNECT;
        if !connect {
            if let Some(scheme) = self.uri.scheme_str() {
                field(":scheme", scheme.as_bytes());
            }
        }
        if let Some(authority) = self.uri.authority() {
            field(":authority", authority.as_str().as_bytes());
        }
        if !connect {
            let path = self.uri.path_and_query().map_or("", |p| p.as_str());
            let path = match path {
                "" if self.method == Method::OPTIONS => "*",
                "" => "/",
                p => p,
            };
            field(":path", path.as_bytes());
        }
        for (name, value) in &self.headers {
            field(name.as_str(), value.as_bytes());
        }
    }
}

/// What hyper removes before sending a request over HTTP/2 (RFC 9113, 8.2.2).
fn strip_connection_headers(headers: &mut HeaderMap) {
    // Usually there is none: one look at each name instead of six lookups.
    let connection_specific = |name: &header::HeaderName| {
        [
            header::CONNECTION,
            header::TRANSFER_ENCODING,
            header::UPGRADE,
            header::TE,
        ]
        .contains(name)
            || name == "keep-alive"
            || name == "proxy-connection"
    };
    if !headers.keys().any(connection_specific) {
        return;
    }
    for name in [
        header::HeaderName::from_static("keep-alive"),
        header::HeaderName::from_static("proxy-connection"),
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ] {
        headers.remove(name);
    }
    if headers.get(header::TE).is_some_and(|te| te != "trailers") {
        headers.remove(header::TE);
    }
    if let Some(listed) = headers.remove(header::CONNECTION) {
        if let Ok(listed) = listed.to_str() {
            for name in listed.split(',') {
                headers.remove(name.trim());
            }
        }
    }
}

/// Counts a traced stream open on its connection until dropped (the wire tracker sees a
/// stream only once hyper has written it; this covers the moments before).
pub(crate) struct OpenStream {
    conn: ConnectionHandle,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.conn
            .shared
            .h2_traced_open
            .fetch_sub(1, Ordering::AcqRel);
    }
}

/// The request was handed to HTTP/2 connection `conn`, at some point after stream sequence
/// number `seq` was current: streams opened before `seq` are others', never its own.
pub(crate) fn stream_started(state: &Arc<RequestState>, conn: &ConnectionHandle, seq: u64) {
    if !state.first(Once::GotConn) {
        return;
    }
    state.first(Once::Http2);
    let shared = &conn.shared;
    let handed_before = shared.h2_handoffs.fetch_add(1, Ordering::AcqRel) > 0;
    let traced_open = shared.h2_traced_open.fetch_add(1, Ordering::AcqRel);
    state.hold_stream(OpenStream { conn: conn.clone() });
    // As Go's HTTP/2 transport: reused for every stream after the connection's first; idle
    // if reused and no other stream is open.
    let reused = handed_before || shared.opened_before(seq);
    let was_idle = reused && traced_open == 0 && !shared.open_from_before(seq);
    let idle_time = if was_idle {
        shared.idle_since().elapsed()
    } else {
        Duration::ZERO
    };
    let trace = &state.trace;
    trace.got_conn(&GotConnInfo::new(
        conn.info().clone(),
        reused,
        was_idle,
        idle_time,
    ));
    if let Some(head) = state.h2_head() {
        head.report_fields(|field| trace.wrote_header_field(field));
    }
    if state.first(Once::WroteHeaders) {
        trace.wrote_headers();
    }
    // hyper reports no 1xx on HTTP/2: the body waits for the timeout or a final response.
    if state.expects_continue && state.first(Once::Wait100Continue) {
        trace.wait_100_continue();
    }
    state.first(Once::HeadersReported);
    wrote_request_if_body_done(state);
}

/// `WroteRequest` once both the stream's head is out and its body has ended, whichever of the
/// two is seen last (they are seen on different tasks).
pub(crate) fn wrote_request_if_body_done(state: &RequestState) {
    if state.has(Once::Http2)
        && state.has(Once::HeadersReported)
        && state.has(Once::BodyDone)
        && state.first(Once::WroteRequest)
    {
        state.wrote_request(&WroteRequestInfo::new(None));
    }
}
