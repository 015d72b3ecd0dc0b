//! How an HTTP version is named in `Timings::protocol` and the integrations.

use http::Version;

/// `"HTTP/1.1"`, `"HTTP/2"`, ... for `version`.
pub(crate) fn protocol_name(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP",
    }
}
