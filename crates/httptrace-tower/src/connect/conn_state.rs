//! What the layer and the pool know about one traced connection, for its whole life.
//!
//! The traced I/O keeps the counters from what it sees on the wire, so they hold whether or
//! not the requests were traced (a service that traces a sample of its requests still gets
//! exact reuse).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use httptrace::ConnectionInfo;

use crate::request_state::RequestId;

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Orders HTTP/2 stream openings across all connections, so that a request can tell the
/// streams opened before it was handed to a connection from its own (`h2_stream.rs`).
static STREAM_SEQ: AtomicU64 = AtomicU64::new(1);

/// No stream: the largest sequence number.
const NONE: u64 = u64::MAX;

/// How many traced connections' states are alive in this process: a connection's state is
/// freed when the connection is closed and dropped from the pool. Tests use it to prove that
/// nothing leaks; it is also the number of open traced connections.
pub fn live_connection_states() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The sequence number the next HTTP/2 stream to open, on any connection, will get.
pub(crate) fn next_stream_seq() -> u64 {
    STREAM_SEQ.load(Ordering::Acquire)
}

pub(crate) struct ConnShared {
    pub(crate) info: ConnectionInfo,
    /// The request whose connector call made this connection.
    pub(crate) dialed_by: Option<RequestId>,
    pub(crate) established: Instant,
    /// Requests (HTTP/1 exchanges, HTTP/2 streams) carried so far, as seen on the wire.
    pub(crate) served: AtomicU64,
    /// The connection speaks HTTP/2 (ALPN, or the client preface was written).
    pub(crate) http2: AtomicBool,
    /// Traced requests handed to this HTTP/2 connection so far.
    pub(crate) h2_handoffs: AtomicU64,
    /// Traced HTTP/2 streams whose response has not ended yet.
    pub(crate) h2_traced_open: AtomicUsize,
    /// Sequence number of the first HTTP/2 stream opened, or `NONE`.
    first_stream_seq: AtomicU64,
    /// Sequence number of the oldest HTTP/2 stream still open, or `NONE`.
    oldest_open_seq: AtomicU64,
    /// When the connection last went idle (its last open stream ended), in nanoseconds since
    /// `established`.
    idle_since_nanos: AtomicU64,
}

impl ConnShared {
    pub(crate) fn new(info: ConnectionInfo, dialed_by: Option<RequestId>) -> Arc<Self> {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Arc::new(ConnShared {
            info,
            dialed_by,
            established: Instant::now(),
            served: AtomicU64::new(0),
            http2: AtomicBool::new(false),
            h2_handoffs: AtomicU64::new(0),
            h2_traced_open: AtomicUsize::new(0),
            first_stream_seq: AtomicU64::new(NONE),
            oldest_open_seq: AtomicU64::new(NONE),
            idle_since_nanos: AtomicU64::new(0),
        })
    }

    pub(crate) fn is_http2(&self) -> bool {
        self.http2.load(Ordering::Relaxed)
    }

    /// A stream opened on the wire; returns its sequence number.
    pub(crate) fn stream_opened(&self) -> u64 {
        let seq = STREAM_SEQ.fetch_add(1, Ordering::AcqRel);
        self.served.fetch_add(1, Ordering::Relaxed);
        let _ =
            self.first_stream_seq
                .compare_exchange(NONE, seq, Ordering::AcqRel, Ordering::Acquire);
        seq
    }

    /// The oldest open stream is now `oldest` (`None`: the connection went idle now).
    pub(crate) fn set_oldest_open(&self, oldest: Option<u64>) {
        if oldest.is_none() {
            let nanos = self
                .established
                .elapsed()
                .as_nanos()
                .min(u128::from(u64::MAX)) as u64;
            self.idle_since_nanos.store(nanos, Ordering::Relaxed);
        }
        self.oldest_open_seq
            .store(oldest.unwrap_or(NONE), Ordering::Release);
    }

    /// Whether a stream opened before sequence number `seq`.
    pub(crate) fn opened_before(&self, seq: u64) -> bool {
        self.first_stream_seq.load(Ordering::Acquire) < seq
    }

    /// Whether a stream opened before `seq` is still open.
    pub(crate) fn open_from_before(&self, seq: u64) -> bool {
        self.oldest_open_seq.load(Ordering::Acquire) < seq
    }

    /// Since when the connection has carried nothing (its last stream's end, or its start).
    pub(crate) fn idle_since(&self) -> Instant {
        self.established + Duration::from_nanos(self.idle_since_nanos.load(Ordering::Relaxed))
    }
}

impl Drop for ConnShared {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A traced connection, as found in a response's extensions (hyper-util copies the
/// connector's `Connected::extra` there).
///
/// ```no_run
/// # fn f(res: http::Response<()>) {
/// if let Some(conn) = res.extensions().get::<httptrace_tower::ConnectionHandle>() {
///     println!("connection {} to {:?}", conn.info().id, conn.info().remote_addr);
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct ConnectionHandle {
    pub(crate) shared: Arc<ConnShared>,
}

impl ConnectionHandle {
    /// What the connection is.
    pub fn info(&self) -> &ConnectionInfo {
        &self.shared.info
    }

    /// How many requests (HTTP/1 exchanges, HTTP/2 streams) the connection has carried so
    /// far, traced or not.
    pub fn requests_served(&self) -> u64 {
        self.shared.served.load(Ordering::Relaxed)
    }

    /// Whether the connection speaks HTTP/2.
    pub fn is_http2(&self) -> bool {
        self.shared.is_http2()
    }

    /// The handle a connector put in a connection's `Connected`, if it is a traced one.
    pub fn from_connected(
        connected: &hyper_util::client::legacy::connect::Connected,
    ) -> Option<Self> {
        let mut extras = http::Extensions::new();
        connected.get_extras(&mut extras);
        extras.remove::<ConnectionHandle>()
    }
}

impl std::fmt::Debug for ConnectionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionHandle")
            .field("info", &self.shared.info)
            .field("requests_served", &self.requests_served())
            .field("http2", &self.is_http2())
            .finish()
    }
}
