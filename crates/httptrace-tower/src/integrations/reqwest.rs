//! reqwest (feature `reqwest`): the most its public hooks let us trace.
//!
//! reqwest builds its hyper-util client and connector itself; what it lets us in through is
//! a DNS resolver (`ClientBuilder::dns_resolver`), a layer around its connector service
//! (`ClientBuilder::connector_layer`: a URI in, its opaque `Conn` out) and the request
//! future. [`ReqwestTracing`] uses all three:
//!
//! | hook | with reqwest | why |
//! |---|---|---|
//! | `GetConn` | yes | fired by [`ReqwestTracing::send`] before the request goes |
//! | `DNSStart` / `DNSDone` | yes | [`TracedDns`], reporting to the trace in effect |
//! | `ConnectStart` / `ConnectDone` | no | reqwest dials inside its connector; the layer sees no address before the connection exists |
//! | `TLSHandshakeStart` / `Done` | no | inside reqwest's connector too |
//! | `GotConn` | yes, when the response head arrives | the connection is known from the response (its addresses); `reused` is exact (the connector layer saw every connection made), `was_idle` equals `reused`, `idle_time` is not known (zero) |
//! | `WroteHeaderField`, `WroteHeaders`, `WroteRequest`, `GotFirstResponseByte` timing of the wire | no / at the response | reqwest's connection is opaque: no access to its bytes; `GotFirstResponseByte` fires with the response head |
//! | `PutIdleConn`, body ends, `ConnClosed` | no | reqwest's `Response` owns its body, and its connection's I/O is opaque |
//! | 1xx hooks | no | reqwest sets no informational callback |
//!
//! For every hook, use hyper-util's `Client` with this crate's connector stack instead.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use httptrace::{
    current_trace, ClientTrace, ConnectionId, ConnectionInfo, DnsDoneInfo, DnsStartInfo,
    GetConnInfo, GotConnInfo, TraceError,
};
use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use pin_project_lite::pin_project;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tower_layer::Layer;
use tower_service::Service;

/// How many connections [`ReqwestTracing`] remembers (by local and remote address) to tell a first use
/// from a reuse; the oldest are forgotten first.
const REMEMBERED: usize = 4096;

/// Traces reqwest requests: install it on a `ClientBuilder`, then send with it.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use httptrace::ClientTrace;
/// use httptrace_tower::ReqwestTracing;
///
/// let tracing = ReqwestTracing::new();
/// let client = tracing.install(reqwest::Client::builder()).build()?;
/// let trace = ClientTrace::new().on_got_conn(|i| println!("reused: {}", i.reused));
/// let res = tracing.send(client.get("http://127.0.0.1:8080/"), trace).await?;
/// # drop(res); Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ReqwestTracing {
    conns: Arc<Mutex<Conns>>,
}

/// The connections the connector layer saw made, by their two addresses: one local port may
/// serve connections to two servers at once.
#[derive(Debug, Default)]
struct Conns {
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
    fn made(&mut self, addrs: ConnAddrs) {
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
    fn used(&mut self, addrs: ConnAddrs) -> (ConnectionId, bool) {
        match self.by_addrs.get_mut(&addrs) {
            Some(seen) => (seen.id, std::mem::replace(&mut seen.used, true)),
            // Made before the layer was installed, or forgotten: nothing is known.
            None => (ConnectionId::next(), false),
        }
    }
}

impl ReqwestTracing {
    /// A tracer with no connection seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs [`TracedDns`] (over the system resolver) and the connector layer.
    pub fn install(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        self.install_with_resolver(builder, TracedDns::system())
    }

    /// Installs `dns` and the connector layer.
    pub fn install_with_resolver(
        &self,
        builder: reqwest::ClientBuilder,
        dns: TracedDns,
    ) -> reqwest::ClientBuilder {
        builder.dns_resolver(dns).connector_layer(ConnectionsLayer {
            conns: self.conns.clone(),
        })
    }

    /// Sends `request` with `trace` in effect for the whole request future: `GetConn` first,
    /// the lookup's hooks, then `GotConn` and `GotFirstResponseByte` with the response head.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        trace: ClientTrace,
    ) -> reqwest::Result<reqwest::Response> {
        let (client, request) = request.build_split();
        let request = request?;
        let url = request.url();
        if let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let host_port = if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            };
            trace.get_conn(&GetConnInfo::new(host_port));
        }
        let res = trace.scope(client.execute(request)).await?;
        if let Some(info) = res.extensions().get::<HttpInfo>() {
            let (local, remote) = (info.local_addr(), info.remote_addr());
            let (id, reused) = self
                .conns
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .used((local, remote));
            let conn = ConnectionInfo::new(id, Some(local), Some(remote));
            trace.got_conn(&GotConnInfo::new(conn, reused, reused, Duration::ZERO));
        }
        trace.got_first_response_byte();
        Ok(res)
    }
}

/// reqwest's DNS resolver, reporting `DNSStart` / `DNSDone` to the trace in effect where the
/// lookup starts.
#[derive(Clone)]
pub struct TracedDns {
    inner: Arc<dyn Resolve>,
}

impl std::fmt::Debug for TracedDns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TracedDns")
    }
}

/// The system's resolver (`getaddrinfo` on tokio's blocking pool).
struct SystemDns;

impl Resolve for SystemDns {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(Box::new(addrs.collect::<Vec<_>>().into_iter()) as Addrs)
        })
    }
}

impl TracedDns {
    /// Traces the system's resolver.
    pub fn system() -> Self {
        Self::new(SystemDns)
    }

    /// Traces `inner`.
    pub fn new(inner: impl Resolve + 'static) -> Self {
        TracedDns {
            inner: Arc::new(inner),
        }
    }
}

impl Resolve for TracedDns {
    fn resolve(&self, name: Name) -> Resolving {
        let Some(trace) = current_trace() else {
            return self.inner.resolve(name);
        };
        trace.dns_start(&DnsStartInfo::new(name.as_str()));
        let lookup = self.inner.resolve(name);
        Box::pin(async move {
            match lookup.await {
                Ok(addrs) => {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    let ips = addrs.iter().map(SocketAddr::ip).collect();
                    trace.dns_done(&DnsDoneInfo::new(ips, None, false));
                    Ok(Box::new(addrs.into_iter()) as Addrs)
                }
                Err(err) => {
                    let seen = TraceError::describe(&*err);
                    trace.dns_done(&DnsDoneInfo::new(Vec::new(), Some(seen), false));
                    Err(err)
                }
            }
        })
    }
}

/// The layer [`ReqwestTracing::install`] puts around reqwest's connector: it notes each
/// connection made, so that its first use can be told from a reuse.
#[derive(Debug, Clone)]
struct ConnectionsLayer {
    conns: Arc<Mutex<Conns>>,
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
struct NoteConnections<S> {
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
    struct Noting<F> {
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
