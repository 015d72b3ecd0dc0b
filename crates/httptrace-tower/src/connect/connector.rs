//! [`TraceConnector`]: wraps any hyper-util connector so that its connections are traced.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{ready, Context, Poll};

use http::{Extensions, Uri};
use httptrace::{current_trace, ClientTrace, ConnectionId, ConnectionInfo, HookKind};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpInfo};
use hyper_util::rt::TokioIo;
use pin_project_lite::pin_project;
use tower_service::Service;

use super::tokio_side::TokioSide;
use super::traced_io::{Negotiated, TracedIo};
use crate::state::connection::{CloseWatch, ConnShared, StatsEntry};
use crate::state::handle::ConnectionHandle;
use crate::state::ids::{current_request, RequestId};
use crate::state::stats::{ConnectionStats, Counters};

/// A connector (`Service<Uri>`, as hyper-util's `Client` takes) whose connections report to
/// the request they carry: `GotConn` with reuse and idle time, the header fields as written,
/// `WroteHeaders`, `WroteRequest` and `GotFirstResponseByte` (HTTP/1).
///
/// It works around any connector whose connections implement hyper's `Read`, `Write` and
/// hyper-util's `Connection` (hyper-rustls' included); the connector's `call` and future run
/// with the request's trace in effect, so the resolver, dialer and TLS layers inside it
/// report to the request that started the connect, even when hyper-util finishes that
/// connect in the background after the request took another connection.
///
/// Each connection's `Connected` carries its [`ConnectionHandle`], so hyper-util puts the
/// handle in every response's extensions (one allocation per response). A client that never
/// speaks HTTP/2 without negotiating it by ALPN can save that: see
/// [`http2_only_by_alpn`](TraceConnector::http2_only_by_alpn).
#[derive(Debug, Clone)]
pub struct TraceConnector<C> {
    inner: C,
    /// The client's connection counters, shared by the clones; alive while any clone is: a
    /// connection closing after it is gone closes because its client went away
    /// (`CloseReason::PoolShutdown`). One count for both, touched as hyper-util clones and
    /// drops the connector for each request.
    shared: Arc<ConnectionStats>,
    /// Every connection's `Connected` carries its handle, not only those that negotiated h2.
    handle_everywhere: bool,
}

impl<C> TraceConnector<C> {
    /// Traces the connections made by `inner`.
    pub fn new(inner: C) -> Self {
        crate::panic_report::install();
        TraceConnector {
            inner,
            shared: Arc::new(ConnectionStats::default()),
            handle_everywhere: true,
        }
    }

    /// Tells the connector that its client speaks HTTP/2 only where ALPN negotiates it: the
    /// client is not built with hyper-util's `http2_only` (HTTP/2 by prior knowledge), which
    /// is how [`http_client`](crate::http_client) and [`https_client`](crate::https_client)
    /// build theirs.
    ///
    /// Then only connections that negotiated h2 carry a [`ConnectionHandle`] in their
    /// `Connected`, and so in their responses; the others' responses cost hyper-util one
    /// allocation less each, and a traced stack with no trace attached allocates what the
    /// plain client does. The layer traces HTTP/1 requests without the handle (each reaches
    /// its connection through its body), but it finds an HTTP/2 stream's connection only
    /// through the handle: a client built with `http2_only` over a connector told this would
    /// trace its streams without the connection's hooks (`GotConn`, `WroteHeaderField`,
    /// `WroteHeaders`, `WroteRequest`); the first such connection says so, once per process,
    /// as a `tracing` warning (target `httptrace`, feature `tracing`).
    ///
    /// ```
    /// use hyper_util::client::legacy::Client;
    /// use hyper_util::rt::TokioExecutor;
    /// use httptrace_tower::{TraceConnector, TraceHttpConnector, TracedRequestBody};
    ///
    /// let connector = TraceConnector::new(TraceHttpConnector::new()).http2_only_by_alpn();
    /// let client: Client<_, TracedRequestBody<String>> =
    ///     Client::builder(TokioExecutor::new()).build(connector);
    /// ```
    pub fn http2_only_by_alpn(mut self) -> Self {
        self.handle_everywhere = false;
        self
    }

    /// This connector's (and its clones') connection counters per destination: its
    /// client's, shared with no other client.
    pub fn stats(&self) -> ConnectionStats {
        ConnectionStats::clone(&self.shared)
    }

    /// The wrapped connector.
    pub fn get_ref(&self) -> &C {
        &self.inner
    }

    /// The wrapped connector.
    pub fn get_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// Unwraps the connector.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<C> Service<Uri> for TraceConnector<C>
where
    C: Service<Uri>,
    C::Response: Read + Write + Connection + Unpin + 'static,
{
    type Response = TracedConnection<C::Response>;
    type Error = C::Error;
    type Future = TraceConnectorFuture<C::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let trace = current_trace();
        let dialed_by = current_request();
        let mut destination = String::new();
        let _ = crate::wire::host_port::write_host_port(&mut destination, &dst);
        let dial = self.shared.dialing(&destination).map(|counters| Dial {
            stats: ConnectionStats::clone(&self.shared),
            destination: destination.clone(),
            counters,
            made: false,
        });
        let inner = self.inner.call(dst);
        TraceConnectorFuture {
            inner,
            trace,
            dialed_by,
            destination,
            dial,
            connector: Arc::downgrade(&self.shared),
            handle_everywhere: self.handle_everywhere,
        }
    }
}

pin_project! {
    /// The future of [`TraceConnector`].
    #[must_use = "futures do nothing unless polled"]
    pub struct TraceConnectorFuture<F> {
        #[pin]
        inner: F,
        trace: Option<ClientTrace>,
        dialed_by: Option<RequestId>,
        // `GetConn`'s `host:port` for this destination.
        destination: String,
        // Counted as a dial under way in the client's stats until it ends.
        dial: Option<Dial>,
        connector: Weak<ConnectionStats>,
        handle_everywhere: bool,
    }
}

impl<F> std::fmt::Debug for TraceConnectorFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceConnectorFuture")
            .field("destination", &self.destination)
            .finish()
    }
}

impl<F, R, E> Future for TraceConnectorFuture<F>
where
    F: Future<Output = Result<R, E>>,
    R: Read + Write + Connection + Unpin + 'static,
{
    type Output = Result<TracedConnection<R>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let io = {
            let _entered = this.trace.as_ref().map(ClientTrace::enter);
            ready!(this.inner.poll(cx))
        };
        let dial = this.dial.take();
        let io = match io {
            Ok(io) => io,
            Err(err) => {
                drop(dial); // failed
                return Poll::Ready(Err(err));
            }
        };
        let connected = io.connected();
        let mut extras = Extensions::new();
        connected.get_extras(&mut extras);
        let http_info = extras.get::<HttpInfo>();
        let info = ConnectionInfo::new(
            ConnectionId::next(),
            http_info.map(HttpInfo::local_addr),
            http_info.map(HttpInfo::remote_addr),
        );
        // The connection keeps the dialling request's `ConnClosed` and `Http2GoAway` hooks,
        // nothing else of it.
        let close = CloseWatch {
            trace: this
                .trace
                .as_ref()
                .filter(|t| t.is_set(HookKind::ConnClosed) || t.is_set(HookKind::Http2GoAway))
                .map(ClientTrace::only_connection_hooks),
            connector: this.connector.clone(),
        };
        let mut shared = ConnShared::new(info, *this.dialed_by, close);
        // Fresh: nobody else holds it yet.
        if let Some(fresh) = Arc::get_mut(&mut shared) {
            fresh.destination = std::mem::take(this.destination);
            fresh.stats = dial.map(Dial::made);
        }
        let negotiated = Negotiated {
            http2: connected.is_negotiated_h2(),
            handle_everywhere: *this.handle_everywhere,
        };
        let traced = TracedIo::new(TokioSide::new(io), shared, negotiated);
        Poll::Ready(Ok(TracedConnection {
            io: TokioIo::new(traced),
        }))
    }
}

/// A dial counted in its client's stats: failed if dropped before it made a connection.
struct Dial {
    stats: ConnectionStats,
    destination: String,
    counters: Arc<Counters>,
    made: bool,
}

impl Dial {
    /// The dial made a connection, now open and counted where the entry says.
    fn made(mut self) -> StatsEntry {
        self.made = true;
        StatsEntry {
            stats: self.stats.clone(),
            counters: self.counters.clone(),
        }
    }
}

impl Drop for Dial {
    fn drop(&mut self) {
        self.stats
            .dialed(&self.destination, &self.counters, self.made);
    }
}

pin_project! {
    /// A connection made by [`TraceConnector`]: the connector's own, watched by [`TracedIo`].
    /// Its [`Connected`] is the inner one with a [`ConnectionHandle`] added to the extras
    /// (unless [`TraceConnector::http2_only_by_alpn`] says it need not be).
    pub struct TracedConnection<R> {
        #[pin]
        io: TokioIo<TracedIo<TokioSide<R>>>,
    }
}

impl<R> TracedConnection<R> {
    /// The connection's identity and counters.
    pub fn handle(&self) -> ConnectionHandle {
        self.io.inner().handle()
    }
}

impl<R: 'static> TracedConnection<R> {
    /// The connector's own connection.
    pub fn get_ref(&self) -> &R {
        self.io.inner().get_ref().get_ref()
    }

    /// The connector's own connection; bytes moved through it directly are not traced.
    pub fn get_mut(&mut self) -> &mut R {
        self.io.inner_mut().get_mut().get_mut()
    }

    /// Unwraps the connector's own connection.
    pub fn into_inner(self) -> R {
        self.io.into_inner().into_inner().into_inner()
    }
}

impl<R: Connection> Connection for TracedConnection<R> {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

impl<R: Read + Unpin + 'static> Read for TracedConnection<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.project().io.poll_read(cx, buf)
    }
}

impl<R: Write + Unpin + 'static> Write for TracedConnection<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.project().io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }
}

impl<R> std::fmt::Debug for TracedConnection<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedConnection")
            .field("conn", &self.handle())
            .finish()
    }
}

impl<T> std::fmt::Debug for TracedIo<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedIo")
            .field("conn", &self.handle())
            .finish()
    }
}
