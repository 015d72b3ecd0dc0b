//! The `httpstat` tool, run as users run it.

mod flags;
mod runs;
