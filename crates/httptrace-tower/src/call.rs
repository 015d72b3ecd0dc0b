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

use std::cell::RefCell;
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use http::{Request, Response, StatusCode};
use httptrace::{
    current_trace, take_client_trace, AttemptStartInfo, CallDoneInfo, CallStartInfo, ClientTrace,
    EnteredTrace, TraceError,
};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

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

/// The service of [`CallTraceLayer`].
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
    type Future = CallFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        // The request's own trace and the one in effect here belong to the whole call: a
        // redirected request would lose the former.
        let mut trace = self.trace.clone();
        if let Some(ambient) = current_trace() {
            trace = ambient.compose(&trace);
        }
        if let Some(own) = take_client_trace(req.extensions_mut()) {
            trace = own.compose(&trace);
        }
        trace.call_start(&CallStartInfo::new(req.method().clone(), req.uri().clone()));
        let call = Arc::new(CallState {
            trace,
            attempts: AtomicU32::new(0),
            previous_status: AtomicU16::new(0),
            started: Instant::now(),
        });
        let inner = {
            let _entered = call.enter();
            self.inner.call(req)
        };
        CallFuture {
            inner,
            end: Some(CallEnd(call)),
        }
    }
}

pin_project! {
    /// The future of [`CallTrace`]: the inner future, with the call in effect while it runs.
    #[must_use = "futures do nothing unless polled"]
    pub struct CallFuture<F> {
        #[pin]
        inner: F,
        end: Option<CallEnd>,
    }
}

impl<F, ResB, E> Future for CallFuture<F>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    E: Display,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this.end.as_ref().map(|end| end.0.enter());
            ready!(this.inner.poll(cx))
        };
        if let Some(end) = this.end.take() {
            match &result {
                Ok(res) => end.done(Some(res.status()), None),
                Err(err) => end.done(None, Some(TraceError::msg(err.to_string()))),
            }
        }
        Poll::Ready(result)
    }
}

impl<F> std::fmt::Debug for CallFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallFuture")
            .field("done", &self.end.is_none())
            .finish()
    }
}

/// Reports `CallDone` once: with the result, or, dropped first, as abandoned.
struct CallEnd(Arc<CallState>);

impl CallEnd {
    fn done(mut self, status: Option<StatusCode>, err: Option<TraceError>) {
        self.report(status, err);
    }

    fn report(&mut self, status: Option<StatusCode>, err: Option<TraceError>) {
        let call = &self.0;
        if call.reported() {
            return;
        }
        call.trace.call_done(&CallDoneInfo::new(
            call.attempts.load(Ordering::Relaxed),
            status,
            err,
            call.started.elapsed(),
        ));
    }
}

impl Drop for CallEnd {
    fn drop(&mut self) {
        self.report(
            None,
            Some(TraceError::msg(
                "the call was dropped before it had a result",
            )),
        );
    }
}

/// One call, shared by its future and the attempts made inside it.
pub(crate) struct CallState {
    trace: ClientTrace,
    attempts: AtomicU32,
    /// The previous attempt's status, 0 when it had none (or there was none). `u16::MAX`
    /// once `CallDone` was reported.
    previous_status: AtomicU16,
    started: Instant,
}

const REPORTED: u16 = u16::MAX;

impl CallState {
    fn reported(&self) -> bool {
        self.previous_status.swap(REPORTED, Ordering::AcqRel) == REPORTED
    }

    fn enter(self: &Arc<Self>) -> EnteredCall {
        let previous = CURRENT_CALL.with(|c| c.borrow_mut().replace(self.clone()));
        EnteredCall {
            previous,
            _trace: self.trace.enter(),
        }
    }

    /// An attempt of this call goes out: `AttemptStart` on `trace` (the attempt's, which
    /// includes the call's).
    pub(crate) fn attempt_started<B>(&self, trace: &ClientTrace, req: &Request<B>) {
        let attempt = self.attempts.fetch_add(1, Ordering::Relaxed) + 1;
        let previous = match self.previous_status.load(Ordering::Acquire) {
            0 | REPORTED => None,
            code => StatusCode::from_u16(code).ok(),
        };
        trace.attempt_start(&AttemptStartInfo::new(
            attempt,
            req.method().clone(),
            req.uri().clone(),
            previous,
        ));
    }

    /// The current attempt ended with `status` (`None`: with an error).
    pub(crate) fn attempt_answered(&self, status: Option<StatusCode>) {
        let code = status.map_or(0, |s| s.as_u16());
        let _ = self
            .previous_status
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                (v != REPORTED).then_some(code)
            });
    }
}

thread_local! {
    static CURRENT_CALL: RefCell<Option<Arc<CallState>>> = const { RefCell::new(None) };
}

/// The call being polled on this thread, if any (none while a hook runs).
pub(crate) fn current_call() -> Option<Arc<CallState>> {
    if httptrace::in_hook() {
        return None; // a request a hook sends is no attempt of the call
    }
    CURRENT_CALL.with(|c| c.borrow().clone())
}

struct EnteredCall {
    previous: Option<Arc<CallState>>,
    _trace: EnteredTrace,
}

impl Drop for EnteredCall {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT_CALL.with(|c| *c.borrow_mut() = previous);
    }
}
