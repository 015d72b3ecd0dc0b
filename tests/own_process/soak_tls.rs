//! A process of its own: it sets the global `tracing` subscriber and counts the process's
//! live connection states.
//!
//! A bounded soak over TLS, alone in its binary (it counts the process's connection states
//! and spans): HTTP/2 streams and HTTPS/1.1 requests, 32 in flight, mixing reuse, bodies
//! dropped half read and requests dropped while the server waits. Each request has a trace
//! that sets every hook (`ConnClosed` included) and `TracingEvents` recording into a span of
//! its own. Every log holds the invariants; once the clients are dropped, every span is
//! closed, every connection state freed, and every connection reported closed.

extern crate httptrace_test_support as support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use httptrace::{with_client_trace, ClientTrace, EventLog};
use httptrace_tower::connect::TraceTlsConnector;
use httptrace_tower::{
    live_connection_states, HttpTrace, HttpTraceLayer, TraceConnector, TracingEvents,
};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::*;
use tower::{Layer, ServiceExt};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Instrument, Metadata, Subscriber};

const REQUESTS: usize = 3_000;
const IN_FLIGHT: usize = 32;

/// Counts the spans alive (a span closes when its last handle is dropped) and the events.
#[derive(Default)]
struct SpanCounter {
    next: AtomicU64,
    handles: Mutex<HashMap<u64, usize>>,
    open: AtomicI64,
    events: AtomicUsize,
}

impl Subscriber for &'static SpanCounter {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.handles.lock().unwrap().insert(id, 1);
        self.open.fetch_add(1, Ordering::SeqCst);
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        if event.metadata().target() == "httptrace" {
            self.events.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
    fn clone_span(&self, id: &Id) -> Id {
        *self
            .handles
            .lock()
            .unwrap()
            .get_mut(&id.into_u64())
            .unwrap() += 1;
        id.clone()
    }
    fn try_close(&self, id: Id) -> bool {
        let mut handles = self.handles.lock().unwrap();
        let left = handles.get_mut(&id.into_u64()).unwrap();
        *left -= 1;
        if *left == 0 {
            handles.remove(&id.into_u64());
            self.open.fetch_sub(1, Ordering::SeqCst);
            return true;
        }
        false
    }
}

static SPANS: std::sync::LazyLock<SpanCounter> = std::sync::LazyLock::new(SpanCounter::default);

/// Connections that carried a request (a fresh `GotConn`), established (a TLS handshake done)
/// and reported closed, over every request.
static MADE: AtomicUsize = AtomicUsize::new(0);
static HANDSHAKES: AtomicUsize = AtomicUsize::new(0);
static CLOSED: AtomicUsize = AtomicUsize::new(0);

type Pool = Client<
    TraceConnector<
        TraceTlsConnector<
            httptrace_tower::TraceHttpConnector<httptrace_tower::TraceResolver<TestResolver>>,
        >,
    >,
    httptrace_tower::TracedRequestBody<Full<Bytes>>,
>;

/// A TLS client offering `alpn`, with every hook counted and `TracingEvents` per request.
fn client(pki: &TestPki, alpn: &[&[u8]]) -> HttpTrace<Pool> {
    let mut dialer = dialer(TestResolver::new().with("soak.test", &["127.0.0.1"]));
    dialer.enforce_http(false);
    let pool: Pool = Client::builder(TokioExecutor::new()).build(TraceConnector::new(
        TraceTlsConnector::new(dialer, pki.client_config(alpn)),
    ));
    let counting = ClientTrace::new()
        .on_got_conn(|i| {
            if !i.reused {
                MADE.fetch_add(1, Ordering::SeqCst);
            }
        })
        .on_tls_handshake_done(|i| {
            if i.err.is_none() {
                HANDSHAKES.fetch_add(1, Ordering::SeqCst);
            }
        })
        .on_conn_closed(|_| {
            CLOSED.fetch_add(1, Ordering::SeqCst);
        });
    let events = TracingEvents::new();
    HttpTraceLayer::new(counting)
        .trace_per_request(move || events.trace())
        .layer(pool)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_and_https_requests_leave_no_span_and_no_connection_state_behind() {
    tracing::subscriber::set_global_default(&*SPANS).unwrap();
    let pki = TestPki::new("soak CA");
    let server = TestServer::start_tls(
        pki.server_config(pki.leaf(&["soak.test"], false), &[b"h2", b"http/1.1"]),
    )
    .await;
    let clients = Arc::new([client(&pki, &[b"h2"]), client(&pki, &[b"http/1.1"])]);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (clients, next) = (clients.clone(), next.clone());
        let urls = ["/", "/big", "/slow"].map(|p| server.url("soak.test", p));
        workers.push(tokio::spawn(async move {
            let mut counts = [0usize; 3];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= REQUESTS {
                    return counts;
                }
                let client = &clients[i % 2];
                // One in 40 is dropped while the server waits; one in 8 dropped half read.
                let kind = match i % 40 {
                    0 => 2,
                    n if n % 8 == 1 => 1,
                    _ => 0,
                };
                let log = EventLog::new();
                let mut req = get(&urls[kind]);
                with_client_trace(&mut req, log.trace_beyond_go());
                let span = tracing::info_span!("soak request");
                async {
                    match kind {
                        0 => {
                            let res = client.clone().oneshot(req).await.expect("a plain request");
                            assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "ok");
                        }
                        1 => {
                            let res = client.clone().oneshot(req).await.expect("a large response");
                            let mut body = res.into_body();
                            body.frame().await.unwrap().unwrap();
                        }
                        _ => {
                            let waited = tokio::time::timeout(
                                Duration::from_millis(20),
                                client.clone().oneshot(req),
                            );
                            assert!(waited.await.is_err(), "the server waits 200 ms");
                        }
                    }
                }
                .instrument(span)
                .await;
                counts[kind] += 1;
                settle(&log, Dials::Tls).await;
                let events = log.take();
                // The call's own events: a connection's close comes later, to whichever
                // request dialled it.
                let own: Vec<_> = events
                    .into_iter()
                    .filter(|e| e.name() != "ConnClosed")
                    .collect();
                assert_well_formed(&own);
            }
        }));
    }
    let mut counts = [0usize; 3];
    for w in workers {
        let c = tokio::time::timeout(Duration::from_secs(240), w)
            .await
            .expect("soak within 240 s")
            .unwrap();
        for k in 0..3 {
            counts[k] += c[k];
        }
    }
    assert_eq!(counts.iter().sum::<usize>(), REQUESTS, "{counts:?}");
    assert!(SPANS.events.load(Ordering::Relaxed) > REQUESTS * 5);
    drop(clients);
    eventually("every connection state to be freed", || {
        live_connection_states() == 0
    })
    .await;
    // Every connection established reports its close: those that carried a request and
    // those a dropped request or a lost race left unused.
    eventually("every connection to report its close", || {
        CLOSED.load(Ordering::SeqCst) == HANDSHAKES.load(Ordering::SeqCst)
    })
    .await;
    assert!(MADE.load(Ordering::SeqCst) <= HANDSHAKES.load(Ordering::SeqCst));
    eventually("every span to close", || {
        SPANS.open.load(Ordering::SeqCst) == 0
    })
    .await;
    println!(
        "soak over TLS: {REQUESTS} requests ({counts:?} plain/dropped half read/cancelled), {} connections",
        MADE.load(Ordering::SeqCst)
    );
}
