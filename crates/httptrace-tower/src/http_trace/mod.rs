//! The request side: [`HttpTraceLayer`] makes [`HttpTrace`], whose [`ResponseFuture`] fires
//! the request's hooks and wraps its bodies ([`TracedRequestBody`], [`TracedResponseBody`]);
//! HTTP/2 streams are paired with their connection in `h2_stream`.

mod extensions;
pub(crate) mod future;
mod get_conn;
pub(crate) mod h2_stream;
mod layer;
pub(crate) mod request_body;
pub(crate) mod response_body;
mod sampling;
pub(crate) mod service;
pub(crate) mod settings;
pub(crate) mod start;

pub use future::ResponseFuture;
pub use layer::HttpTraceLayer;
pub use request_body::TracedRequestBody;
pub use response_body::TracedResponseBody;
pub use sampling::RequestHead;
pub use service::HttpTrace;
