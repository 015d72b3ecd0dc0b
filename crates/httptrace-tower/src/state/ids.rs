//! Request ids: unique in the process, and the one polled on this thread, so that a
//! connection knows which request dialled it.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Identifies a request to the connector, so that a connection knows who dialled it.
pub(crate) type RequestId = u64;

/// A new request id, unique in the process. Each thread reserves a block of them at a time,
/// so that requests on different cores do not all bump one shared counter.
pub(crate) fn next_request_id() -> RequestId {
    const BLOCK: u64 = 1 << 16;
    static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        /// The next id of this thread's block, and the block's end.
        static IDS: Cell<(RequestId, RequestId)> = const { Cell::new((0, 0)) };
    }
    IDS.with(|ids| {
        let (mut next, mut end) = ids.get();
        if next == end {
            next = NEXT_BLOCK.fetch_add(BLOCK, Ordering::Relaxed);
            end = next + BLOCK;
        }
        ids.set((next + 1, end));
        next
    })
}

thread_local! {
    static CURRENT_REQUEST: Cell<Option<RequestId>> = const { Cell::new(None) };
}

/// The request being polled on this thread, if a traced one is.
pub(crate) fn current_request() -> Option<RequestId> {
    if httptrace::in_hook() {
        return None;
    }
    CURRENT_REQUEST.with(Cell::get)
}

/// Restores the request polled before, on drop.
pub(crate) struct EnteredRequest(Option<RequestId>);

impl EnteredRequest {
    /// Request `id` (none: no traced request) is polled on this thread until the drop.
    pub(crate) fn enter(id: Option<RequestId>) -> Self {
        EnteredRequest(CURRENT_REQUEST.with(|c| c.replace(id)))
    }
}

impl Drop for EnteredRequest {
    fn drop(&mut self) {
        CURRENT_REQUEST.with(|c| c.set(self.0));
    }
}
