//! Real faults (refusals, resets, stalls, misbehaving servers) and long runs.

mod connections;
mod same_outcome;
mod soak;
