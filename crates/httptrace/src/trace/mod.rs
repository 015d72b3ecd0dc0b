//! [`ClientTrace`]: one optional hook for each of Go's sixteen, and six Go lacks.
//!
//! The type and its composition in `client_trace.rs`; the `on_*` setters in `on.rs`, the
//! methods that fire the hooks in `fire.rs`; the timings recorders a trace carries in
//! `recorders.rs`, and how a trace records into them in `recording.rs`.

mod client_trace;
mod fire;
mod kind;
mod on;
mod recorders;
mod recording;

pub use client_trace::ClientTrace;
pub use kind::HookKind;
