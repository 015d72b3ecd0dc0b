//! One hook slot: an optional shared closure, how it is called and how two are chained.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::BoxError;
use crate::info::go::{GetConnInfo, WroteHeaderFieldInfo};

/// A hook that takes an argument by reference.
pub(crate) type Hook<A> = Option<Arc<dyn Fn(&A) + Send + Sync>>;

/// Hooks whose argument borrows from the caller (so that firing them allocates nothing):
/// a type, how it is called and how two are chained, as for [`Hook`].
macro_rules! borrowed_hook {
    ($hook:ident, $call:ident, $chain:ident, $info:ident, $name:literal) => {
        pub(crate) type $hook = Option<Arc<dyn for<'a> Fn(&$info<'a>) + Send + Sync>>;

        pub(crate) fn $call(hook: &$hook, arg: &$info<'_>) {
            if let Some(h) = hook {
                guarded($name, || h(arg));
            }
        }

        pub(crate) fn $chain(newer: &$hook, older: &$hook) -> $hook {
            match (newer, older) {
                (Some(n), Some(o)) => {
                    let (n, o) = (n.clone(), o.clone());
                    Some(Arc::new(move |a: &$info<'_>| {
                        guarded($name, || n(a));
                        guarded($name, || o(a));
                    }))
                }
                (Some(h), None) | (None, Some(h)) => Some(h.clone()),
                (None, None) => None,
            }
        }
    };
}

borrowed_hook!(
    GetConnHook,
    call_get_conn,
    chain_get_conn,
    GetConnInfo,
    "GetConn"
);
borrowed_hook!(
    FieldHook,
    call_field,
    chain_field,
    WroteHeaderFieldInfo,
    "WroteHeaderField"
);

/// A hook that may veto (`Got1xxResponse`).
pub(crate) type FallibleHook<A> = Option<Arc<dyn Fn(&A) -> Result<(), BoxError> + Send + Sync>>;

static PANICS: AtomicU64 = AtomicU64::new(0);

static REPORTER: OnceLock<fn(&HookPanic)> = OnceLock::new();

/// How many hook calls have panicked in this process.
///
/// A panicking hook is caught where it is called: the panic is printed by the process's
/// panic hook as usual, counted here, handed to the reporter set with
/// [`set_panic_reporter`], and the request carries on as if the hook had returned.
pub fn hook_panics() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// A hook that panicked, as given to the panic reporter.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HookPanic {
    /// The Go name of the hook (`"GotConn"`, ...).
    pub hook: &'static str,
    /// The panic's message, when it was a string.
    pub message: String,
}

/// Sets, once per process, what is told of each hook that panics (`httptrace-tower` sets one
/// that emits a `tracing` event). Returns false if one was already set.
pub fn set_panic_reporter(report: fn(&HookPanic)) -> bool {
    REPORTER.set(report).is_ok()
}

thread_local! {
    /// Hooks running on this thread (a composed hook runs inside another).
    static RUNNING: Cell<u32> = const { Cell::new(0) };
}

/// Whether a hook is running on this thread. While one runs, no trace is in effect
/// ([`current_trace`](crate::current_trace) is `None`), so a request the hook sends is not
/// traced by the request that fired the hook (no feedback loop); instrumentation of yours
/// that keeps its own "current request" should ignore it here too.
pub fn in_hook() -> bool {
    RUNNING.with(|r| r.get() > 0)
}

/// Runs `f`, the hook `name`, containing a panic.
pub(crate) fn guarded<R>(name: &'static str, f: impl FnOnce() -> R) -> Option<R> {
    RUNNING.with(|r| r.set(r.get() + 1));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    RUNNING.with(|r| r.set(r.get() - 1));
    match outcome {
        Ok(r) => Some(r),
        Err(payload) => {
            PANICS.fetch_add(1, Ordering::Relaxed);
            if let Some(report) = REPORTER.get() {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                let panic = HookPanic {
                    hook: name,
                    message,
                };
                // A reporter that panics is not reported again.
                let _ = catch_unwind(AssertUnwindSafe(|| report(&panic)));
            }
            None
        }
    }
}

pub(crate) fn call<A>(name: &'static str, hook: &Hook<A>, arg: &A) {
    if let Some(h) = hook {
        guarded(name, || h(arg));
    }
}

/// A panicking veto hook counts as no veto.
pub(crate) fn call_fallible<A>(
    name: &'static str,
    hook: &FallibleHook<A>,
    arg: &A,
) -> Result<(), BoxError> {
    match hook {
        Some(h) => guarded(name, || h(arg)).unwrap_or(Ok(())),
        None => Ok(()),
    }
}

/// `newer` runs first, then `older`; each is guarded on its own, so one that panics does not
/// keep the other from running.
pub(crate) fn chain<A: 'static>(name: &'static str, newer: &Hook<A>, older: &Hook<A>) -> Hook<A> {
    match (newer, older) {
        (Some(n), Some(o)) => {
            let (n, o) = (n.clone(), o.clone());
            Some(Arc::new(move |a: &A| {
                guarded(name, || n(a));
                guarded(name, || o(a));
            }))
        }
        (Some(h), None) | (None, Some(h)) => Some(h.clone()),
        (None, None) => None,
    }
}

/// Both run, newer first; the first error wins (see `ClientTrace::compose` for why this
/// differs from Go).
pub(crate) fn chain_fallible<A: 'static>(
    name: &'static str,
    newer: &FallibleHook<A>,
    older: &FallibleHook<A>,
) -> FallibleHook<A> {
    match (newer, older) {
        (Some(n), Some(o)) => {
            let (n, o) = (n.clone(), o.clone());
            Some(Arc::new(move |a: &A| {
                let first = guarded(name, || n(a)).unwrap_or(Ok(()));
                let second = guarded(name, || o(a)).unwrap_or(Ok(()));
                first.and(second)
            }))
        }
        (Some(h), None) | (None, Some(h)) => Some(h.clone()),
        (None, None) => None,
    }
}
