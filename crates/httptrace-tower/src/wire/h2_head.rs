//! [`H2Head`]: the header fields of a request as hyper writes them in an HTTP/2 HEADERS frame.

use http::{header, HeaderMap, HeaderValue, Method, Request, Uri};
use httptrace::WroteHeaderFieldInfo;

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
