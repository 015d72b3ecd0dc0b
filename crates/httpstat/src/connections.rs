//! [`Connections`]: what a run learned of the connections it made, from their hooks: where
//! each went, why it closed (`ConnClosed`), and which servers a TLS session was made with,
//! for the "why was it slow" line of the requests after them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use httptrace::{ClientTrace, CloseReason, Event, EventKind};

/// How many connections (closes, sessions) are remembered; the oldest are forgotten first.
const REMEMBERED: usize = 256;

/// Keeps `item` in `record`, forgetting the oldest once [`REMEMBERED`] are kept.
pub(crate) fn remember<T>(record: &mut VecDeque<T>, item: T) {
    if record.len() == REMEMBERED {
        record.pop_front();
    }
    record.push_back(item);
}

struct Known {
    id: u64,
    destination: String,
}

#[derive(Default)]
struct Inner {
    known: VecDeque<Known>,
    /// Connections closed, by id, with why: a close may come before the hop that made the
    /// connection is done.
    closed: VecDeque<(u64, CloseReason)>,
    /// Server names a TLS handshake completed with (a session the client may resume).
    sessions: VecDeque<String>,
}

/// The run's connections (see the module docs).
#[derive(Default)]
pub(crate) struct Connections {
    inner: Mutex<Inner>,
}

/// What was known of a hop's connection when the hop began.
#[derive(Debug, Clone)]
pub(crate) enum Before {
    /// No connection to its destination before this one.
    First,
    /// The last one to its destination had closed, for this reason.
    Closed(CloseReason),
    /// The last one to its destination was still open (busy with another request).
    Open,
}

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A trace that records the close of the connections its requests dial.
    pub(crate) fn trace(self: &Arc<Self>) -> ClientTrace {
        let me = Arc::clone(self);
        ClientTrace::new().on_conn_closed(move |info| {
            let mut inner = me.lock();
            let closed = (info.conn.id.as_u64(), info.reason.clone());
            remember(&mut inner.closed, closed);
        })
    }

    /// A hop to `destination` (its `GetConn`) is over, with `events`: the connection it made
    /// (if any) is noted, with what was known before it of its destination; a completed TLS
    /// handshake's server is noted, with whether a session with that server was already held.
    pub(crate) fn hop_done(
        &self,
        destination: Option<String>,
        events: &[Event],
    ) -> (Option<Before>, bool) {
        let mut inner = self.lock();
        let fresh = events.iter().find_map(|e| match &e.kind {
            EventKind::GotConn(i) if !i.reused => Some(i.conn.id.as_u64()),
            _ => None,
        });
        let before = match (fresh, destination) {
            (Some(id), Some(destination)) => {
                let last = inner
                    .known
                    .iter()
                    .rev()
                    .find(|k| k.destination == destination);
                let before = match last {
                    None => Before::First,
                    Some(k) => inner
                        .closed
                        .iter()
                        .find(|(id, _)| *id == k.id)
                        .map_or(Before::Open, |(_, why)| Before::Closed(why.clone())),
                };
                remember(&mut inner.known, Known { id, destination });
                Some(before)
            }
            _ => None,
        };
        let handshake = events.iter().find_map(|e| match &e.kind {
            EventKind::TlsHandshakeDone(i) if i.err.is_none() => Some(i.state.clone()),
            _ => None,
        });
        let mut not_resumed = false;
        if let Some(name) = handshake.as_ref().and_then(|s| s.server_name.clone()) {
            let held = inner.sessions.contains(&name);
            not_resumed = held && !handshake.as_ref().is_some_and(|s| s.resumed);
            if !held {
                remember(&mut inner.sessions, name);
            }
        }
        (before, not_resumed)
    }
}
