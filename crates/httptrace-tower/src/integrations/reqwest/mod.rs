//! reqwest (feature `reqwest`): [`ReqwestTrace`], a `reqwest_middleware` middleware, with the
//! resolver and connector layer it installs.

mod body;
mod connections;
mod dns;
mod middleware;

pub use dns::TracedDns;
pub use middleware::ReqwestTrace;
