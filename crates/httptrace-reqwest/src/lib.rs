//! `httptrace-reqwest`: [`ReqwestTrace`], a `reqwest_middleware` middleware that fires
//! httptrace's hooks for reqwest's requests, with the resolver and connector layer it
//! installs; the table of what fires, and when, is in its docs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attempts;
mod body;
mod connections;
mod dial;
mod dns;
mod exchange;
mod middleware;
#[cfg(feature = "rustls")]
mod tls;

pub use attempts::ReqwestAttempts;
pub use dns::TracedDns;
pub use middleware::ReqwestTrace;
