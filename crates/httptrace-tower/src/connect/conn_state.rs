//! What the layer and the pool know about one traced connection, for its whole life.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use httptrace::ConnectionInfo;

use crate::request_state::RequestId;

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many traced connections' states are alive in this process: a connection's state is
/// freed when the connection is closed and dropped from the pool. Tests use it to prove that
/// nothing leaks; it is also the number of open traced connections.
pub fn live_connection_states() -> usize {
    LIVE.load(Ordering::Relaxed)
}

pub(crate) struct ConnShared {
    pub(crate) info: ConnectionInfo,
    /// The request whose connector call made this connection.
    pub(crate) dialed_by: Option<RequestId>,
    pub(crate) established: Instant,
    /// Requests handed this connection so far.
    pub(crate) served: AtomicU64,
}

impl ConnShared {
    pub(crate) fn new(info: ConnectionInfo, dialed_by: Option<RequestId>) -> Arc<Self> {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Arc::new(ConnShared {
            info,
            dialed_by,
            established: Instant::now(),
            served: AtomicU64::new(0),
        })
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

    /// How many requests have been handed this connection, this one included.
    pub fn requests_served(&self) -> u64 {
        self.shared.served.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for ConnectionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionHandle")
            .field("info", &self.shared.info)
            .field("requests_served", &self.requests_served())
            .finish()
    }
}
