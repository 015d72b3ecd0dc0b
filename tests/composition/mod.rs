//! Traces composed and attached, the rules hooks live by, calls across attempts, sampling.

mod call_tracing;
mod hook_rules;
mod sampling;
mod traces_and_input;
