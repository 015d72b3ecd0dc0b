//! Which connection the task being polled serves, learned by construction: a connection's
//! I/O says it was just made (or is writing its preface) in this poll, and
//! [`TraceExecutor`](crate::connect::TraceExecutor) gives that connection to the tasks
//! hyper-util and hyper spawn from it (HTTP/2: the task that opens the connection's streams,
//! the one that drives its socket, and the ones that send request bodies), and puts it in
//! effect around each of their polls. A request body asked by hyper's HTTP/2 task learns
//! its connection there, before its HEADERS are written: nothing to look up, nothing shared
//! between clients.
//!
//! Both thread-locals hold a value lent for one poll: [`MADE`] from the I/O call that set it
//! to the spawns that follow in the same poll (a connection's tasks are spawned in the poll
//! that made it; each executor task's poll starts with it cleared, and the next connection
//! made replaces it), [`SERVING`] for one poll of a connection's task.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use crate::state::connection::ConnShared;

thread_local! {
    /// The connection made, or writing before its first read, in the poll running now.
    static MADE: RefCell<Option<Weak<ConnShared>>> = const { RefCell::new(None) };
    /// The connection whose task is being polled on this thread.
    static SERVING: RefCell<Option<Weak<ConnShared>>> = const { RefCell::new(None) };
}

/// `conn` was made, or writes before its first read, in the poll running now: tasks spawned
/// through a [`TraceExecutor`](crate::connect::TraceExecutor) from here on serve it.
pub(crate) fn made(conn: &Arc<ConnShared>) {
    MADE.with_borrow_mut(|made| {
        if !made
            .as_ref()
            .is_some_and(|m| Weak::ptr_eq(m, &Arc::downgrade(conn)))
        {
            *made = Some(Arc::downgrade(conn));
        }
    });
}

/// The poll that may have made a connection ends: what it made is no longer news.
pub(crate) fn poll_ended() {
    MADE.with_borrow_mut(|made| {
        if made.is_some() {
            *made = None;
        }
    });
}

/// The connection a task spawned now serves: the one made in this poll, else the one the
/// spawning task serves (a request body's task spawned by a connection's task).
pub(crate) fn spawned() -> Option<Weak<ConnShared>> {
    MADE.with_borrow(Clone::clone)
        .or_else(|| SERVING.with_borrow(Clone::clone))
}

/// The connection the task being polled serves, if it was spawned through a
/// [`TraceExecutor`](crate::connect::TraceExecutor) and the connection is still open.
pub(crate) fn connection() -> Option<Arc<ConnShared>> {
    SERVING.with_borrow(|serving| serving.as_ref().and_then(Weak::upgrade))
}

/// Runs `poll` with `conn` as the connection served (none: a task that serves none), and
/// nothing made before it. `conn` is moved into effect and back, not cloned: a connection's
/// tasks are polled often, and a count shared by all of them would be touched each time.
pub(crate) fn serve<R>(conn: &mut Option<Weak<ConnShared>>, poll: impl FnOnce() -> R) -> R {
    poll_ended();
    let previous = SERVING.with_borrow_mut(|serving| std::mem::replace(serving, conn.take()));
    let _restore = Restore { previous, conn };
    poll()
}

/// Puts the task's connection back in its future and the one served before in effect, even
/// if the poll panics.
struct Restore<'a> {
    previous: Option<Weak<ConnShared>>,
    conn: &'a mut Option<Weak<ConnShared>>,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        *self.conn = SERVING.with_borrow_mut(|serving| std::mem::replace(serving, previous));
    }
}
