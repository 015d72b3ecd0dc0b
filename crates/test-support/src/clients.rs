//! The clients the tests drive: our connector stack under hyper-util's pool, with or without
//! the layer, plain or over rustls, and the `httpstat` program.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use httptrace::{ClientTrace, Event};
use httptrace_tower::{
    HttpTrace, TraceConnector, TraceExecutor, TraceHttpConnector, TraceResolver, TracedRequestBody,
};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::assertions::within;
use crate::hold_dials::{DialHold, HoldDials};
use crate::resolver::TestResolver;

/// Our dialer over the test's resolver.
pub type TestDialer = TraceHttpConnector<TraceResolver<TestResolver>>;
pub type TestConnector = TraceConnector<TestDialer>;
pub type TestClient<B = Full<Bytes>> = HttpTrace<Client<TestConnector, TracedRequestBody<B>>>;

/// The traced stack the tests drive: our connector over `resolver`, hyper-util's pool.
pub fn client_with<B>(resolver: TestResolver, trace: ClientTrace) -> TestClient<B>
where
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    client_over(dialer(resolver), trace)
}

/// Our dialer over `resolver`, to configure before [`client_over`].
pub fn dialer(resolver: TestResolver) -> TraceHttpConnector<TraceResolver<TestResolver>> {
    TraceHttpConnector::with_resolver(TraceResolver::new(resolver))
}

pub fn client_over<B>(
    dialer: TraceHttpConnector<TraceResolver<TestResolver>>,
    trace: ClientTrace,
) -> TestClient<B>
where
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let client = Client::builder(TokioExecutor::new()).build(TraceConnector::new(dialer));
    HttpTrace::new(client, trace)
}

/// [`TestClient`]'s stack with its dials held on demand ([`HoldDials`]).
pub type HeldClient = HttpTrace<
    Client<
        TraceConnector<HoldDials<TraceHttpConnector<TraceResolver<TestResolver>>>>,
        TracedRequestBody<Full<Bytes>>,
    >,
>;

/// [`client`], with a handle that holds its new dials: after holding them, a request is
/// served by a pooled connection or not at all.
pub fn held_client(resolver: TestResolver, trace: ClientTrace) -> (HeldClient, DialHold) {
    let (dialer, hold) = HoldDials::new(dialer(resolver));
    let client = Client::builder(TokioExecutor::new()).build(TraceConnector::new(dialer));
    (HttpTrace::new(client, trace), hold)
}

/// A GET for `url` with `client`'s new dials held: only a pooled connection can serve it (or
/// it times out). Returns what `log` recorded since it was last taken.
pub async fn get_from_the_pool(
    client: &HeldClient,
    dials: &DialHold,
    url: &str,
    log: &httptrace::EventLog,
) -> Vec<Event> {
    dials.hold();
    let res = within("the pooled connection", client.request(get(url)))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    log.take()
}

/// hyper-util's pool over our connector stack, with no layer: for tests that put their own
/// stack over it.
pub fn pool<B>() -> Client<TestConnector, B>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Client::builder(TokioExecutor::new()).build(TraceConnector::new(dialer(TestResolver::new())))
}

pub fn client(resolver: TestResolver, trace: ClientTrace) -> TestClient {
    client_with(resolver, trace)
}

pub fn get(url: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(url).body(Full::default()).unwrap()
}

/// Reads a whole response body.
pub async fn read_body<B>(body: B) -> Bytes
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    body.collect().await.expect("body").to_bytes()
}

/// The same connector stack with no layer and no trace, to compare results against.
pub fn untraced_client(resolver: TestResolver) -> Client<TestConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build(TraceConnector::new(dialer(resolver)))
}

pub type TlsTestConnector = TraceConnector<
    httptrace_tower::connect::TraceTlsConnector<TraceHttpConnector<TraceResolver<TestResolver>>>,
>;
pub type TlsTestClient<B = Full<Bytes>> = HttpTrace<Client<TlsTestConnector, TracedRequestBody<B>>>;

/// The traced stack with rustls: `config` decides trust and ALPN; `http2_only` speaks HTTP/2
/// without asking (prior knowledge).
pub fn tls_client(
    resolver: TestResolver,
    trace: ClientTrace,
    config: std::sync::Arc<rustls::ClientConfig>,
    http2_only: bool,
) -> TlsTestClient {
    let mut dialer = dialer(resolver);
    dialer.enforce_http(false);
    let connector = TraceConnector::new(httptrace_tower::connect::TraceTlsConnector::new(
        dialer, config,
    ));
    let client = Client::builder(TokioExecutor::new())
        .http2_only(http2_only)
        .build(connector);
    HttpTrace::new(client, trace)
}

/// Our connector stack under hyper-util's pool speaking HTTP/2 by prior knowledge, with the
/// layer and no trace of its own.
pub fn h2_prior_knowledge_client() -> TestClient {
    HttpTrace::new(
        Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build(TraceConnector::new(dialer(TestResolver::new()))),
        ClientTrace::new(),
    )
}

/// [`h2_prior_knowledge_client`] spawning through a `TraceExecutor`, as the ready-made
/// clients do: its connection tasks name each stream's connection.
pub fn h2_prior_knowledge_client_linked() -> TestClient {
    HttpTrace::new(
        Client::builder(TraceExecutor::new(TokioExecutor::new()))
            .http2_only(true)
            .build(TraceConnector::new(dialer(TestResolver::new()))),
        ClientTrace::new(),
    )
}

/// The `httpstat` example (the `httpstat` crate's code), which `cargo test` builds next to
/// the test binaries' folder.
pub fn httpstat_example() -> std::process::Command {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = dir
        .join("examples")
        .join(format!("httpstat{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} not built; run through `cargo test`",
        path.display()
    );
    std::process::Command::new(path)
}
