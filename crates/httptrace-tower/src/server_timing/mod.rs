//! [`ServerTimingLayer`]: on the server side, answers each request with a `Server-Timing`
//! header telling where its handler's outbound calls spent their time, so that a browser's
//! developer tools show it beside the page's own timings.
//!
//! While the layer's service polls a request's handler, the outbound requests that the
//! handler sends through an [`HttpTrace`](crate::HttpTrace) (an `http_client`, a
//! `TracedClient`, any stack with the layer) record their [`Timings`](httptrace::Timings),
//! as `record_timings` would; the response then carries, per outbound request numbered from
//! 1 in the order they started, its total and its phases ([`httptrace::Phase`]), `dur` in
//! milliseconds, on one line:
//!
//! ```text
//! server-timing: up1;dur=4.210, up1-queue;dur=0.004, up1-dns;dur=0.350,
//!     up1-connect;dur=0.160, up1-send;dur=0.050, up1-wait;dur=3.500, up1-receive;dur=0.146
//! ```
//! A request whose body had not ended when the response left has its phases so far and no
//! total. At most 32 outbound requests are listed; more are counted in one
//! `up-more;desc="N more calls"`.
//!
//! **Every client and browser that gets the answer reads the header.** By default it tells
//! them durations and generic names only: no host, address, port, path or query. Two options
//! change that, for answers that go where more may be read:
//! - [`ServerTimingLayer::describe_calls`] adds `desc="GET inventory.internal:8080"` to each
//!   call's total (the method and `host:port`, never the path, query or credentials);
//! - [`ServerTimingLayer::only_when`] gives the header only to requests a predicate accepts
//!   (a header an internal proxy sets, a peer on a trusted network); the others get none,
//!   and nothing is recorded for them.
//!
//! Browsers show a cross-origin answer's `Server-Timing` to the page only with
//! `Timing-Allow-Origin`, which this layer does not set.
//!
//! The handler adds metrics of its own through the [`ServerTimingMetrics`] in the request's
//! extensions; they come first in the header.
//!
//! The outbound requests are found from the thread that polls the handler (as
//! [`CallTraceLayer`](crate::CallTraceLayer)'s are), so a request sent from a task the
//! handler spawns is not counted. Nothing is kept past the response.
//!
//! ```
//! use httptrace_tower::ServerTimingLayer;
//! use tower::ServiceBuilder;
//!
//! # let handler = tower::service_fn(|_: http::Request<String>| async {
//! #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! # });
//! let service = ServiceBuilder::new()
//!     .layer(ServerTimingLayer::new())
//!     .service(handler); // with axum: `Router::layer(ServerTimingLayer::new())`
//! # let _ = service;
//! ```

mod future;
mod header;
mod layer;
mod metrics;
mod options;
mod service;

pub use future::ResponseFuture;
pub use layer::ServerTimingLayer;
pub use metrics::{InvalidMetricName, Metric, ServerTimingMetrics};
pub use service::ServerTiming;
