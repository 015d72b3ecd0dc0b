//! A shared state put in effect on a thread while a future is polled (a call, a timings
//! sink), for the requests sent from inside that poll to find. None is in effect while a
//! hook runs: a request a hook sends is not the outer one's.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::sync::Arc;
use std::thread::LocalKey;

/// Where a thread keeps the state of one kind in effect.
pub(crate) type Slot<T> = LocalKey<RefCell<Option<Arc<T>>>>;

thread_local! {
    /// How many states of any kind are in effect on this thread. A value with no destructor:
    /// a request sent with none in effect (the usual case) reads this, not each slot.
    static ENTERED: Cell<usize> = const { Cell::new(0) };
}

/// The state in effect in `slot` on this thread, if any (none while a hook runs).
#[inline]
pub(crate) fn current<T: 'static>(slot: &'static Slot<T>) -> Option<Arc<T>> {
    if ENTERED.get() == 0 || httptrace::in_hook() {
        return None;
    }
    slot.with(|c| c.borrow().clone())
}

/// Puts `state` in effect in `slot` until the returned guard is dropped.
pub(crate) fn enter<T: 'static>(slot: &'static Slot<T>, state: &Arc<T>) -> Entered<T> {
    let previous = slot.with(|c| c.borrow_mut().replace(state.clone()));
    ENTERED.set(ENTERED.get() + 1);
    Entered {
        slot,
        previous,
        _this_thread: PhantomData,
    }
}

/// Puts the previous state back in effect, on drop (on the thread it was entered on: the
/// guard cannot be sent to another).
pub(crate) struct Entered<T: 'static> {
    slot: &'static Slot<T>,
    previous: Option<Arc<T>>,
    _this_thread: PhantomData<*const ()>,
}

impl<T: 'static> Drop for Entered<T> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        ENTERED.set(ENTERED.get() - 1);
        self.slot.with(|c| *c.borrow_mut() = previous);
    }
}
