//! A trace in effect for a stretch of code or for a whole future, for clients whose request
//! path is not a tower stack (the connector still sees it).

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::trace::ClientTrace;

thread_local! {
    static CURRENT: RefCell<Option<ClientTrace>> = const { RefCell::new(None) };
}

/// The trace in effect on this thread: the one of the innermost [`ClientTrace::enter`] or
/// [`ClientTrace::scope`] being run.
pub fn current_trace() -> Option<ClientTrace> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Restores the previous trace in effect when dropped. Not `Send`: it belongs to the thread.
#[must_use = "the trace is in effect only while the guard lives"]
#[derive(Debug)]
pub struct EnteredTrace {
    previous: Option<ClientTrace>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnteredTrace {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

impl ClientTrace {
    /// Puts this trace in effect on this thread until the guard is dropped, replacing (not
    /// composing with) the one in effect. Instrumentation uses it around the synchronous
    /// parts of a request; a future should use [`ClientTrace::scope`].
    pub fn enter(&self) -> EnteredTrace {
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
        EnteredTrace {
            previous,
            _not_send: PhantomData,
        }
    }

    /// Runs `f` with this trace in effect on this thread, as [`enter`](Self::enter) does, but
    /// lends the trace to the thread instead of cloning it: no reference count is touched, so
    /// instrumentation that polls a future many times can afford it on every poll. While `f`
    /// runs the trace is in the thread's keeping; it is given back when `f` returns (or
    /// panics).
    ///
    /// ```
    /// use httptrace::{current_trace, ClientTrace};
    ///
    /// let mut trace = ClientTrace::new().on_wrote_headers(|| {});
    /// let seen = trace.lend_while(|| current_trace().is_some_and(|t| !t.is_empty()));
    /// assert!(seen);
    /// assert!(!trace.is_empty(), "given back");
    /// assert!(current_trace().is_none());
    /// ```
    pub fn lend_while<R>(&mut self, f: impl FnOnce() -> R) -> R {
        let previous = CURRENT.with(|c| c.borrow_mut().replace(std::mem::take(self)));
        let _lent = Lent {
            owner: self,
            previous,
        };
        f()
    }

    /// Runs `fut` with this trace in effect for every poll, composed with the trace in effect
    /// where it is first polled (this one's hooks first).
    ///
    /// ```
    /// use httptrace::{current_trace, ClientTrace};
    ///
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let waker = std::task::Waker::noop();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    /// let trace = ClientTrace::new().on_wrote_headers(|| {});
    /// let seen = block_on(trace.scope(async { current_trace().is_some() }));
    /// assert!(seen);
    /// assert!(current_trace().is_none());
    /// ```
    pub fn scope<F: Future>(&self, fut: F) -> Scoped<F> {
        Scoped {
            trace: self.clone(),
            composed: false,
            fut: Box::pin(fut),
        }
    }
}

/// Gives a lent trace back to its owner, and the thread its previous trace.
struct Lent<'a> {
    owner: &'a mut ClientTrace,
    previous: Option<ClientTrace>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let lent = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), previous));
        *self.owner = lent.unwrap_or_default();
    }
}

/// A future with a trace in effect while it is polled; see [`ClientTrace::scope`].
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Scoped<F> {
    trace: ClientTrace,
    composed: bool,
    // Boxed so that the core crate needs neither `unsafe` nor a pin-projection crate.
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        if !this.composed {
            this.composed = true;
            if let Some(outer) = current_trace() {
                this.trace = this.trace.compose(&outer);
            }
        }
        let fut = this.fut.as_mut();
        this.trace.lend_while(|| fut.poll(cx))
    }
}
