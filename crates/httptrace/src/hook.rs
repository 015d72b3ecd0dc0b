//! One hook slot: an optional shared closure, how it is called and how two are chained.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::BoxError;

/// A hook that takes an argument by reference.
pub(crate) type Hook<A> = Option<Arc<dyn Fn(&A) + Send + Sync>>;

/// A hook that may veto (`Got1xxResponse`).
pub(crate) type FallibleHook<A> = Option<Arc<dyn Fn(&A) -> Result<(), BoxError> + Send + Sync>>;

static PANICS: AtomicU64 = AtomicU64::new(0);

/// How many hook calls have panicked in this process.
///
/// A panicking hook is caught where it is called: the panic is printed by the process's
/// panic hook as usual, counted here, and the request carries on as if the hook had returned.
pub fn hook_panics() -> u64 {
    PANICS.load(Ordering::Relaxed)
}

/// Runs `f`, containing a panic.
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(_) => {
            PANICS.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

pub(crate) fn call<A>(hook: &Hook<A>, arg: &A) {
    if let Some(h) = hook {
        guarded(|| h(arg));
    }
}

/// A panicking veto hook counts as no veto.
pub(crate) fn call_fallible<A>(hook: &FallibleHook<A>, arg: &A) -> Result<(), BoxError> {
    match hook {
        Some(h) => guarded(|| h(arg)).unwrap_or(Ok(())),
        None => Ok(()),
    }
}

/// `newer` runs first, then `older`; each is guarded on its own, so one that panics does not
/// keep the other from running.
pub(crate) fn chain<A: 'static>(newer: &Hook<A>, older: &Hook<A>) -> Hook<A> {
    match (newer, older) {
        (Some(n), Some(o)) => {
            let (n, o) = (n.clone(), o.clone());
            Some(Arc::new(move |a: &A| {
                guarded(|| n(a));
                guarded(|| o(a));
            }))
        }
        (Some(h), None) | (None, Some(h)) => Some(h.clone()),
        (None, None) => None,
    }
}

/// Both run, newer first; the first error wins (see `ClientTrace::compose` for why this
/// differs from Go).
pub(crate) fn chain_fallible<A: 'static>(
    newer: &FallibleHook<A>,
    older: &FallibleHook<A>,
) -> FallibleHook<A> {
    match (newer, older) {
        (Some(n), Some(o)) => {
            let (n, o) = (n.clone(), o.clone());
            Some(Arc::new(move |a: &A| {
                let first = guarded(|| n(a)).unwrap_or(Ok(()));
                let second = guarded(|| o(a)).unwrap_or(Ok(()));
                first.and(second)
            }))
        }
        (Some(h), None) | (None, Some(h)) => Some(h.clone()),
        (None, None) => None,
    }
}
