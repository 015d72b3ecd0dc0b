//! The traced client httpstat sends with: our connector stack over a resolver that knows
//! `--resolve`, a dialer that knows `--connect-to`, rustls as `-k`, `--cacert` and the
//! protocol flags say.

mod client;
mod connect_to;
mod insecure;
mod proxy;
mod resolver;

pub(crate) use client::{client, Stat, Trust};
pub(crate) use insecure::VerifyFailed;
pub(crate) use proxy::TunnelTimes;
