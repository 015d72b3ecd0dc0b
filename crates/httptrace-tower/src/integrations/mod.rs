//! Ready-made traces and client integrations, built on the crate's public API only.

#[cfg(feature = "tonic")]
pub mod tonic_channel;
#[cfg(feature = "tracing")]
pub(crate) mod tracing_events;
