//! Which HTTP/2 connection a hyper client task serves, so that a stream finds its connection
//! without hyper-util's `capture_connection` (its watch channel, extension and copy of
//! `Connected`: eight allocations a stream).
//!
//! hyper runs one client task per HTTP/2 connection: it takes each request off the
//! connection's queue, asks its body `size_hint` and `is_end_stream`, opens the stream, then
//! polls or drops the body (`h2_stream.rs`). A body that knows its connection (a captured
//! request) teaches this registry that task's id; later bodies, asked and dropped by the same
//! task, learn their connection from it. A request is sent without a capture only when every
//! HTTP/2 connection to its `host:port` is known here and none has received GOAWAY (then
//! hyper-util may send it again elsewhere, which only the capture shows), or when every
//! connection to it speaks HTTP/1 (ALPN said so), which the HTTP/1 hand-off names.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};

use tokio::task::Id;

use crate::state::connection::ConnShared;

/// The open connections of each `host:port`, and which task serves each HTTP/2 one. Held
/// strongly while each connection's I/O lives ([`Registered`]); never dropped under the lock
/// (a connection's state reports its close from its drop).
#[derive(Default)]
struct Registry {
    by_destination: HashMap<String, Vec<Arc<ConnShared>>>,
    by_task: HashMap<Id, Arc<ConnShared>>,
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// How many tasks a thread remembers without asking the registry.
const CACHED: usize = 8;

thread_local! {
    static CACHE: RefCell<Vec<(Id, Weak<ConnShared>)>> = const { RefCell::new(Vec::new()) };
    /// The last destination a request asked about on this thread, at which generation, and
    /// the answer: a client talks to one destination most of the time.
    static LAST: RefCell<(String, u64, Destination)> =
        const { RefCell::new((String::new(), 0, Destination::Unknown)) };
}

/// Changes whenever what [`destination`] answers may change: a connection registered,
/// learned, going away or closed.
static GENERATION: AtomicU64 = AtomicU64::new(1);

/// Something [`destination`] reads changed.
pub(crate) fn changed() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// An open connection in the registry, until this is dropped (with its I/O).
pub(crate) struct Registered(Arc<ConnShared>);

impl Registered {
    /// Registers `conn` into `slot` the first time its protocol is `known`.
    pub(crate) fn once(known: bool, conn: &Arc<ConnShared>, slot: &mut Option<Option<Self>>) {
        if known && slot.is_none() {
            *slot = Some(Self::new(conn));
        }
    }

    /// `conn` knows its protocol (it spoke, or ALPN chose HTTP/2); an HTTP/2 one makes
    /// requests to its destination need a capture until its task is known.
    pub(crate) fn new(conn: &Arc<ConnShared>) -> Option<Self> {
        if conn.destination.is_empty() {
            return None;
        }
        registry()
            .by_destination
            .entry(conn.destination.clone())
            .or_default()
            .push(conn.clone());
        conn.registered.store(true, Ordering::Release);
        changed();
        Some(Registered(conn.clone()))
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let conn = &self.0;
        conn.registered.store(false, Ordering::Release);
        let (by_task, by_destination) = {
            let mut registry = registry();
            // Its task's entry, if it is still this connection's.
            let by_task = conn.client_task.get().and_then(|task| {
                let own = registry
                    .by_task
                    .get(task)
                    .is_some_and(|c| Arc::ptr_eq(c, conn));
                own.then(|| registry.by_task.remove(task)).flatten()
            });
            let mut removed = None;
            if let Some(conns) = registry.by_destination.get_mut(&conn.destination) {
                if let Some(at) = conns.iter().position(|c| Arc::ptr_eq(c, conn)) {
                    removed = Some(conns.swap_remove(at));
                }
                if conns.is_empty() {
                    registry.by_destination.remove(&conn.destination);
                }
            }
            (by_task, removed)
        };
        changed();
        // Dropped here, the lock released.
        drop((by_task, by_destination));
    }
}

/// Task `task` is `conn`'s client task (a captured request's body was taken there). Not
/// learned from a connection going away: hyper-util may have sent the request on another
/// connection since the capture named this one.
pub(crate) fn learned(task: Id, conn: &Arc<ConnShared>) {
    if conn.going_away() || conn.client_task.set(task).is_err() {
        return;
    }
    let replaced = {
        let mut registry = registry();
        // Only while the connection is open (registered).
        let open = registry
            .by_destination
            .get(&conn.destination)
            .is_some_and(|conns| conns.iter().any(|c| Arc::ptr_eq(c, conn)));
        open.then(|| registry.by_task.insert(task, conn.clone()))
    };
    changed();
    // Dropped here, the lock released.
    drop(replaced);
}

/// The connection task `task` serves, if known.
pub(crate) fn connection_of(task: Id) -> Option<Arc<ConnShared>> {
    let cached = CACHE.with_borrow(|cache| {
        cache
            .iter()
            .find(|(t, _)| *t == task)
            .map(|(_, conn)| conn.upgrade())
    });
    match cached {
        // A task id may serve again once its task ended: only an open connection counts.
        Some(Some(conn)) if conn.registered.load(Ordering::Acquire) => return Some(conn),
        Some(_) => CACHE.with_borrow_mut(|cache| cache.retain(|(t, _)| *t != task)),
        None => {}
    }
    let conn = registry().by_task.get(&task).cloned()?;
    CACHE.with_borrow_mut(|cache| {
        if cache.len() == CACHED {
            cache.remove(0);
        }
        cache.push((task, Arc::downgrade(&conn)));
    });
    Some(conn)
}

/// What the open connections to a destination say of where its next request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination {
    /// None open, a mix, a task not known yet, or one going away: capture.
    Unknown,
    /// HTTP/1 connections only (ALPN said so): the request is an HTTP/1 exchange, which
    /// the hand-off names (`handoff.rs`).
    Http1,
    /// HTTP/2 connections only, each with its task known and none going away.
    Http2,
}

/// Where a request to `destination` goes (see [`Destination`]).
pub(crate) fn destination(destination: &str) -> Destination {
    let generation = GENERATION.load(Ordering::Acquire);
    let cached = LAST.with_borrow(|(last, at, answer)| {
        (*at == generation && last == destination).then_some(*answer)
    });
    if let Some(answer) = cached {
        return answer;
    }
    let answer = ask(destination);
    LAST.with_borrow_mut(|last| {
        last.0.clear();
        last.0.push_str(destination);
        last.1 = generation;
        last.2 = answer;
    });
    answer
}

fn ask(destination: &str) -> Destination {
    let registry = registry();
    let Some(conns) = registry.by_destination.get(destination) else {
        return Destination::Unknown;
    };
    let http2 = conns.iter().filter(|c| c.is_http2()).count();
    if http2 == 0 {
        Destination::Http1
    } else if http2 == conns.len()
        && conns
            .iter()
            .all(|c| c.client_task.get().is_some() && !c.going_away())
    {
        Destination::Http2
    } else {
        Destination::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::connection::tests::watched;

    fn connection_to(destination: &str, http2: bool) -> Arc<ConnShared> {
        let (mut conn, _, _) = watched();
        let fresh = Arc::get_mut(&mut conn).expect("fresh");
        fresh.destination = destination.to_owned();
        fresh.http2.store(http2, Ordering::Relaxed);
        conn
    }

    async fn a_task_id() -> Id {
        tokio::spawn(async {}).id()
    }

    /// A destination needs a capture until each of its HTTP/2 connections has a known task
    /// and none goes away; HTTP/1 ones need none; a closed connection leaves nothing behind,
    /// not even the entry of a task another connection has learned since.
    #[tokio::test]
    async fn a_destination_is_named_by_tasks_only_when_each_of_its_connections_is_known() {
        let dest = "registry.test:1";
        assert_eq!(destination(dest), Destination::Unknown, "nothing open");
        let h1 = Registered::new(&connection_to(dest, false)).unwrap();
        assert_eq!(destination(dest), Destination::Http1);
        let conn = connection_to(dest, true);
        let h2 = Registered::new(&conn).unwrap();
        assert_eq!(destination(dest), Destination::Unknown, "a mix");
        drop(h1);
        assert_eq!(
            destination(dest),
            Destination::Unknown,
            "its task not known"
        );
        let task = a_task_id().await;
        learned(task, &conn);
        assert_eq!(destination(dest), Destination::Http2);
        assert!(Arc::ptr_eq(&connection_of(task).unwrap(), &conn));

        // Another connection learns the same task id (a task id may serve again once its
        // task ended): the first one's close leaves the second's entry alone.
        let other = connection_to("registry.test:2", true);
        let other_registered = Registered::new(&other).unwrap();
        learned(task, &other);
        drop(h2);
        assert_eq!(destination(dest), Destination::Unknown, "closed");
        assert!(Arc::ptr_eq(&connection_of(task).unwrap(), &other));
        drop(other_registered);
        assert!(connection_of(task).is_none(), "closed, and cached nowhere");
    }

    #[tokio::test]
    async fn nothing_is_learned_from_a_connection_going_away() {
        let conn = connection_to("registry.test:3", true);
        let _registered = Registered::new(&conn).unwrap();
        conn.goaway_received(crate::wire::http2_frames::GoAway {
            last_stream_id: 0,
            code: 0,
            debug_data: Vec::new(),
            cut: Vec::new(),
        });
        let task = a_task_id().await;
        learned(task, &conn);
        assert!(connection_of(task).is_none());
        assert_eq!(destination("registry.test:3"), Destination::Unknown);
    }
}
