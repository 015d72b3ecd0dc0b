//! [`HttpTrace`]: the service that starts tracing a request.

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Request;
use httptrace::{BoxError, ClientTrace};
use tower_service::Service;

use crate::http_trace::future::ResponseFuture;
use crate::http_trace::request_body::TracedRequestBody;
use crate::state::expect_gate::DEFAULT_TIMEOUT;
use crate::state::learned::Learned;
use crate::state::stats::ConnectionStats;

use super::sampling::{RequestHead, Sampling};
use super::settings::{PerRequest, Settings};

/// Traces the requests sent through `S`; made by [`HttpTraceLayer`](crate::HttpTraceLayer).
///
/// For each request it fires `GetConn`, hands the request's trace to the connector and the
/// connection (see the crate docs for where each hook fires), and wraps the response body so
/// that its end fires `PutIdleConn`. The inner service receives the request with its body
/// wrapped in [`TracedRequestBody`], and answers with any `http::Response`.
///
/// Requests that the client will refuse (no scheme, a scheme other than `http`/`https`, no
/// host, an HTTP version other than 1.0, 1.1 or 2) are passed on untouched and fire no hook,
/// as in Go; so are requests with no trace at all, at the cost of one extension lookup. A
/// request already traced by an outer `HttpTrace` is not traced twice.
#[derive(Debug, Clone)]
pub struct HttpTrace<S> {
    inner: S,
    settings: Settings,
}

impl<S> HttpTrace<S> {
    /// Traces `inner` with `trace`.
    pub fn new(inner: S, trace: ClientTrace) -> Self {
        crate::panic_report::install();
        HttpTrace {
            inner,
            settings: Settings {
                trace,
                expect_continue_timeout: DEFAULT_TIMEOUT,
                cleartext_http2: Learned::default(),
                http1_handoffs: Learned::default(),
                linked: Learned::default(),
                stats: None,
                record_timings: false,
                per_request: None,
                sampling: None,
            },
        }
    }

    /// How long a request with `Expect: 100-continue` holds its body back waiting for the
    /// server's answer before sending it anyway (Go's `ExpectContinueTimeout`; 1 s).
    pub fn expect_continue_timeout(mut self, timeout: Duration) -> Self {
        self.settings.expect_continue_timeout = timeout;
        self
    }

    /// Records each request's [`Timings`](httptrace::Timings): the response carries a
    /// [`TimingsRecorder`](httptrace::TimingsRecorder) in its extensions, complete once the body has ended.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use http_body_util::{BodyExt, Empty};
    /// use httptrace::{ClientTrace, TimingsRecorder};
    ///
    /// let client = httptrace_tower::http_client::<Empty<bytes::Bytes>>(ClientTrace::new())
    ///     .record_timings();
    /// let res = client.request(http::Request::get("http://127.0.0.1:8080/").body(Empty::new())?).await?;
    /// let recorder = res.extensions().get::<TimingsRecorder>().cloned();
    /// res.into_body().collect().await?;
    /// let timings = recorder.unwrap().timings();
    /// println!("first byte after {:?}, total {:?}", timings.starttransfer(), timings.total());
    /// # Ok(()) }
    /// ```
    pub fn record_timings(mut self) -> Self {
        self.settings.record_timings = true;
        self
    }

    /// Calls `make` as each request starts (in the caller's context: its `tracing` span, say)
    /// for a trace of that request's own, composed over this layer's trace.
    /// [`TracingEvents`](crate::TracingEvents) uses it to record each request's hooks in the
    /// span it was sent from.
    pub fn trace_per_request(
        mut self,
        make: impl Fn() -> ClientTrace + Send + Sync + 'static,
    ) -> Self {
        self.settings.per_request = Some(PerRequest(Arc::new(make)));
        self
    }

    /// Traces about `ratio` of the requests (0.0 to 1.0), picked at random: the others skip
    /// this layer's trace, its per-request trace and its timings, and cost what a request
    /// with no trace costs. The way to run a full trace in production. A trace attached to a
    /// request itself, or in effect where it is sent, still applies to it.
    ///
    /// ```
    /// use httptrace::ClientTrace;
    ///
    /// let trace = ClientTrace::new().on_got_conn(|c| println!("reused: {}", c.reused));
    /// let client = httptrace_tower::http_client::<String>(trace).sample(0.01);
    /// # drop(client);
    /// ```
    pub fn sample(mut self, ratio: f64) -> Self {
        self.settings.sampling = Some(Sampling::ratio(ratio));
        self
    }

    /// Traces the requests `decide` keeps, as [`sample`](Self::sample) does a ratio: a
    /// header set upstream, a path, a rate of your own.
    ///
    /// ```
    /// use httptrace::ClientTrace;
    ///
    /// let client = httptrace_tower::http_client::<String>(ClientTrace::new())
    ///     .record_timings()
    ///     .sample_with(|head| head.headers().contains_key("x-debug-trace"));
    /// # drop(client);
    /// ```
    pub fn sample_with(
        mut self,
        decide: impl Fn(&RequestHead<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.settings.sampling = Some(Sampling::With(Arc::new(decide)));
        self
    }

    pub(crate) fn sampling_shared(mut self, sampling: Option<Sampling>) -> Self {
        self.settings.sampling = sampling;
        self
    }

    pub(crate) fn trace_per_request_shared(mut self, make: PerRequest) -> Self {
        self.settings.per_request = Some(make);
        self
    }

    /// Says that the client under this layer spawns its connection tasks through a
    /// [`TraceExecutor`](crate::TraceExecutor), as the ready-made clients do: from its first
    /// request, no request needs hyper-util's `capture_connection` to learn its connection
    /// (without this call the layer learns it from its first request, which is captured).
    /// If the client does not, its HTTP/2 streams' `GotConn` comes with their response.
    pub fn with_trace_executor(self) -> Self {
        self.settings.linked.see();
        self
    }

    /// Keeps the client's connection counters ([`TraceConnector::stats`](crate::TraceConnector::stats),
    /// taken before the connector went into the client), for [`stats`](Self::stats).
    pub fn with_stats(mut self, stats: ConnectionStats) -> Self {
        self.settings.stats = Some(stats);
        self
    }

    /// The connection counters of the client under this layer, per destination: given by
    /// the ready-made clients ([`http_client`](crate::http_client), `https_client`); for a
    /// stack of your own, [`TraceConnector::stats`](crate::TraceConnector::stats) before
    /// the connector goes into the client.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let client = httptrace_tower::http_client::<http_body_util::Empty<bytes::Bytes>>(
    ///     httptrace::ClientTrace::new(),
    /// );
    /// for dest in client.stats().map(|s| s.snapshot()).unwrap_or_default() {
    ///     println!("{}: {} open, reuse {:?}", dest.destination, dest.open, dest.reuse_ratio());
    /// }
    /// # }
    /// ```
    pub fn stats(&self) -> Option<&ConnectionStats> {
        self.settings.stats.as_ref()
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// This layer's trace.
    pub fn trace(&self) -> &ClientTrace {
        &self.settings.trace
    }
}

impl<S, B, ResBody> Service<Request<B>> for HttpTrace<S>
where
    S: Service<Request<TracedRequestBody<B>>, Response = http::Response<ResBody>>,
    S::Error: Into<BoxError>,
    B: http_body::Body,
    ResBody: http_body::Body,
{
    type Response = http::Response<crate::TracedResponseBody<ResBody>>;
    type Error = crate::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner
            .poll_ready(cx)
            .map_err(|e| crate::Error::Service(e.into()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        super::start::start(&self.settings, req, |req| self.inner.call(req))
    }
}
