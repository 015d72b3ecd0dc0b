//! [`TraceExecutor`]: the executor of a traced client, through which each connection's
//! tasks know the connection they serve.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::state::serving::{self, Serves};

/// The executor to build a traced hyper-util `Client` with: it spawns through `inner`, and
/// gives every task hyper-util and hyper spawn for a connection that [`TraceConnector`]
/// made the connection it serves. An HTTP/2 stream then has its `GotConn`, header fields and
/// `WroteHeaders` when hyper's connection task takes it, before its HEADERS are written,
/// whatever the runtime, however many clients the process runs, and however many
/// connections its destination has. [`http_client`](crate::http_client) and
/// `https_client` build their clients with one.
///
/// Built on another executor, a client's HTTP/2 streams learn their connection from
/// hyper-util's `capture_connection` instead: several allocations per stream, and the
/// hooks of a stream come only at the request's next poll, which nothing wakes before its
/// response.
///
/// ```
/// use httptrace_tower::{HttpTraceLayer, TraceConnector, TraceExecutor, TraceHttpConnector};
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
/// use tower::Layer;
///
/// let client = Client::builder(TraceExecutor::new(TokioExecutor::new()))
///     .http2_only(true)
///     .build::<_, httptrace_tower::TracedRequestBody<http_body_util::Empty<bytes::Bytes>>>(
///         TraceConnector::new(TraceHttpConnector::new()),
///     );
/// let traced = HttpTraceLayer::default().layer(client);
/// # let _ = traced;
/// ```
///
/// [`TraceConnector`]: crate::TraceConnector
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceExecutor<E> {
    inner: E,
}

impl<E> TraceExecutor<E> {
    /// Spawns through `inner`.
    pub fn new(inner: E) -> Self {
        TraceExecutor { inner }
    }

    /// The wrapped executor.
    pub fn get_ref(&self) -> &E {
        &self.inner
    }

    /// The wrapped executor, mutably.
    pub fn get_mut(&mut self) -> &mut E {
        &mut self.inner
    }

    /// Unwraps the executor.
    pub fn into_inner(self) -> E {
        self.inner
    }
}

impl<E, F> hyper::rt::Executor<F> for TraceExecutor<E>
where
    E: hyper::rt::Executor<ServingFuture<F>>,
    F: Future,
{
    fn execute(&self, fut: F) {
        self.inner.execute(ServingFuture {
            inner: fut,
            serves: serving::spawned(),
        });
    }
}

pin_project! {
    /// A task spawned by a [`TraceExecutor`]: the connection it serves is in effect while it
    /// is polled.
    #[must_use = "futures do nothing unless polled"]
    pub struct ServingFuture<F> {
        #[pin]
        inner: F,
        serves: Serves,
    }
}

impl<F: Future> Future for ServingFuture<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        serving::serve(this.serves, || inner.poll(cx))
    }
}

impl<F> std::fmt::Debug for ServingFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServingFuture")
            .field("serves_a_connection", &self.serves.a_connection())
            .finish()
    }
}
