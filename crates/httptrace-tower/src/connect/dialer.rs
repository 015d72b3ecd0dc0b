//! [`TraceHttpConnector`]: a TCP connector that reports every dial attempt.
//!
//! hyper-util's `HttpConnector` dials with Happy Eyeballs but exposes no per-attempt hook, so
//! this is our own dialer with the same policy: addresses of the first address's family are
//! tried one after another; if none has connected after the fallback delay (300 ms, as Go and
//! hyper-util use), the other family is tried alongside; the first to connect wins and the
//! attempt still running is cancelled (its `ConnectDone` says so).

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use httptrace::{
    current_trace, BoxError, ClientTrace, ConnectDoneInfo, ConnectStartInfo, TraceError,
};
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tower_service::Service;

use super::connect_error::ConnectError;
use super::resolver::TraceResolver;

/// A TCP connector for hyper-util's `Client` that fires `ConnectStart`/`ConnectDone` for
/// every attempt, resolving names through `R` (wrap it in [`TraceResolver`] for the DNS
/// hooks). An IP-literal host is dialled without a lookup.
///
/// Its connections are hyper-util's `TokioIo<TcpStream>`, whose `Connected` carries
/// `HttpInfo` (local and remote address) as `HttpConnector`'s do.
#[derive(Debug, Clone)]
pub struct TraceHttpConnector<R = TraceResolver<GaiResolver>> {
    resolver: R,
    config: DialConfig,
}

#[derive(Debug, Clone)]
struct DialConfig {
    connect_timeout: Option<Duration>,
    fallback_delay: Option<Duration>,
    nodelay: bool,
    enforce_http: bool,
}

impl TraceHttpConnector {
    /// Dials with the system resolver, traced.
    pub fn new() -> Self {
        Self::with_resolver(TraceResolver::system())
    }
}

impl Default for TraceHttpConnector {
    fn default() -> Self {
        Self::new()
    }
}

impl<R> TraceHttpConnector<R> {
    /// Dials with `resolver`: any `Service<Name>` yielding socket addresses.
    pub fn with_resolver(resolver: R) -> Self {
        TraceHttpConnector {
            resolver,
            config: DialConfig {
                connect_timeout: None,
                fallback_delay: Some(Duration::from_millis(300)),
                nodelay: false,
                enforce_http: true,
            },
        }
    }

    /// Gives up on connecting after `timeout` in all, the lookup included (`None`, the
    /// default: no limit). As in Go, each attempt gets an equal share of the time left for
    /// the addresses left; a lookup cut short reports `DNSDone` as cancelled.
    pub fn set_connect_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// How long the first address family gets before the other is tried alongside
    /// (default 300 ms; `None` tries every address in order, one at a time).
    pub fn set_happy_eyeballs_timeout(&mut self, delay: Option<Duration>) -> &mut Self {
        self.config.fallback_delay = delay;
        self
    }

    /// Sets `TCP_NODELAY` on new connections (default off, as hyper-util's).
    pub fn set_nodelay(&mut self, nodelay: bool) -> &mut Self {
        self.config.nodelay = nodelay;
        self
    }

    /// Refuses URLs whose scheme is not `http` (default on). Turn it off when a TLS layer
    /// wraps this connector.
    pub fn enforce_http(&mut self, enforce: bool) -> &mut Self {
        self.config.enforce_http = enforce;
        self
    }

    /// The resolver.
    pub fn resolver(&self) -> &R {
        &self.resolver
    }
}

impl<R> Service<Uri> for TraceHttpConnector<R>
where
    R: Service<Name> + Clone + Send + 'static,
    R::Response: Iterator<Item = SocketAddr>,
    R::Error: Into<BoxError> + Send,
    R::Future: Send,
{
    type Response = TokioIo<TcpStream>;
    type Error = ConnectError;
    type Future = TraceHttpConnectorFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), ConnectError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, dst: Uri) -> TraceHttpConnectorFuture {
        let trace = current_trace();
        let resolver = self.resolver.clone();
        let config = self.config.clone();
        TraceHttpConnectorFuture {
            inner: Box::pin(dial(dst, resolver, config, trace)),
        }
    }
}

/// The future of [`TraceHttpConnector`].
#[must_use = "futures do nothing unless polled"]
pub struct TraceHttpConnectorFuture {
    inner: Pin<Box<dyn Future<Output = Result<TokioIo<TcpStream>, ConnectError>> + Send>>,
}

impl Future for TraceHttpConnectorFuture {
    type Output = Result<TokioIo<TcpStream>, ConnectError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl std::fmt::Debug for TraceHttpConnectorFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceHttpConnectorFuture")
    }
}

async fn dial<R>(
    dst: Uri,
    mut resolver: R,
    config: DialConfig,
    trace: Option<ClientTrace>,
) -> Result<TokioIo<TcpStream>, ConnectError>
where
    R: Service<Name>,
    R::Response: Iterator<Item = SocketAddr>,
    R::Error: Into<BoxError>,
{
    let (host, port) = destination(&dst, config.enforce_http)?;
    let deadline = config.connect_timeout.map(|t| Instant::now() + t);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => {
            let name: Name = host
                .parse()
                .map_err(|e| ConnectError::Resolve(Box::new(e)))?;
            std::future::poll_fn(|cx| resolver.poll_ready(cx))
                .await
                .map_err(|e| ConnectError::Resolve(e.into()))?;
            // The resolver reads the trace in effect when it is called.
            let resolving = {
                let _entered = trace.as_ref().map(ClientTrace::enter);
                resolver.call(name)
            };
            // The connect timeout covers the lookup too, as Go's `Dialer.Timeout`.
            let found = match deadline {
                Some(deadline) => {
                    tokio::time::timeout_at(deadline, resolving)
                        .await
                        .map_err(|_| {
                            ConnectError::Resolve(Box::new(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                "lookup timed out (the connect timeout)",
                            )))
                        })?
                }
                None => resolving.await,
            }
            .map_err(|e| ConnectError::Resolve(e.into()))?;
            found.map(|a| SocketAddr::new(a.ip(), port)).collect()
        }
    };
    if addrs.is_empty() {
        return Err(ConnectError::NoAddresses(host));
    }
    let stream = happy_eyeballs(addrs, &config, deadline, trace.as_ref()).await?;
    if config.nodelay {
        stream.set_nodelay(true).map_err(ConnectError::Socket)?;
    }
    Ok(TokioIo::new(stream))
}

/// The host (IPv6 brackets removed) and port (defaulted from the scheme) to dial.
fn destination(dst: &Uri, enforce_http: bool) -> Result<(String, u16), ConnectError> {
    let scheme = dst.scheme_str().unwrap_or_default();
    let default_port = match scheme {
        "http" => 80,
        "https" if !enforce_http => 443,
        _ => return Err(ConnectError::UnsupportedScheme(scheme.to_owned())),
    };
    let host = dst
        .host()
        .filter(|h| !h.is_empty())
        .ok_or(ConnectError::MissingHost)?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok((host, dst.port_u16().unwrap_or(default_port)))
}

async fn happy_eyeballs(
    addrs: Vec<SocketAddr>,
    config: &DialConfig,
    deadline: Option<Instant>,
    trace: Option<&ClientTrace>,
) -> Result<TcpStream, ConnectError> {
    let first_is_v6 = addrs[0].is_ipv6();
    let (preferred, fallback): (Vec<_>, Vec<_>) =
        addrs.into_iter().partition(|a| a.is_ipv6() == first_is_v6);
    let delay = match config.fallback_delay {
        Some(delay) if !fallback.is_empty() => delay,
        _ => {
            return dial_in_turn(
                preferred.into_iter().chain(fallback).collect(),
                deadline,
                trace,
            )
            .await
        }
    };
    let primary = dial_in_turn(preferred, deadline, trace);
    tokio::pin!(primary);
    tokio::select! {
        biased;
        result = &mut primary => {
            // The first family failed before the delay: Go starts the fallback at once.
            return match result {
                Ok(stream) => Ok(stream),
                Err(first_err) => dial_in_turn(fallback, deadline, trace).await.map_err(|_| first_err),
            };
        }
        () = tokio::time::sleep(delay) => {}
    }
    let secondary = dial_in_turn(fallback, deadline, trace);
    tokio::pin!(secondary);
    tokio::select! {
        biased;
        result = &mut primary => match result {
            Ok(stream) => Ok(stream),
            Err(first_err) => secondary.await.map_err(|_| first_err),
        },
        result = &mut secondary => match result {
            Ok(stream) => Ok(stream),
            Err(_) => primary.await,
        },
    }
}

/// Tries `addrs` one after another; returns the first error if none connects (as Go does).
async fn dial_in_turn(
    addrs: Vec<SocketAddr>,
    deadline: Option<Instant>,
    trace: Option<&ClientTrace>,
) -> Result<TcpStream, ConnectError> {
    let mut first_err = None;
    let count = addrs.len();
    for (i, addr) in addrs.into_iter().enumerate() {
        let share = deadline.map(|d| {
            let left = d.saturating_duration_since(Instant::now());
            left / (count - i) as u32
        });
        match attempt(addr, share, trace).await {
            Ok(stream) => return Ok(stream),
            Err(err) => {
                first_err.get_or_insert(err);
            }
        }
    }
    Err(first_err.unwrap_or(ConnectError::NoAddresses(String::new())))
}

/// Fires `ConnectDone` once: with the outcome, or as cancelled if the attempt is dropped.
struct AttemptGuard<'a> {
    trace: Option<&'a ClientTrace>,
    addr: SocketAddr,
}

impl AttemptGuard<'_> {
    /// The attempt ended: connected from `local`, or failed with `err`.
    fn done(mut self, outcome: Result<Option<SocketAddr>, TraceError>) {
        if let Some(trace) = self.trace.take() {
            let info = match outcome {
                Ok(local) => {
                    let info = ConnectDoneInfo::new("tcp", self.addr, None);
                    match local {
                        Some(local) => info.with_local_addr(local),
                        None => info,
                    }
                }
                Err(err) => ConnectDoneInfo::new("tcp", self.addr, Some(err)),
            };
            trace.connect_done(&info);
        }
    }
}

impl Drop for AttemptGuard<'_> {
    fn drop(&mut self) {
        if let Some(trace) = self.trace.take() {
            let err = TraceError::new(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "dial cancelled: another attempt connected first or the connect was dropped",
            ));
            trace.connect_done(&ConnectDoneInfo::new("tcp", self.addr, Some(err)));
        }
    }
}

async fn attempt(
    addr: SocketAddr,
    timeout: Option<Duration>,
    trace: Option<&ClientTrace>,
) -> Result<TcpStream, ConnectError> {
    if let Some(t) = trace {
        t.connect_start(&ConnectStartInfo::new("tcp", addr));
    }
    let guard = AttemptGuard { trace, addr };
    let connecting = TcpStream::connect(addr);
    let result = match timeout {
        Some(limit) => match tokio::time::timeout(limit, connecting).await {
            Ok(result) => result,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connect timed out",
            )),
        },
        None => connecting.await,
    };
    match result {
        Ok(stream) => {
            guard.done(Ok(stream.local_addr().ok()));
            Ok(stream)
        }
        Err(err) => {
            guard.done(Err(TraceError::describe(&err)));
            Err(ConnectError::Connect { addr, source: err })
        }
    }
}
