//! The `httpstat` tool, run as users run it.

mod certs;
mod curl_compat;
mod flags;
mod runs;
mod why;
