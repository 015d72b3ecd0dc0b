//! reqwest, tonic, axum, OpenTelemetry and `tracing`, each real, each behind its feature.

mod axum_handler;
mod otel;
mod otel_opt_in;
mod reqwest_client;
mod tonic_channel;
mod tracing_events;
