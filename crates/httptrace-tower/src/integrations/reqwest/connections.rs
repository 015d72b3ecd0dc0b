//! The connector layer [`ReqwestTrace`](crate::ReqwestTrace) installs: it notes each
//! connection reqwest makes, by its two addresses, so that a request's `GotConn` can tell its
//! first use from a reuse.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use httptrace::ConnectionId;
use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

/// How many connections are remembered (by local and remote address) to tell a first use
/// from a reuse; the oldest are forgotten first.
const REMEMBERED: usize = 4096;

/// The connections the connector layer saw made, by their two addresses: one local port may
/// serve connections to two servers at once.
#[derive(Debug, Default)]
pub(crate) struct Conns {
    by_addrs: HashMap<ConnAddrs, Seen>,
    order: VecDeque<ConnAddrs>,
}

/// A connection's local and remote addresses.
type ConnAddrs = (SocketAddr, SocketAddr);

#[derive(Debug, Clone, Copy)]
struct Seen {
    id: ConnectionId,
    used: bool,
}

impl Conns {
    pub(crate) fn made(&mut self, addrs: ConnAddrs) {
        let fresh = Seen {
            id: ConnectionId::next(),
            used: false,
        };
        if self.by_addrs.insert(addrs, fresh).is_none() {
            self.order.push_back(addrs);
        }
        while self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.by_addrs.remove(&old);
            }
        }
    }

    /// The connection's id, and whether a request used it before.
    pub(crate) fn used(&mut self, addrs: ConnAddrs) -> (ConnectionId, bool) {
        match self.by_addrs.get_mut(&addrs) {
            Some(seen) => (seen.id, std::mem::replace(&mut seen.used, true)),
            // Made before the layer was installed, or forgotten: nothing is known.
            None => (ConnectionId::next(), false),
        }
    }
}

/// The layer around reqwest's connector: it notes each connection made, so that its first
/// use can be told from a reuse.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionsLayer {
    pub(crate) conns: Arc<Mutex<Conns>>,
}

impl<S> Layer<S> for ConnectionsLayer {
    type Service = NoteConnections<S>;

    fn layer(&self, inner: S) -> NoteConnections<S> {
        NoteConnections {
            inner,
            conns: self.conns.clone(),
        }
    }
}

/// The service of the connections layer.
#[derive(Debug, Clone)]
pub(crate) struct NoteConnections<S> {
    inner: S,
    conns: Arc<Mutex<Conns>>,
}

impl<S, R> Service<R> for NoteConnections<S>
where
    S: Service<R>,
    S::Response: Connection,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Noting<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, dst: R) -> Self::Future {
        Noting {
            inner: self.inner.call(dst),
            conns: self.conns.clone(),
        }
    }
}

pin_project! {
    pub(crate) struct Noting<F> {
        #[pin]
        inner: F,
        conns: Arc<Mutex<Conns>>,
    }
}

impl<F, C, E> Future for Noting<F>
where
    F: Future<Output = Result<C, E>>,
    C: Connection,
{
    type Output = Result<C, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let conn = ready!(this.inner.poll(cx))?;
        let mut extras = http::Extensions::new();
        conn.connected().get_extras(&mut extras);
        if let Some(info) = extras.get::<HttpInfo>() {
            this.conns
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .made((info.local_addr(), info.remote_addr()));
        }
        Poll::Ready(Ok(conn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_local_port_serving_two_servers_is_two_connections() {
        let local: SocketAddr = "127.0.0.1:50000".parse().unwrap();
        let (a, b): (SocketAddr, SocketAddr) = (
            "127.0.0.2:80".parse().unwrap(),
            "127.0.0.3:80".parse().unwrap(),
        );
        let mut conns = Conns::default();
        conns.made((local, a));
        conns.made((local, b));
        let (first_a, reused_a) = conns.used((local, a));
        let (first_b, reused_b) = conns.used((local, b));
        assert_ne!(first_a, first_b);
        assert!(!reused_a && !reused_b, "each is a first use");
        assert_eq!(conns.used((local, a)), (first_a, true));
    }
}
