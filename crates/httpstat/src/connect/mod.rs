//! The traced client httpstat sends with: our connector stack over a resolver that knows
//! `--resolve`, a dialer that knows `--connect-to`, rustls as `-k`, `--cacert` and the
//! protocol flags say.

mod chain_problem;
mod client;
mod connect_to;
mod deadline;
mod insecure;
mod proxy;
mod resolver;
mod reverdict;

pub(crate) use chain_problem::ChainProblem;
pub(crate) use client::{client, Stat, Trust};
pub(crate) use insecure::VerifyFailed;
pub(crate) use proxy::TunnelTimes;
