//! [`TraceResolver`]: wraps a resolver (`Service<Name>`) to fire `DNSStart`/`DNSDone` and to
//! coalesce concurrent lookups of one name.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use httptrace::{current_trace, BoxError, ClientTrace, DnsDoneInfo, DnsStartInfo, TraceError};
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use tokio::sync::watch;
use tower_service::Service;

type Lookup = Result<Vec<SocketAddr>, TraceError>;

/// A resolver that reports each lookup to the request that asked for it.
///
/// Concurrent lookups of the same name share one query to the inner resolver, as Go's do:
/// every asker gets `DNSStart` and `DNSDone`; all but the one whose query ran see
/// `coalesced: true`. Results are not cached: a lookup that starts after the shared one
/// finished asks the inner resolver again.
///
/// The one that ran the query gets the inner resolver's own error; the others get a copy of
/// it (same message). A lookup dropped before its end reports `DNSDone` with an error saying
/// so; if it was running the shared query, a waiting asker runs the query itself.
#[derive(Clone)]
pub struct TraceResolver<R = GaiResolver> {
    inner: R,
    inflight: Arc<Mutex<HashMap<Name, watch::Receiver<Option<Lookup>>>>>,
}

impl TraceResolver<GaiResolver> {
    /// Traces the system resolver (`getaddrinfo` on a blocking thread).
    pub fn system() -> Self {
        Self::new(GaiResolver::new())
    }
}

impl<R> TraceResolver<R> {
    /// Traces `inner`.
    pub fn new(inner: R) -> Self {
        TraceResolver {
            inner,
            inflight: Arc::default(),
        }
    }

    /// The wrapped resolver.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Unwraps the resolver.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R> std::fmt::Debug for TraceResolver<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceResolver").finish_non_exhaustive()
    }
}

impl<R> Service<Name> for TraceResolver<R>
where
    R: Service<Name> + Clone + Send + 'static,
    R::Response: Iterator<Item = SocketAddr>,
    R::Error: Into<BoxError> + Send,
    R::Future: Send,
{
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = TraceResolverFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness of the inner resolver is awaited in the lookup that uses it.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> TraceResolverFuture {
        let trace = current_trace();
        let (inner, inflight) = (self.inner.clone(), self.inflight.clone());
        TraceResolverFuture {
            inner: Box::pin(lookup(trace, inner, inflight, name)),
        }
    }
}

/// The future of [`TraceResolver`].
#[must_use = "futures do nothing unless polled"]
pub struct TraceResolverFuture {
    inner: Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, BoxError>> + Send>>,
}

impl Future for TraceResolverFuture {
    type Output = Result<std::vec::IntoIter<SocketAddr>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl std::fmt::Debug for TraceResolverFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceResolverFuture")
    }
}

/// Fires `DNSDone` exactly once: with the result, or, if the lookup is dropped, with an
/// error saying it was cancelled.
struct DoneGuard {
    trace: Option<ClientTrace>,
}

/// Whose query answered a lookup.
#[derive(Clone, Copy)]
enum Answer {
    /// The lookup's own query.
    Own,
    /// A concurrent lookup's query of the same name, shared.
    Coalesced,
}

impl DoneGuard {
    fn done(mut self, result: &Lookup, answer: Answer) {
        let coalesced = matches!(answer, Answer::Coalesced);
        if let Some(trace) = self.trace.take() {
            let info = match result {
                Ok(addrs) => {
                    DnsDoneInfo::new(addrs.iter().map(SocketAddr::ip).collect(), None, coalesced)
                }
                Err(err) => DnsDoneInfo::new(Vec::new(), Some(err.clone()), coalesced),
            };
            trace.dns_done(&info);
        }
    }
}

impl Drop for DoneGuard {
    fn drop(&mut self) {
        if let Some(trace) = self.trace.take() {
            trace.dns_done(&DnsDoneInfo::new(
                Vec::new(),
                Some(TraceError::msg("lookup cancelled")),
                false,
            ));
        }
    }
}

/// Removes the in-flight entry when the query that owns it ends or is dropped.
struct InflightEntry {
    inflight: Arc<Mutex<HashMap<Name, watch::Receiver<Option<Lookup>>>>>,
    name: Name,
}

impl Drop for InflightEntry {
    fn drop(&mut self) {
        self.inflight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.name);
    }
}

async fn lookup<R>(
    trace: Option<ClientTrace>,
    inner: R,
    inflight: Arc<Mutex<HashMap<Name, watch::Receiver<Option<Lookup>>>>>,
    name: Name,
) -> Result<std::vec::IntoIter<SocketAddr>, BoxError>
where
    R: Service<Name> + Send,
    R::Response: Iterator<Item = SocketAddr>,
    R::Error: Into<BoxError> + Send,
    R::Future: Send,
{
    if let Some(t) = &trace {
        t.dns_start(&DnsStartInfo::new(name.as_str()));
    }
    let guard = DoneGuard { trace };
    let mut inner = Some(inner);
    loop {
        let joined = {
            let mut map = inflight.lock().unwrap_or_else(|e| e.into_inner());
            match map.get(&name) {
                Some(rx) => Err(rx.clone()),
                None => {
                    let (tx, rx) = watch::channel(None);
                    map.insert(name.clone(), rx);
                    Ok(tx)
                }
            }
        };
        match joined {
            Ok(tx) => {
                let _entry = InflightEntry {
                    inflight: inflight.clone(),
                    name: name.clone(),
                };
                let Some(service) = inner.take() else {
                    unreachable!("a lookup leads the shared query at most once")
                };
                let (result, original) = query(service, name.clone()).await;
                guard.done(&result, Answer::Own);
                let _ = tx.send(Some(result.clone()));
                return match (result, original) {
                    (Ok(addrs), _) => Ok(addrs.into_iter()),
                    (Err(_), Some(original)) => Err(original),
                    (Err(copy), None) => Err(copy.into()),
                };
            }
            Err(mut rx) => {
                let shared = rx
                    .wait_for(Option::is_some)
                    .await
                    .ok()
                    .and_then(|v| v.clone());
                match shared {
                    Some(result) => {
                        guard.done(&result, Answer::Coalesced);
                        return result.map(Vec::into_iter).map_err(Into::into);
                    }
                    // The query's owner was dropped before it ended: ask ourselves.
                    None => continue,
                }
            }
        }
    }
}

/// Runs one query; on failure, also returns the inner resolver's own error for its caller.
async fn query<R>(mut service: R, name: Name) -> (Lookup, Option<BoxError>)
where
    R: Service<Name>,
    R::Response: Iterator<Item = SocketAddr>,
    R::Error: Into<BoxError>,
{
    let ready = std::future::poll_fn(|cx| service.poll_ready(cx)).await;
    let outcome = match ready {
        Ok(()) => service.call(name).await,
        Err(err) => Err(err),
    };
    match outcome {
        Ok(addrs) => (Ok(addrs.collect()), None),
        Err(err) => {
            let err: BoxError = err.into();
            (Err(TraceError::describe(&*err)), Some(err))
        }
    }
}
