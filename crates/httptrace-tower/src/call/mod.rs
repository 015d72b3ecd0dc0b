//! [`CallTraceLayer`]: one call followed across redirects and retries, each attempt numbered.
//!
//! Go's `ClientTrace` sees one request at a time; a redirect or a retry starts over with no
//! link to what came before. This layer goes outside the layers that repeat requests
//! (tower-http's `FollowRedirect`, tower's `Retry`), with an [`HttpTrace`](crate::HttpTrace)
//! inside them. It fires `CallStart` and `CallDone`, and puts the call in effect while the
//! layers inside run: the inner `HttpTrace` numbers each request it sees as an attempt
//! (`AttemptStart`) and reports its hooks to the call's trace as well.
//!
//! The call is found from the thread that polls the call's future (as
//! [`ClientTrace::scope`](httptrace::ClientTrace::scope) is), because a redirect layer
//! builds each new request afresh and drops the previous one's extensions. A layer inside
//! that moves requests to another task (tower's `Buffer`) hides the call from them.

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::CallTraceLayer;
pub use service::CallTrace;
