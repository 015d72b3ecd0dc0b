//! Which request each hook belongs to, checked against what the server saw.

mod http1;
mod http2;
mod races;
