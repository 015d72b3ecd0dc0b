//! [`ReqwestTrace`]: the `reqwest_middleware::Middleware` that traces each request, and the
//! helper that installs it with its DNS resolver and connector layer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Extensions;
use httptrace::{
    current_trace, extensions_client_trace, ClientTrace, RequestTraces, TimingsRecorder,
};
use reqwest::dns::Resolve;
use reqwest_middleware::{Middleware, Next};

use super::attempts::{call, CallPart, ReqwestAttempts};
use super::connections::{ConnectionsLayer, Conns};
use super::dns::TracedDns;
use super::exchange::{exchange, host_port, Exchange};

/// Makes a request's own trace (see [`ReqwestTrace::trace_per_request`]).
type MakeTrace = Arc<dyn Fn() -> ClientTrace + Send + Sync>;

/// Traces every request a `reqwest_middleware::ClientWithMiddleware` sends; call sites stay
/// `client.get(url).send().await`.
///
/// Each request gets, composed (the first listed runs first): a `ClientTrace` put in its
/// extensions (`.with_extension(trace)`), the trace in effect where it is sent
/// ([`ClientTrace::scope`]), one from [`trace_per_request`](Self::trace_per_request), this
/// middleware's trace, and the [`TimingsRecorder`] of [`record_timings`](Self::record_timings).
///
/// reqwest builds its hyper-util client and connector itself; it lets us in through a DNS
/// resolver, a layer around its connector (a URI in, an opaque connection out), a rustls
/// configuration of our own ([`rustls`](Self::rustls), opt-in: it replaces reqwest's TLS
/// options), the request future and the response. The request's state is in effect while
/// its future is polled, so each seam fires the dial's hooks at the instant it sees. What
/// fires, and when:
///
/// | hook | under reqwest | when, or why not |
/// |---|---|---|
/// | `GetConn` | yes | before the request is handed on |
/// | `DNSStart` / `DNSDone` | yes | [`TracedDns`], around each lookup made for the request |
/// | `ConnectStart` | yes | when the lookup ends, for its first answer (reqwest dials it at once; a failed first address and the next are not told apart); for an address host, when the connector is called |
/// | `ConnectDone` | yes | with [`rustls`](Self::rustls): when rustls builds the ClientHello (the TCP connection is up); otherwise when the connector returns the connection (for `https`, after its handshake) |
/// | `TLSHandshakeStart` / `Done` | with [`rustls`](Self::rustls) | at the ClientHello / when the connector returns; the state has the server name, ALPN `h2` when chosen, the server's certificate; with [`rustls_verifier`](Self::rustls_verifier) also the version, the whole chain the server sent and whether the session was resumed (never the cipher suite: reqwest keeps the rustls connection, and no seam sees it) |
/// | `GotConn` | yes | a new connection: when the connector returns it in the request's own poll (before the request is written); a pooled one, a dial that lost to one, or one ALPN made HTTP/2 (hyper-util drops it when another dial to the same place got there first), with the response head: `reused` is exact (the connector layer saw every connection made), `was_idle` equals `reused`, `idle_time` is not known (zero) |
/// | `WroteHeaderField`, `WroteHeaders`, `WroteRequest`, `Wait100Continue` | no | reqwest's connection is opaque: no access to its bytes |
/// | `GotFirstResponseByte` | yes, late | with the response head |
/// | `Got100Continue`, `Got1xxResponse` | no | reqwest sets no informational callback |
/// | `PutIdleConn` | yes | at the response body's end, for HTTP/1 keep-alive (inferred from the heads, as the layer does); with an error when the body is dropped unread or fails |
/// | `ResponseBodyDone` | yes | at the body's end, failure or drop, with the bytes read |
/// | `RequestBodyDone`, `ConnClosed` | no | the request body is written and the connection closed out of sight |
///
/// The [`httptrace::Timings`] under reqwest have the lookup, the connect, the TLS handshake
/// (with [`rustls`](Self::rustls)), the first byte and the body's end; with no instant for
/// the request's writing, the time from the connection to the first byte is all `wait`. For
/// every hook and every phase, use hyper-util's `Client` with httptrace-tower's connector
/// stack (`httptrace_tower::http_client`).
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use httptrace::{ClientTrace, TimingsRecorder};
/// use httptrace_reqwest::ReqwestTrace;
///
/// let trace = ClientTrace::new().on_got_conn(|i| println!("reused: {}", i.reused));
/// let client = ReqwestTrace::new(trace)
///     .record_timings()
///     .client(reqwest::Client::builder())?
///     .build();
///
/// let res = client.get("http://127.0.0.1:8080/").send().await?;
/// let timings = res.extensions().get::<TimingsRecorder>().cloned();
/// let body = res.bytes().await?;
/// println!("{:?}", timings.map(|t| t.timings().total()));
/// # drop(body); Ok(()) }
/// ```
#[derive(Clone)]
pub struct ReqwestTrace {
    trace: ClientTrace,
    per_request: Option<MakeTrace>,
    record_timings: bool,
    dns: TracedDns,
    conns: Arc<Mutex<Conns>>,
    pool_idle_timeout: Option<Duration>,
    /// A [`ReqwestAttempts`] was made from this middleware: its calls' attempts are traced
    /// there.
    attempts_inside: Arc<AtomicBool>,
    /// [`rustls`](Self::rustls)'s configuration, watched.
    #[cfg(feature = "rustls")]
    tls: Option<crate::tls::RustlsSeam>,
    /// [`rustls_verifier`](Self::rustls_verifier)'s verifier.
    #[cfg(feature = "rustls")]
    tls_verifier: Option<Arc<dyn rustls::client::danger::ServerCertVerifier>>,
}

impl std::fmt::Debug for ReqwestTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReqwestTrace")
            .field("trace", &self.trace)
            .field("per_request", &self.per_request.is_some())
            .field("record_timings", &self.record_timings)
            .finish()
    }
}

impl ReqwestTrace {
    /// Traces every request with `trace` (an empty one: only what each request brings).
    pub fn new(trace: ClientTrace) -> Self {
        ReqwestTrace {
            trace,
            per_request: None,
            record_timings: false,
            dns: TracedDns::system(),
            conns: Arc::default(),
            pool_idle_timeout: None,
            attempts_inside: Arc::default(),
            #[cfg(feature = "rustls")]
            tls: None,
            #[cfg(feature = "rustls")]
            tls_verifier: None,
        }
    }

    /// The inner middleware that traces each attempt of a call made through this one, for a
    /// retry middleware between the two: this one then fires `CallStart` and `CallDone`,
    /// the inner one each attempt's `AttemptStart` and its exchange (`GotConn` with the
    /// attempt's own reuse). Once made, every request through this middleware is such a call.
    pub fn attempts(&self) -> ReqwestAttempts {
        self.attempts_inside.store(true, Ordering::Release);
        ReqwestAttempts { _made: () }
    }

    /// What a call's attempts need of this middleware.
    fn call_part(&self) -> CallPart {
        CallPart {
            record_timings: self.record_timings,
            conns: self.conns.clone(),
        }
    }

    /// reqwest's TLS from `config` (given to reqwest with `tls_backend_preconfigured`), with
    /// its session store watched, so that a new connection's `ConnectDone`,
    /// `TLSHandshakeStart` and `TLSHandshakeDone` fire when they happen (the store is asked
    /// when rustls builds the ClientHello). It replaces reqwest's own TLS options: the roots,
    /// the verifier, ALPN and the versions are `config`'s (set ALPN yourself: `h2` and
    /// `http/1.1` for reqwest's default). Its resumption is replaced by rustls's default (an
    /// in-memory store of 256 sessions) inside the watching one: rustls lets nobody read the
    /// store a configuration has. reqwest's `tls_info` is turned on: the server's certificate
    /// is in `TLSHandshakeDone`'s state.
    #[cfg(feature = "rustls")]
    pub fn rustls(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(crate::tls::RustlsSeam::new(config));
        self
    }

    /// With [`rustls`](Self::rustls): checks the server's certificates with `verifier`, in
    /// place of the configuration's (rustls lets nobody read the verifier a configuration
    /// has), and watches it: `TLSHandshakeDone`'s state then has the TLS version, the whole
    /// chain the server sent, and whether the handshake resumed a session. Give the verifier
    /// the configuration was built with (`rustls::client::WebPkiServerVerifier` over your
    /// roots, or the platform's). Without `rustls`, it does nothing.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use httptrace_reqwest::ReqwestTrace;
    /// use rustls::client::{danger::ServerCertVerifier, WebPkiServerVerifier};
    ///
    /// /// `config` built `with_root_certificates(roots)`, over `provider`.
    /// fn traced(
    ///     config: rustls::ClientConfig,
    ///     roots: Arc<rustls::RootCertStore>,
    ///     provider: Arc<rustls::crypto::CryptoProvider>,
    /// ) -> Result<ReqwestTrace, rustls::client::VerifierBuilderError> {
    ///     let verifier: Arc<dyn ServerCertVerifier> =
    ///         WebPkiServerVerifier::builder_with_provider(roots, provider).build()?;
    ///     Ok(ReqwestTrace::new(httptrace::ClientTrace::new())
    ///         .rustls(config)
    ///         .rustls_verifier(verifier))
    /// }
    /// ```
    #[cfg(feature = "rustls")]
    pub fn rustls_verifier(
        mut self,
        verifier: Arc<dyn rustls::client::danger::ServerCertVerifier>,
    ) -> Self {
        self.tls_verifier = Some(verifier);
        self
    }

    /// Sets reqwest's pool idle timeout (its `pool_idle_timeout`, 90 s by default) and tells
    /// this middleware, which remembers each connection for as long as reqwest's pool may
    /// keep it idle (to tell a reuse from a first use): set it here rather than on the
    /// builder, or a connection idle past 90 s is taken for a new one.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = Some(timeout);
        self.conns = Arc::new(Mutex::new(Conns::with_idle_timeout(timeout)));
        self
    }

    /// Also gives each request a trace of its own, made by `make` when the request starts
    /// (for state kept per request, like an [`httptrace::EventLog`]).
    pub fn trace_per_request(
        mut self,
        make: impl Fn() -> ClientTrace + Send + Sync + 'static,
    ) -> Self {
        self.per_request = Some(Arc::new(make));
        self
    }

    /// Records each request's [`httptrace::Timings`]: a [`TimingsRecorder`] in the response's
    /// extensions, complete once the body has ended.
    pub fn record_timings(mut self) -> Self {
        self.record_timings = true;
        self
    }

    /// Looks names up with `resolver` (traced) instead of the system's resolver.
    pub fn resolver(mut self, resolver: impl Resolve + 'static) -> Self {
        self.dns = TracedDns::new(resolver);
        self
    }

    /// Installs the traced DNS resolver and the connector layer on `builder`: what
    /// [`client`](Self::client) does before building, for a caller that builds the
    /// `reqwest_middleware` client itself (with this middleware in it).
    pub fn install(&self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        let builder = match self.pool_idle_timeout {
            Some(timeout) => builder.pool_idle_timeout(timeout),
            None => builder,
        };
        #[cfg(feature = "rustls")]
        let builder = match &self.tls {
            Some(seam) => builder
                .tls_backend_preconfigured(seam.config(self.tls_verifier.as_ref()))
                .tls_info(true),
            None => builder,
        };
        builder
            .dns_resolver(self.dns.clone())
            .connector_layer(ConnectionsLayer {
                conns: self.conns.clone(),
            })
    }

    /// Builds reqwest's client from `builder` with the traced resolver and connector layer,
    /// and returns a `reqwest_middleware` builder with this middleware in it; add others
    /// with `.with(..)`. Middleware added after this one runs inside it: a retry middleware
    /// added after it has its attempts traced as one request, one added before it has each
    /// attempt traced.
    pub fn client(
        self,
        builder: reqwest::ClientBuilder,
    ) -> reqwest::Result<reqwest_middleware::ClientBuilder> {
        let client = self.install(builder).build()?;
        Ok(reqwest_middleware::ClientBuilder::new(client).with(self))
    }

    /// The request's trace, the timings recorder apart. `None`: nothing to trace.
    fn request_trace(&self, extensions: &Extensions) -> Option<ClientTrace> {
        let own = extensions
            .get::<ClientTrace>()
            .or_else(|| extensions_client_trace(extensions));
        let ambient = current_trace();
        if own.is_none()
            && ambient.is_none()
            && self.per_request.is_none()
            && self.trace.is_empty()
            && !self.record_timings
        {
            return None;
        }
        let trace = RequestTraces::new()
            .own(own)
            .ambient(ambient)
            .per_request(self.per_request.as_ref().map(|make| make()))
            .layer(Some(&self.trace))
            .compose();
        Some(trace)
    }
}

#[async_trait::async_trait]
impl Middleware for ReqwestTrace {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let (Some(trace), Some(host_port)) = (self.request_trace(extensions), host_port(req.url()))
        else {
            return next.run(req, extensions).await;
        };
        if self.attempts_inside.load(Ordering::Acquire) {
            return call(trace, self.call_part(), req, extensions, next).await;
        }
        let timings = self.record_timings.then(TimingsRecorder::new);
        exchange(
            Exchange {
                trace,
                timings,
                conns: &self.conns,
                host_port,
            },
            req,
            extensions,
            next,
        )
        .await
    }
}
