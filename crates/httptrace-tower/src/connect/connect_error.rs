//! The error of [`TraceHttpConnector`](super::TraceHttpConnector).

use std::net::SocketAddr;

use httptrace::BoxError;

/// Why [`TraceHttpConnector`](super::TraceHttpConnector) could not connect.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL's scheme is not one this connector dials (`http`, or `https` when
    /// `enforce_http` is off).
    UnsupportedScheme(String),
    /// The URL has no host.
    MissingHost,
    /// The resolver failed; its error is the source.
    Resolve(BoxError),
    /// The resolver found no address.
    NoAddresses(String),
    /// Every attempt failed; this is the first attempt's error, as in Go.
    Connect {
        /// The address of that attempt.
        addr: SocketAddr,
        /// Its error.
        source: std::io::Error,
    },
    /// A socket option could not be set.
    Socket(std::io::Error),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::UnsupportedScheme(s) if s.is_empty() => f.write_str("URL has no scheme"),
            ConnectError::UnsupportedScheme(s) => write!(f, "unsupported URL scheme {s:?}"),
            ConnectError::MissingHost => f.write_str("URL has no host"),
            ConnectError::Resolve(_) => f.write_str("dns error"),
            ConnectError::NoAddresses(host) => write!(f, "no addresses found for {host:?}"),
            ConnectError::Connect { addr, .. } => write!(f, "tcp connect to {addr} failed"),
            ConnectError::Socket(_) => f.write_str("setting a socket option failed"),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::Resolve(e) => Some(&**e),
            ConnectError::Connect { source, .. } | ConnectError::Socket(source) => Some(source),
            _ => None,
        }
    }
}
