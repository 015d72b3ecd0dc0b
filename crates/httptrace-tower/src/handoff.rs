//! How a request meets the HTTP/1 connection that writes it.
//!
//! hyper-util calls the connector with a `Uri` and hyper writes the request from the
//! connection's own task, so nothing tells the connection's I/O which request it carries.
//! Two facts of hyper 1.x close the gap exactly (ARCHITECTURE.md, "Attribution"):
//!
//! 1. The request's extensions travel with its head into the connection's dispatcher task and
//!    are dropped there, inside `Conn::encode_head`, right after the head is encoded into
//!    hyper's write buffer (`proto/h1/conn.rs`).
//! 2. In that same poll of the dispatcher task, hyper flushes the buffer through the I/O
//!    (`Dispatcher::poll_loop` runs `poll_write` then `poll_flush`).
//!
//! So a [`HeadMarker`] in the request's extensions, when dropped, leaves the request on this
//! thread tagged with the current tokio task; the traced I/O, on its next write from that
//! same task, takes it: that request is the one whose head it is about to write.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use crate::request_state::RequestState;

thread_local! {
    static OFFERED: RefCell<Option<Offer>> = const { RefCell::new(None) };
}

struct Offer {
    task: Option<tokio::task::Id>,
    request: Weak<RequestState>,
}

/// Rides in the request's extensions; see the module docs.
#[derive(Clone)]
pub(crate) struct HeadMarker(pub(crate) Arc<RequestState>);

impl Drop for HeadMarker {
    fn drop(&mut self) {
        let offer = Offer {
            task: tokio::task::try_id(),
            request: Arc::downgrade(&self.0),
        };
        OFFERED.with(|o| *o.borrow_mut() = Some(offer));
    }
}

/// The request whose head was encoded by the current task, if any and if it is still alive.
pub(crate) fn take_offered() -> Option<Arc<RequestState>> {
    OFFERED.with(|o| {
        let mut slot = o.borrow_mut();
        let offer = slot.as_ref()?;
        if offer.task != tokio::task::try_id() {
            return None;
        }
        slot.take().and_then(|offer| offer.request.upgrade())
    })
}

/// Forgets an offer made by the current task (an HTTP/2 connection never takes one).
pub(crate) fn discard_offered() {
    OFFERED.with(|o| {
        let mut slot = o.borrow_mut();
        if slot
            .as_ref()
            .is_some_and(|offer| offer.task == tokio::task::try_id())
        {
            *slot = None;
        }
    })
}
