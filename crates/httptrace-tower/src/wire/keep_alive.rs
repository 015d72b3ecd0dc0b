//! Whether an HTTP/1 connection goes back to the pool after a response, and why not when a
//! body ends badly: read off the request's and the response's heads.

use http::{Response, StatusCode, Version};

use super::connection_header::connection_has;

/// Why the connection is not reused when the response body is dropped before its end (Go
/// fires no hook then; we say why, on purpose: see ARCHITECTURE.md).
pub(crate) const DROPPED_UNREAD: &str =
    "response body dropped before its end: the connection is closed, not returned to the pool";

/// Why the connection is not reused after the response body failed.
pub(crate) const BODY_FAILED: &str =
    "response body failed: the connection is closed, not returned to the pool";

/// Whether the connection goes back to the pool once the body ends: HTTP/1 keep-alive, not
/// closed by either side (`request_close`: the request said `Connection: close`), not
/// switched to another protocol.
pub(crate) fn returns_to_pool<B>(res: &Response<B>, request_close: bool) -> bool {
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
