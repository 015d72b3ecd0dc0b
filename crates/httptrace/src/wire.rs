//! Facts of HTTP that every integration reads the same way: whether an HTTP/1 connection
//! goes back to its pool after a response, the tokens of a `Connection` header, the name of
//! an HTTP version, and why a connection is not reused when a response body ends badly.

use http::{header, HeaderMap, Response, StatusCode, Version};

/// Why the connection is not reused when the response body is dropped before its end (Go
/// fires no hook then; this crate says why, as `PutIdleConn`'s error).
pub const DROPPED_UNREAD: &str =
    "response body dropped before its end: the connection is closed, not returned to the pool";

/// Why the connection is not reused after the response body failed.
pub const BODY_FAILED: &str =
    "response body failed: the connection is closed, not returned to the pool";

/// Whether the `Connection` fields of `headers` list `token` (`close`, `keep-alive`), in any
/// case.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// headers.insert("connection", "Keep-Alive, Upgrade".parse().unwrap());
/// assert!(httptrace::wire::connection_has(&headers, "keep-alive"));
/// assert!(!httptrace::wire::connection_has(&headers, "close"));
/// ```
pub fn connection_has(headers: &HeaderMap, token: &str) -> bool {
    headers.get_all(header::CONNECTION).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}

/// Whether the connection goes back to the pool once `res`'s body ends: HTTP/1 keep-alive,
/// not closed by either side (`request_close`: the request said `Connection: close`), not
/// switched to another protocol. (An HTTP/2 connection is never handed back: it is shared.)
///
/// ```
/// let res = http::Response::builder().body(()).unwrap();
/// assert!(httptrace::wire::returns_to_pool(&res, false));
/// assert!(!httptrace::wire::returns_to_pool(&res, true));
/// ```
pub fn returns_to_pool<B>(res: &Response<B>, request_close: bool) -> bool {
    let response_close = connection_has(res.headers(), "close");
    match res.version() {
        Version::HTTP_11 => {
            !request_close && !response_close && res.status() != StatusCode::SWITCHING_PROTOCOLS
        }
        Version::HTTP_10 => {
            !request_close && !response_close && connection_has(res.headers(), "keep-alive")
        }
        _ => false,
    }
}

/// `"HTTP/1.1"`, `"HTTP/2"`, ... for `version`, as `Timings::protocol` names it.
pub fn protocol_name(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP",
    }
}
