//! A shared state put in effect on a thread while a future is polled (a call, a timings
//! sink), for the requests sent from inside that poll to find. None is in effect while a
//! hook runs: a request a hook sends is not the outer one's.

use std::cell::RefCell;
use std::sync::Arc;
use std::thread::LocalKey;

/// Where a thread keeps the state of one kind in effect.
pub(crate) type Slot<T> = LocalKey<RefCell<Option<Arc<T>>>>;

/// The state in effect in `slot` on this thread, if any (none while a hook runs).
pub(crate) fn current<T: 'static>(slot: &'static Slot<T>) -> Option<Arc<T>> {
    if httptrace::in_hook() {
        return None;
    }
    slot.with(|c| c.borrow().clone())
}

/// Puts `state` in effect in `slot` until the returned guard is dropped.
pub(crate) fn enter<T: 'static>(slot: &'static Slot<T>, state: &Arc<T>) -> Entered<T> {
    let previous = slot.with(|c| c.borrow_mut().replace(state.clone()));
    Entered { slot, previous }
}

/// Puts the previous state back in effect, on drop.
pub(crate) struct Entered<T: 'static> {
    slot: &'static Slot<T>,
    previous: Option<Arc<T>>,
}

impl<T: 'static> Drop for Entered<T> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        self.slot.with(|c| *c.borrow_mut() = previous);
    }
}
