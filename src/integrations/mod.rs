//! The integrations of issue #8, each behind the cargo feature of the same name.

#[cfg(feature = "axum")]
pub mod axum;
