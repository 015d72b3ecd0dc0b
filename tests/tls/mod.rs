//! rustls: HTTPS over HTTP/1.1 and HTTP/2, trust, and foreign TLS connectors.

mod foreign_connector;
mod http2;
