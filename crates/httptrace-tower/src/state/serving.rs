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
//! that made it; each executor task's poll that may spawn starts with it cleared, and the
//! next connection made replaces it), [`SERVING`] for one poll of a connection's task.

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Weak};

use crate::state::connection::ConnShared;

thread_local! {
    /// The connection made, or writing before its first read, in the poll running now.
    static MADE: RefCell<Option<Weak<ConnShared>>> = const { RefCell::new(None) };
    /// The connection whose task is being polled on this thread.
    static SERVING: RefCell<Option<Weak<ConnShared>>> = const { RefCell::new(None) };
    /// The connection served in this poll turned out to speak HTTP/1 (see [`speaks_http1`]).
    static SETTLED_HTTP1: Cell<bool> = const { Cell::new(false) };
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

/// What a task spawned through a [`TraceExecutor`](crate::connect::TraceExecutor) serves:
/// nothing (a task of hyper-util's own: a background connect, a wait for an HTTP/1
/// connection to be ready again), a connection (put in effect around each poll), or an
/// HTTP/1 connection, once its I/O spoke HTTP/1 (its task spawns nothing, and its request
/// learns the connection from the I/O: its polls are left alone). One word, as every task's
/// future carries it: the settled HTTP/1 task holds the empty `Weak`, which is no
/// connection's.
pub(crate) struct Serves(Option<Weak<ConnShared>>);

impl Serves {
    fn settled_http1() -> Self {
        Serves(Some(Weak::new()))
    }

    /// The task puts a connection in effect when polled.
    pub(crate) fn a_connection(&self) -> bool {
        matches!(&self.0, Some(conn) if !conn.ptr_eq(&Weak::new()))
    }
}

/// What a task spawned now serves: the connection made in this poll, else the one the
/// spawning task serves (a request body's task spawned by a connection's task).
pub(crate) fn spawned() -> Serves {
    Serves(
        MADE.with_borrow(Clone::clone)
            .or_else(|| SERVING.with_borrow(Clone::clone)),
    )
}

/// The connection the task being polled serves, if it was spawned through a
/// [`TraceExecutor`](crate::connect::TraceExecutor) and the connection is still open.
pub(crate) fn connection() -> Option<Arc<ConnShared>> {
    SERVING.with_borrow(|serving| serving.as_ref().and_then(Weak::upgrade))
}

/// `conn`, whose I/O is writing, speaks HTTP/1: if it is the connection served in this poll,
/// its task stops putting it in effect after the poll. An HTTP/1 request learns its
/// connection from the connection's I/O (`handoff.rs`), not from the task; only the task's
/// first poll that writes, where hyper asks the first request's body, tells the layer that
/// its client spawns through a `TraceExecutor`.
pub(crate) fn speaks_http1(conn: &Arc<ConnShared>) {
    let served_here = SERVING.with_borrow(|serving| {
        serving
            .as_ref()
            .is_some_and(|s| std::ptr::eq(s.as_ptr(), Arc::as_ptr(conn)))
    });
    if served_here {
        SETTLED_HTTP1.set(true);
    }
}

/// Runs `poll` with the connection the task serves in effect, and nothing made before it.
/// The connection is moved into effect and back, not cloned: a connection's tasks are
/// polled often, and a count shared by all of them would be touched each time.
///
/// A task that serves no connection is polled with nothing more than the clearing of
/// [`MADE`]: the connection served is already none, since every task's poll puts back what
/// it found (an executor that polls one spawned task inside another's poll would show the
/// outer task's connection to the inner one). An HTTP/1 connection's task, once settled,
/// is polled as it is: it spawns nothing that could take a connection made elsewhere.
#[inline]
pub(crate) fn serve<R>(serves: &mut Serves, poll: impl FnOnce() -> R) -> R {
    let Some(conn) = &mut serves.0 else {
        poll_ended();
        return poll();
    };
    if conn.ptr_eq(&Weak::new()) {
        return poll(); // a settled HTTP/1 connection's task
    }
    poll_ended();
    let conn = std::mem::replace(conn, Weak::new());
    let previous = SERVING.with_borrow_mut(|serving| serving.replace(conn));
    let _restore = Restore { previous, serves };
    poll()
}

/// Puts the task's connection back in its future and the one served before in effect, even
/// if the poll panics.
struct Restore<'a> {
    previous: Option<Weak<ConnShared>>,
    serves: &'a mut Serves,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let served = SERVING.with_borrow_mut(|serving| std::mem::replace(serving, previous));
        *self.serves = if SETTLED_HTTP1.replace(false) {
            Serves::settled_http1()
        } else {
            Serves(served)
        };
    }
}
