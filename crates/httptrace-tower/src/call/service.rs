//! [`CallTrace`]: the service that follows one call through the layers inside it.

use std::fmt::Display;
use std::task::{Context, Poll};

use http::{Request, Response};
use httptrace::{current_trace, take_client_trace, CallStartInfo, ClientTrace, RequestTraces};
use tower_service::Service;

use super::ResponseFuture;
use crate::state::call::{CallEnd, CallState};

/// The service of [`CallTraceLayer`](super::CallTraceLayer).
#[derive(Debug, Clone)]
pub struct CallTrace<S> {
    inner: S,
    trace: ClientTrace,
}

impl<S> CallTrace<S> {
    /// Traces the calls made through `inner` with `trace`.
    pub fn new(inner: S, trace: ClientTrace) -> Self {
        crate::panic_report::install();
        CallTrace { inner, trace }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, ResB> Service<Request<B>> for CallTrace<S>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Display,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // The request's own trace and the one in effect here belong to the whole call: a
        // redirected request would lose the former.
        let own = take_client_trace(req.extensions_mut());
        let trace = RequestTraces::new()
            .own(own.as_ref())
            .ambient(current_trace())
            .layer(Some(&self.trace))
            .compose();
        trace.call_start(&CallStartInfo::new(req.method().clone(), req.uri().clone()));
        let call = CallState::new(trace);
        let inner = {
            let _entered = call.enter();
            self.inner.call(req)
        };
        ResponseFuture::new(inner, CallEnd::new(call))
    }
}
