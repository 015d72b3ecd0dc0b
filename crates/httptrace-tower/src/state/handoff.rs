//! How a request meets the HTTP/1 connection that writes it.
//!
//! hyper-util calls the connector with a `Uri` and hyper writes the request from the
//! connection's own task, so nothing tells the connection's I/O which request it carries.
//! Two facts of hyper 1.x close the gap exactly (ARCHITECTURE.md, "Attribution"):
//!
//! 1. When the connection's dispatcher task takes the next request to send, it first asks the
//!    request body whether it has ended (`Body::is_end_stream`), then encodes the head into
//!    its write buffer (`proto/h1/dispatch.rs`, `poll_write`).
//! 2. In that same poll of the dispatcher task, hyper flushes the buffer through the I/O
//!    (`Dispatcher::poll_loop` runs `poll_write` then `poll_flush`).
//!
//! So [`TracedRequestBody`](crate::TracedRequestBody), asked `is_end_stream`, [`offer`]s its
//! request on this thread, tagged with the current tokio task; the traced I/O, on its next
//! write from that same task, takes it: that request is the one whose head it is about to
//! write. Nothing rides in the request's extensions, so a traced request allocates no
//! extension map for the hand-off.
//!
//! The body also offers when asked `size_hint`, polled or dropped (hyper does one of these
//! before the flush too), so that a body wrapper passing on only some of them does not hide
//! the hand-off. hyper asks again while it streams the body, and other code may ask from
//! other tasks: an offer from another task is never taken, and the connection ignores an
//! offer of a request it already carries.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Weak};

use crate::state::request::RequestState;

thread_local! {
    static OFFERED: RefCell<Option<Offer>> = const { RefCell::new(None) };
    /// `OFFERED` may hold an offer. A value with no destructor: the write of an untraced
    /// request, which nothing offered, reads this alone.
    static MAY_HOLD: Cell<bool> = const { Cell::new(false) };
}

struct Offer {
    task: Option<tokio::task::Id>,
    request: Weak<RequestState>,
}

/// Offers `request` to the next write this task makes (see the module docs).
pub(crate) fn offer(request: &Arc<RequestState>) {
    let offer = Offer {
        task: tokio::task::try_id(),
        request: Arc::downgrade(request),
    };
    OFFERED.with(|o| *o.borrow_mut() = Some(offer));
    MAY_HOLD.set(true);
}

/// The request offered by the current task, if any and if it is still alive.
#[inline]
pub(crate) fn take_offered() -> Option<Arc<RequestState>> {
    if !MAY_HOLD.get() {
        return None;
    }
    take_offer()
}

fn take_offer() -> Option<Arc<RequestState>> {
    OFFERED.with(|o| {
        let mut slot = o.borrow_mut();
        let offer = slot.as_ref()?;
        if offer.task != tokio::task::try_id() {
            return None;
        }
        MAY_HOLD.set(false);
        slot.take().and_then(|offer| offer.request.upgrade())
    })
}

/// Forgets an offer made by the current task (an HTTP/2 connection never takes one).
pub(crate) fn discard_offered() {
    if !MAY_HOLD.get() {
        return;
    }
    OFFERED.with(|o| {
        let mut slot = o.borrow_mut();
        if slot
            .as_ref()
            .is_some_and(|offer| offer.task == tokio::task::try_id())
        {
            *slot = None;
            MAY_HOLD.set(false);
        }
    })
}
