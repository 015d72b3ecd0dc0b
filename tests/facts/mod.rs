//! What the code relies on: hyper's behaviour, and the crates' layout.

mod hyper;
mod structure;
