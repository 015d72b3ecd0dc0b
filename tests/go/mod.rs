//! Go's own event logs replayed, and the hooks Go lacks.

mod beyond;
mod parity;
