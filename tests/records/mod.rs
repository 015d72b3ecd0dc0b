//! What the ready-made recorders keep and write: timings, JSON, redaction.

mod redaction;
mod serialize;
mod timings;
