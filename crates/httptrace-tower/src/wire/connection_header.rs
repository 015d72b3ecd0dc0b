//! The tokens of a `Connection` header field.

use http::header;

/// Whether the `Connection` fields of `headers` list `token` (`close`, `keep-alive`).
pub(crate) fn connection_has(headers: &http::HeaderMap, token: &str) -> bool {
    headers.get_all(header::CONNECTION).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    })
}
