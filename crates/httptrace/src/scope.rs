//! A trace in effect for a stretch of code or for a whole future, for clients whose request
//! path is not a tower stack (the connector still sees it).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::trace::ClientTrace;

thread_local! {
    /// What is in effect on this thread, innermost last, each under the key its guard holds.
    static CURRENT: RefCell<Vec<(Key, InEffect)>> = const { RefCell::new(Vec::new()) };
    /// The key of the next entry.
    static NEXT_KEY: Cell<Key> = const { Cell::new(0) };
    /// How many entries `CURRENT` holds. A value with no destructor, so reading it costs no
    /// check of the thread's destructor registration: a request sent with nothing in effect
    /// (the usual case) reads this alone.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Whether nothing is in effect on this thread.
#[inline]
fn nothing_in_effect() -> bool {
    DEPTH.get() == 0
}

/// Names one entry of a thread's stack, so that its guard takes back that entry (and every
/// entry put above it and not taken back) even when guards are dropped out of order.
type Key = u64;

/// Puts `what` in effect on this thread; the key takes it back ([`take_back`]).
fn put(what: InEffect) -> Key {
    let key = NEXT_KEY.with(|k| {
        let key = k.get();
        k.set(key.wrapping_add(1));
        key
    });
    CURRENT.with(|c| {
        let mut stack = c.borrow_mut();
        stack.push((key, what));
        DEPTH.set(stack.len());
    });
    key
}

/// Takes back the entry `key` put, and everything above it: what a guard kept alive past
/// the lend it was made in (an [`EnteredTrace`] held across an `.await`) is in effect no
/// longer. `None` if the entry was taken back already, with a lend that ended under it.
fn take_back(key: Key) -> Option<InEffect> {
    CURRENT.with(|c| {
        let mut stack = c.borrow_mut();
        let at = stack.iter().rposition(|(k, _)| *k == key)?;
        // Almost always the top: nothing above it to take, no `Vec` to build.
        let above: Vec<_> = if at + 1 < stack.len() {
            stack.drain(at + 1..).collect()
        } else {
            Vec::new()
        };
        let (_, what) = stack.pop()?;
        DEPTH.set(stack.len());
        drop(stack);
        drop(above); // their drops may run user code: not under the borrow
        Some(what)
    })
}

/// What is in effect on a thread: a trace, or something that holds one
/// ([`lend_holder_while`]).
enum InEffect {
    Trace(ClientTrace),
    /// The holder, and how to read its trace.
    Holder(
        Arc<dyn Any + Send + Sync>,
        fn(&(dyn Any + Send + Sync)) -> &ClientTrace,
    ),
}

impl InEffect {
    fn trace(&self) -> &ClientTrace {
        match self {
            InEffect::Trace(trace) => trace,
            InEffect::Holder(holder, trace_of) => trace_of(&**holder),
        }
    }
}

/// Something that holds a trace, and can be put in effect on a thread in its place
/// ([`lend_holder_while`]): instrumentation that keeps a request's trace in a shared state
/// lends that state, so that polling touches no reference count at all.
pub trait HoldsTrace: Send + Sync + 'static {
    /// The trace held.
    fn held_trace(&self) -> &ClientTrace;
}

/// The trace in effect on this thread: the one of the innermost [`ClientTrace::enter`] or
/// [`ClientTrace::scope`] being run.
///
/// `None` while a hook runs ([`in_hook`](crate::in_hook)): a request sent from a hook is
/// not traced by the request that fired it.
#[inline]
pub fn current_trace() -> Option<ClientTrace> {
    if nothing_in_effect() {
        return None;
    }
    innermost_trace()
}

fn innermost_trace() -> Option<ClientTrace> {
    if crate::hook::in_hook() {
        return None;
    }
    CURRENT.with(|c| c.borrow().last().map(|(_, e)| e.trace().clone()))
}

/// The holder in effect on this thread, if the innermost thing in effect is one of type `H`
/// ([`lend_holder_while`]): for the code an instrumentation calls into (a resolver, a
/// connector, a TLS session store) to reach the request's state, not its trace alone.
/// `None` while a hook runs, as [`current_trace`].
///
/// ```
/// use std::sync::Arc;
/// use httptrace::instrument::{current_holder, lend_holder_while, HoldsTrace};
/// use httptrace::ClientTrace;
///
/// struct Request { trace: ClientTrace, n: u32 }
/// impl HoldsTrace for Request {
///     fn held_trace(&self) -> &ClientTrace { &self.trace }
/// }
///
/// let mut lent = Some(Arc::new(Request { trace: ClientTrace::new(), n: 7 }));
/// let seen = lend_holder_while(&mut lent, || current_holder::<Request>().map(|r| r.n));
/// assert_eq!(seen, Some(7));
/// assert!(current_holder::<Request>().is_none(), "given back");
/// ```
pub fn current_holder<H: HoldsTrace>() -> Option<Arc<H>> {
    if nothing_in_effect() || crate::hook::in_hook() {
        return None;
    }
    CURRENT.with(|c| match c.borrow().last() {
        Some((_, InEffect::Holder(holder, _))) => holder.clone().downcast::<H>().ok(),
        _ => None,
    })
}

/// Runs `f` with the trace `holder` holds in effect on this thread, as
/// [`ClientTrace::lend_while`] does with a trace: the holder is moved into the thread's
/// keeping and back (it is `None` while `f` runs), so no reference count is touched.
///
/// ```
/// use std::sync::Arc;
/// use httptrace::instrument::{lend_holder_while, HoldsTrace};
/// use httptrace::{current_trace, ClientTrace};
///
/// struct Request {
///     trace: ClientTrace,
/// }
/// impl HoldsTrace for Request {
///     fn held_trace(&self) -> &ClientTrace {
///         &self.trace
///     }
/// }
///
/// let mut request = Some(Arc::new(Request { trace: ClientTrace::new().on_wrote_headers(|| {}) }));
/// let seen = lend_holder_while(&mut request, || current_trace().is_some_and(|t| !t.is_empty()));
/// assert!(seen);
/// assert!(request.is_some(), "given back");
/// assert!(current_trace().is_none());
/// ```
pub fn lend_holder_while<H: HoldsTrace, R>(
    holder: &mut Option<Arc<H>>,
    f: impl FnOnce() -> R,
) -> R {
    fn trace_of<H: HoldsTrace>(holder: &(dyn Any + Send + Sync)) -> &ClientTrace {
        match holder.downcast_ref::<H>() {
            Some(holder) => holder.held_trace(),
            None => unreachable!("a holder is lent with its own reader"),
        }
    }
    let Some(lent) = holder.take() else {
        return f();
    };
    let lent: Arc<dyn Any + Send + Sync> = lent;
    let key = put(InEffect::Holder(lent, trace_of::<H>));
    let _lent = LentHolder { owner: holder, key };
    f()
}

/// Restores the previous trace in effect when dropped. Not `Send`: it belongs to the thread.
///
/// Made inside a lend ([`ClientTrace::lend_while`], [`ClientTrace::scope`], the layer's poll)
/// and kept past it (held across an `.await`), the guard's trace is in effect until that lend
/// ends, not after; dropping the guard later changes nothing.
#[must_use = "the trace is in effect only while the guard lives"]
pub struct EnteredTrace {
    key: Key,
    _not_send: PhantomData<*const ()>,
}

impl std::fmt::Debug for EnteredTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnteredTrace").finish_non_exhaustive()
    }
}

impl Drop for EnteredTrace {
    fn drop(&mut self) {
        drop(take_back(self.key));
    }
}

impl ClientTrace {
    /// Puts this trace in effect on this thread until the guard is dropped, replacing (not
    /// composing with) the one in effect. Instrumentation uses it around the synchronous
    /// parts of a request; a future should use [`ClientTrace::scope`].
    pub fn enter(&self) -> EnteredTrace {
        EnteredTrace {
            key: put(InEffect::Trace(self.clone())),
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
        let key = put(InEffect::Trace(std::mem::take(self)));
        let _lent = Lent { owner: self, key };
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

/// Gives a lent trace back to its owner, and the thread what was in effect before.
struct Lent<'a> {
    owner: &'a mut ClientTrace,
    key: Key,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(InEffect::Trace(trace)) = take_back(self.key) {
            *self.owner = trace;
        }
    }
}

/// Gives a lent holder back to its owner, and the thread what was in effect before.
struct LentHolder<'a, H: HoldsTrace> {
    owner: &'a mut Option<Arc<H>>,
    key: Key,
}

impl<H: HoldsTrace> Drop for LentHolder<'_, H> {
    fn drop(&mut self) {
        if let Some(InEffect::Holder(holder, _)) = take_back(self.key) {
            let holder: Arc<dyn Any + Send + Sync> = holder;
            *self.owner = holder.downcast::<H>().ok();
        }
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
