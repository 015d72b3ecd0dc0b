//! The connector layer [`ReqwestTrace`](crate::ReqwestTrace) installs: it notes each
//! connection reqwest makes, by its two addresses, so that a request's `GotConn` can tell its
//! first use from a reuse.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use httptrace::instrument::current_holder;
use httptrace::{ConnectionId, ConnectionInfo, GotConnInfo};

use crate::dial::RequestDial;
use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

/// How many connections are remembered before the first sweep of those idle too long.
const SWEEP_FROM: usize = 4096;

/// How long reqwest's pool keeps an idle connection by default (hyper-util's 90 s).
pub(crate) const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// The connections the connector layer saw made, by their two addresses (one local port may
/// serve connections to two servers at once). reqwest's pool closes a connection idle past
/// its idle timeout, and the layer cannot see it close (reqwest's connection type is its
/// own): a connection is forgotten once it has gone unused for longer than that timeout,
/// never for being old. Memory stays bounded by the connections used within one timeout
/// (twice that at most, between sweeps).
#[derive(Debug)]
pub(crate) struct Conns {
    by_addrs: HashMap<ConnAddrs, Seen>,
    /// The pool's idle timeout: unused for longer, a connection is closed.
    idle_timeout: Duration,
    /// The size at which idle ones are swept next.
    sweep_at: usize,
}

impl Default for Conns {
    fn default() -> Self {
        Self::with_idle_timeout(POOL_IDLE_TIMEOUT)
    }
}

/// A connection's local and remote addresses.
type ConnAddrs = (SocketAddr, SocketAddr);

#[derive(Debug, Clone, Copy)]
struct Seen {
    id: ConnectionId,
    used: bool,
    /// When it was made or last carried a request.
    last: Instant,
}

impl Conns {
    pub(crate) fn with_idle_timeout(idle_timeout: Duration) -> Self {
        Conns {
            by_addrs: HashMap::new(),
            idle_timeout,
            sweep_at: SWEEP_FROM,
        }
    }

    pub(crate) fn made(&mut self, addrs: ConnAddrs) {
        self.made_at(addrs, Instant::now());
    }

    /// A connection was made for a request that has it now: its id, counted used.
    pub(crate) fn made_and_used(&mut self, addrs: ConnAddrs) -> ConnectionId {
        let now = Instant::now();
        self.made_at(addrs, now);
        self.used_at(addrs, now).0
    }

    fn made_at(&mut self, addrs: ConnAddrs, now: Instant) {
        let fresh = Seen {
            id: ConnectionId::next(),
            used: false,
            last: now,
        };
        // A connection with the same addresses as one remembered: that one has closed.
        self.by_addrs.insert(addrs, fresh);
        if self.by_addrs.len() >= self.sweep_at {
            let timeout = self.idle_timeout;
            self.by_addrs
                .retain(|_, seen| now.saturating_duration_since(seen.last) <= timeout);
            self.sweep_at = (self.by_addrs.len() * 2).max(SWEEP_FROM);
        }
    }

    /// The connection's id, and whether a request used it before.
    pub(crate) fn used(&mut self, addrs: ConnAddrs) -> (ConnectionId, bool) {
        self.used_at(addrs, Instant::now())
    }

    fn used_at(&mut self, addrs: ConnAddrs, now: Instant) -> (ConnectionId, bool) {
        match self.by_addrs.get_mut(&addrs) {
            Some(seen) => {
                seen.last = now;
                (seen.id, std::mem::replace(&mut seen.used, true))
            }
            // Made before the layer was installed, or forgotten: nothing is known.
            None => (ConnectionId::next(), false),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_addrs.len()
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
    S::Error: std::ops::Deref<Target = dyn std::error::Error + Send + Sync>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Noting<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, dst: R) -> Self::Future {
        // The request whose poll calls the connector: its dial starts.
        let dial = current_holder::<RequestDial>();
        if let Some(dial) = &dial {
            dial.dial_started();
        }
        Noting {
            inner: self.inner.call(dst),
            conns: self.conns.clone(),
            dial,
        }
    }
}

pin_project! {
    pub(crate) struct Noting<F> {
        #[pin]
        inner: F,
        conns: Arc<Mutex<Conns>>,
        // The request the dial is for, if a traced one.
        dial: Option<Arc<RequestDial>>,
    }
}

impl<F, C, E> Future for Noting<F>
where
    F: Future<Output = Result<C, E>>,
    C: Connection,
    E: std::ops::Deref<Target = dyn std::error::Error + Send + Sync>,
{
    type Output = Result<C, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let conn = match ready!(this.inner.poll(cx)) {
            Ok(conn) => conn,
            Err(err) => {
                if let Some(dial) = this.dial.take() {
                    dial.failed(&*err);
                }
                return Poll::Ready(Err(err));
            }
        };
        let connected = conn.connected();
        let mut extras = http::Extensions::new();
        connected.get_extras(&mut extras);
        let Some(info) = extras.get::<HttpInfo>() else {
            return Poll::Ready(Ok(conn));
        };
        let (local, remote) = (info.local_addr(), info.remote_addr());
        let mut conns = this.conns.lock().unwrap_or_else(|e| e.into_inner());
        let Some(dial) = this.dial.take() else {
            conns.made((local, remote));
            return Poll::Ready(Ok(conn));
        };
        dial.connected(
            remote,
            local,
            connected.is_negotiated_h2(),
            peer_certificate(&extras),
        );
        // Finished in the request's own poll, the connection is that request's: hyper-util
        // takes a dial's connection in the poll it is made in (else it hands the dial to a
        // task of its own, where the request is not in effect). Except one that ALPN made
        // HTTP/2: hyper-util drops it if another dial to the same place got there first (one
        // HTTP/2 connection serves them all), so its request learns its connection with the
        // response.
        let alpn_h2 = connected.is_negotiated_h2();
        let in_effect =
            !alpn_h2 && current_holder::<RequestDial>().is_some_and(|now| Arc::ptr_eq(&now, &dial));
        if !in_effect {
            conns.made((local, remote));
            return Poll::Ready(Ok(conn));
        }
        let id = conns.made_and_used((local, remote));
        drop(conns);
        let info = ConnectionInfo::new(id, Some(local), Some(remote));
        dial.got_conn_early();
        dial.trace()
            .got_conn(&GotConnInfo::new(info, false, false, Duration::ZERO));
        Poll::Ready(Ok(conn))
    }
}

/// The server's certificate, when reqwest's `tls_info` put it in the connection's extras.
#[cfg(feature = "rustls")]
fn peer_certificate(extras: &http::Extensions) -> Option<Vec<u8>> {
    extras
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|tls| tls.peer_certificate())
        .map(<[u8]>::to_vec)
}

#[cfg(not(feature = "rustls"))]
fn peer_certificate(_: &http::Extensions) -> Option<Vec<u8>> {
    None
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

    /// A connection in use is remembered however many others are made after it; those that
    /// sat unused past the pool's idle timeout are forgotten, so the memory stays bounded.
    #[test]
    fn connections_are_forgotten_when_idle_past_the_timeout_not_when_old() {
        let mut conns = Conns::with_idle_timeout(Duration::from_secs(90));
        let start = Instant::now();
        let server: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let addrs = |port: u16| (SocketAddr::from(([127, 0, 0, 1], port)), server);
        conns.made_at(addrs(1), start);
        let (first, reused) = conns.used_at(addrs(1), start);
        assert!(!reused);
        // 10 000 more, one a millisecond, none used again; the first is used every second.
        for n in 0..10_000u16 {
            let now = start + Duration::from_millis(u64::from(n));
            conns.made_at(addrs(n + 2), now);
            if n % 1000 == 0 {
                assert_eq!(conns.used_at(addrs(1), now), (first, true), "after {n}");
            }
        }
        let later = start + Duration::from_secs(95);
        conns.used_at(addrs(1), later);
        // Another burst of 8 192, 95 s on: the first burst, idle past the timeout, is swept
        // once the map has doubled; what is left is this burst and the one in use.
        for n in 0..8192u16 {
            conns.made_at(
                addrs(20_000 + n),
                later + Duration::from_millis(u64::from(n)),
            );
        }
        assert_eq!(conns.len(), 8192 + 1);
        assert_eq!(conns.used_at(addrs(1), later), (first, true));
    }
}
