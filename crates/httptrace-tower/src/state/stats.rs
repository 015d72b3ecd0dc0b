//! [`ConnectionStats`]: what one client's connector stack knows of its connections, per
//! destination, owned by the connector and its clones (never by the process), and read as a
//! cheap snapshot.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use httptrace::CloseReason;

/// One client's connection counters, per destination (`host:port`). Cheap to clone: clones
/// share the counters. A [`TraceConnector`](crate::TraceConnector) keeps one
/// ([`TraceConnector::stats`](crate::TraceConnector::stats)); the ready-made clients give it
/// through [`HttpTrace::stats`](crate::HttpTrace::stats).
///
/// A destination is listed while a connection to it is open or being dialled, and forgotten
/// once none is: memory stays bounded by the connections the client holds, whatever the
/// number of hosts it has talked to. Counts are since the destination was last listed.
#[derive(Debug, Clone, Default)]
pub struct ConnectionStats {
    destinations: Arc<Mutex<HashMap<String, Arc<Counters>>>>,
}

/// The counters of one destination.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    dialing: AtomicU64,
    open: AtomicU64,
    http2_open: AtomicU64,
    http2_active: AtomicU64,
    http2_streams_open: AtomicU64,
    http2_streams_waiting: AtomicU64,
    dials_made: AtomicU64,
    dials_failed: AtomicU64,
    requests: AtomicU64,
    reused: AtomicU64,
    closed: [AtomicU64; CLOSE_REASONS],
}

const CLOSE_REASONS: usize = 8;

fn close_index(reason: &CloseReason) -> usize {
    match reason {
        CloseReason::ServerClosed => 0,
        CloseReason::IdleTimeout => 1,
        CloseReason::Error(_) => 2,
        CloseReason::PoolShutdown => 3,
        CloseReason::DroppedUnreadBody => 4,
        CloseReason::NotReusable => 5,
        _ => 6,
    }
}

/// Where a close nobody explained is counted (see [`ClosedBy::unexplained`]).
const UNEXPLAINED: usize = 7;

impl ConnectionStats {
    /// A dial to `destination` starts: its counters, listed until the dial and the
    /// connection it makes are over.
    pub(crate) fn dialing(&self, destination: &str) -> Option<Arc<Counters>> {
        if destination.is_empty() {
            return None;
        }
        let mut destinations = self.lock();
        let counters = match destinations.get(destination) {
            Some(counters) => counters.clone(),
            None => {
                let counters = Arc::new(Counters::default());
                destinations.insert(destination.to_owned(), counters.clone());
                counters
            }
        };
        counters.dialing.fetch_add(1, Ordering::Relaxed);
        Some(counters)
    }

    /// The dial to `destination` ended: `made` a connection (now open), or failed.
    pub(crate) fn dialed(&self, destination: &str, counters: &Arc<Counters>, made: bool) {
        if made {
            counters.open.fetch_add(1, Ordering::Relaxed);
            counters.dials_made.fetch_add(1, Ordering::Relaxed);
        } else {
            counters.dials_failed.fetch_add(1, Ordering::Relaxed);
        }
        counters.dialing.fetch_sub(1, Ordering::Relaxed);
        self.forget_if_unused(destination, counters);
    }

    /// A connection to `destination` closed, for `reason` if known.
    pub(crate) fn closed(
        &self,
        destination: &str,
        counters: &Arc<Counters>,
        reason: Option<&CloseReason>,
    ) {
        let at = reason.map_or(UNEXPLAINED, close_index);
        counters.closed[at].fetch_add(1, Ordering::Relaxed);
        self.released(destination, counters);
    }

    /// A connection to `destination` is no longer watched (its I/O was unwrapped): not
    /// counted open any more, its close unknown.
    pub(crate) fn released(&self, destination: &str, counters: &Arc<Counters>) {
        counters.open.fetch_sub(1, Ordering::Relaxed);
        self.forget_if_unused(destination, counters);
    }

    fn forget_if_unused(&self, destination: &str, counters: &Arc<Counters>) {
        let mut destinations = self.lock();
        let unused = counters.open.load(Ordering::Relaxed) == 0
            && counters.dialing.load(Ordering::Relaxed) == 0;
        // Only this entry: the destination may have been forgotten and listed anew since.
        if unused
            && destinations
                .get(destination)
                .is_some_and(|c| Arc::ptr_eq(c, counters))
        {
            destinations.remove(destination);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Counters>>> {
        self.destinations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What each destination's counters say now, by destination.
    pub fn snapshot(&self) -> Vec<DestinationStats> {
        let destinations = self.lock();
        let mut all: Vec<DestinationStats> = destinations
            .iter()
            .map(|(destination, c)| {
                let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
                let closed = &c.closed;
                DestinationStats {
                    destination: destination.clone(),
                    open: n(&c.open),
                    http2_open: n(&c.http2_open),
                    http2_active: n(&c.http2_active),
                    http2_streams_open: n(&c.http2_streams_open),
                    http2_streams_waiting: n(&c.http2_streams_waiting),
                    dialing: n(&c.dialing),
                    dials_made: n(&c.dials_made),
                    dials_failed: n(&c.dials_failed),
                    requests: n(&c.requests),
                    reused: n(&c.reused),
                    closed: ClosedBy {
                        server: n(&closed[0]),
                        idle_timeout: n(&closed[1]),
                        error: n(&closed[2]),
                        pool_shutdown: n(&closed[3]),
                        dropped_unread_body: n(&closed[4]),
                        not_reusable: n(&closed[5]),
                        abandoned: n(&closed[6]),
                        unexplained: n(&closed[UNEXPLAINED]),
                    },
                }
            })
            .collect();
        all.sort_by(|a, b| a.destination.cmp(&b.destination));
        all
    }
}

impl Counters {
    /// The connection carried a request (an HTTP/1 exchange, an HTTP/2 stream), its first
    /// or not.
    pub(crate) fn request(&self, reused: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if reused {
            self.reused.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The connection turned out to speak HTTP/2.
    pub(crate) fn speaks_http2(&self) {
        self.http2_open.fetch_add(1, Ordering::Relaxed);
    }

    /// An HTTP/2 connection's open streams went from `before` to `after`.
    pub(crate) fn streams(&self, before: usize, after: usize) {
        let (before, after) = (before as u64, after as u64);
        if after > before {
            self.http2_streams_open
                .fetch_add(after - before, Ordering::Relaxed);
        } else {
            self.http2_streams_open
                .fetch_sub(before - after, Ordering::Relaxed);
        }
        match (before, after) {
            (0, 1..) => {
                self.http2_active.fetch_add(1, Ordering::Relaxed);
            }
            (1.., 0) => {
                self.http2_active.fetch_sub(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }

    /// A traced request's stream starts (`true`) or stops (`false`) waiting for its place.
    pub(crate) fn stream_waiting(&self, waiting: bool) {
        if waiting {
            self.http2_streams_waiting.fetch_add(1, Ordering::Relaxed);
        } else {
            self.http2_streams_waiting.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// An HTTP/2 connection closes: it and its streams are no longer open.
    pub(crate) fn http2_closed(&self, streams_open: usize) {
        self.streams(streams_open, 0);
        self.http2_open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One destination's connections, as [`ConnectionStats::snapshot`] reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DestinationStats {
    /// `host:port`, as `GetConn` names it.
    pub destination: String,
    /// Connections open (their I/O alive, idle or not).
    pub open: u64,
    /// Of those, the ones that speak HTTP/2.
    pub http2_open: u64,
    /// HTTP/2 connections with a stream open (the others are idle). hyper-util does not tell
    /// when it takes an HTTP/1 connection from its pool or puts it back, and the wire shows
    /// when a request starts, not when its response ends: HTTP/1 connections are counted
    /// open, not split.
    pub http2_active: u64,
    /// HTTP/2 streams open, from the frames both sides sent.
    pub http2_streams_open: u64,
    /// Traced requests handed to an HTTP/2 connection whose stream waits for a place under
    /// the server's `SETTINGS_MAX_CONCURRENT_STREAMS` (from `GotConn` to `Http2StreamOpened`).
    /// An untraced request's wait happens inside h2, out of sight: it is not counted.
    pub http2_streams_waiting: u64,
    /// Dials under way.
    pub dialing: u64,
    /// Dials that made a connection.
    pub dials_made: u64,
    /// Dials that failed (lookup, connect or TLS).
    pub dials_failed: u64,
    /// Requests the connections carried (HTTP/1 exchanges, HTTP/2 streams), traced or not.
    pub requests: u64,
    /// Of those, the ones on a connection that had carried one before.
    pub reused: u64,
    /// Connections closed, by why.
    pub closed: ClosedBy,
}

impl DestinationStats {
    /// The share of requests on a reused connection, from 0 to 1; `None` before any.
    pub fn reuse_ratio(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.reused as f64 / self.requests as f64)
    }
}

/// Connections closed, by [`CloseReason`]. Where no `ConnClosed` hook hears of a
/// connection, the layer does not work out how its exchanges ended (that costs every
/// request): its close is put down to what the I/O saw (an error, the server's end of
/// stream, the client gone, HTTP/2 streams still open), else counted
/// [`unexplained`](Self::unexplained).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClosedBy {
    /// [`CloseReason::ServerClosed`].
    pub server: u64,
    /// [`CloseReason::IdleTimeout`].
    pub idle_timeout: u64,
    /// [`CloseReason::Error`].
    pub error: u64,
    /// [`CloseReason::PoolShutdown`].
    pub pool_shutdown: u64,
    /// [`CloseReason::DroppedUnreadBody`].
    pub dropped_unread_body: u64,
    /// [`CloseReason::NotReusable`].
    pub not_reusable: u64,
    /// [`CloseReason::Abandoned`].
    pub abandoned: u64,
    /// Closed with no sign of why, on a connection no `ConnClosed` hook hears of (the idle
    /// timeout, `Connection: close`, a dropped body, ... cannot be told apart there).
    pub unexplained: u64,
}
