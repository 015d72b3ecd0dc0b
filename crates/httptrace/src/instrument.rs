//! The extension point for crates that write instrumentation, as `httptrace-tower` does.
//!
//! Instrumentation that keeps a request's trace in a state of its own (shared by the
//! request's future, its bodies and its connection) puts that state in effect on the thread
//! while it polls, so that the code it calls (a connector, a resolver) sees the request's
//! trace through [`current_trace`](crate::current_trace). Lending the state, rather than a
//! clone of its trace, touches no reference count on the hot path: a layer's trace is shared
//! by every request, and its count would bounce between cores on every poll.
//!
//! Users who attach traces to requests need none of this.

pub use crate::scope::{current_holder, lend_holder_while, HoldsTrace};
