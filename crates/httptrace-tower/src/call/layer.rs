//! [`CallTraceLayer`], which makes [`CallTrace`].

use httptrace::ClientTrace;
use tower_layer::Layer;

use super::CallTrace;

/// Traces whole calls through the layers it wraps: see the module docs.
///
/// ```
/// use httptrace::ClientTrace;
/// use httptrace_tower::{CallTraceLayer, HttpTraceLayer};
/// use tower::ServiceBuilder;
///
/// let trace = ClientTrace::new()
///     .on_attempt_start(|a| println!("attempt {} to {}", a.attempt, a.uri))
///     .on_call_done(|c| println!("{} attempts in {:?}", c.attempts, c.elapsed));
/// # let client = tower::service_fn(|_: http::Request<httptrace_tower::TracedRequestBody<String>>| async {
/// #     Ok::<_, std::io::Error>(http::Response::new(String::new()))
/// # });
/// let stack = ServiceBuilder::new()
///     .layer(CallTraceLayer::new(trace))
///     // .layer(tower_http::follow_redirect::FollowRedirectLayer::new())
///     .layer(HttpTraceLayer::default())
///     .service(client);
/// # let _ = stack;
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallTraceLayer {
    trace: ClientTrace,
}

impl CallTraceLayer {
    /// A layer that reports every call, and everything its attempts do, to `trace`.
    pub fn new(trace: ClientTrace) -> Self {
        CallTraceLayer { trace }
    }
}

impl<S> Layer<S> for CallTraceLayer {
    type Service = CallTrace<S>;

    fn layer(&self, inner: S) -> CallTrace<S> {
        CallTrace::new(inner, self.trace.clone())
    }
}
