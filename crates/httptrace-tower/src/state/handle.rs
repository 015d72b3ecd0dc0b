//! [`ConnectionHandle`]: a traced connection as requests and responses hold it, and
//! [`OpenStream`], a traced HTTP/2 stream counted open on its connection.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use httptrace::ConnectionInfo;

use crate::state::connection::ConnShared;

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
        thread_local! {
            /// Emptied after each use, but its map and table are kept: reading a handle then
            /// allocates only the box of each extra hyper-util copies in.
            static EXTRAS: std::cell::Cell<http::Extensions> =
                std::cell::Cell::new(http::Extensions::new());
        }
        let mut extras = EXTRAS.take();
        connected.get_extras(&mut extras);
        let handle = extras.remove::<ConnectionHandle>();
        extras.clear();
        EXTRAS.set(extras);
        handle
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

/// Counts a traced stream open on its connection until dropped (the wire tracker sees a
/// stream only once hyper has written it; this covers the moments before).
pub(crate) struct OpenStream {
    conn: ConnectionHandle,
}

impl OpenStream {
    /// A traced stream opens on `conn`; also returns how many were open before it.
    pub(crate) fn open(conn: &ConnectionHandle) -> (Self, usize) {
        let before = conn.shared.h2_traced_open.fetch_add(1, Ordering::AcqRel);
        (OpenStream { conn: conn.clone() }, before)
    }

    /// The stream's connection.
    pub(crate) fn shared(&self) -> Arc<ConnShared> {
        self.conn.shared.clone()
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.conn
            .shared
            .h2_traced_open
            .fetch_sub(1, Ordering::AcqRel);
    }
}
