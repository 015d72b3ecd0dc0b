//! [`ServerTimingLayer`]: on the server side, answers each request with a `Server-Timing`
//! header telling where its handler's outbound calls spent their time, so that a browser's
//! developer tools show it beside the page's own timings.
//!
//! While the layer's service polls a request's handler, the outbound requests that the
//! handler sends through an [`HttpTrace`](crate::HttpTrace) (an `http_client`, a
//! `TracedClient`, any stack with the layer) record their [`Timings`](httptrace::Timings),
//! as `record_timings` would; the response then carries, per outbound request numbered from
//! 1 in the order they started:
//!
//! ```text
//! server-timing: up1;dur=4.210;desc="GET inventory.internal:8080", up1-queue;dur=0.004,
//!     up1-dns;dur=0.350, up1-connect;dur=0.160, up1-send;dur=0.050, up1-wait;dur=3.500,
//!     up1-receive;dur=0.146
//! ```
//! (one line: `dur` in milliseconds, the phases of [`httptrace::Phase`]; `desc` names the
//! method and `host:port`, never the path, query or credentials). A request whose body had
//! not ended when the response left has its phases so far and no total. At most 32 outbound
//! requests are listed; more are counted in one `up-more;desc="N more calls"`.
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
mod service;

pub use future::ResponseFuture;
pub use layer::ServerTimingLayer;
pub use service::ServerTiming;
