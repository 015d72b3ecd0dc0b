//! Deployment matrices: a test names the protocols, runtime flavours, clients and runtimes
//! per process, and situations it runs over, and gets each cell's exchanges, every one with
//! its own event log and the server's view of it (when the request was received, on which
//! connection), so that a cell's assertion is a few lines.
//!
//! ```no_run
//! use httptrace_test_support::matrix::{Matrix, Protocol, Situation};
//!
//! Matrix::new()
//!     .protocols([Protocol::Http1, Protocol::Http2PriorKnowledge])
//!     .situations([Situation::Fresh, Situation::Reused])
//!     .run(|cell, exchanges| {
//!         for x in exchanges {
//!             assert!(x.at("GotConn").unwrap() < x.server.received_at, "{cell:?}");
//!         }
//!     });
//! ```
//!
//! Every request goes to the server's `/slow` path (answered 200 ms late, so a hook that
//! waits for the response shows), with an `x-request-id` that ties it to what the server saw.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use httptrace::{with_client_trace, ClientTrace, Event, EventKind, EventLog, GotConnInfo};
use httptrace_tower::connect::TraceTlsConnector;
use httptrace_tower::{HttpTrace, TraceConnector, TraceExecutor, TracedRequestBody};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::assertions::within;
use crate::clients::{dialer, read_body};
use crate::hold_dials::{DialHold, HoldDials};
use crate::pki::TestPki;
use crate::resolver::TestResolver;
use crate::server::{Seen, TestServer};

/// How the client speaks to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Plain HTTP/1.1, the connector told `http2_only_by_alpn` (as `http_client` builds it).
    Http1,
    /// HTTPS, HTTP/2 chosen by ALPN (as `https_client` builds it).
    Http2ByAlpn,
    /// Cleartext HTTP/2 without asking (`http2_only`: how tonic and in-cluster gRPC connect).
    Http2PriorKnowledge,
}

/// The runtime the clients run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// `new_current_thread`.
    CurrentThread,
    /// `new_multi_thread` with two workers.
    MultiThread,
}

/// How many clients and runtimes share the process, each sending the situation's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One client on one runtime.
    OneClient,
    /// Two clients on one runtime, to the same server at once.
    TwoClients,
    /// Two runtimes, each on a thread of its own with a client of its own, at once.
    TwoRuntimes,
}

/// What each client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Situation {
    /// One request on a new client: a fresh connection's first request.
    Fresh,
    /// Two requests one after the other: the second on the first's connection (the client's
    /// new dials are held for it, so that it waits for the pool rather than racing it).
    Reused,
    /// A request, a quiet spell past the pool's idle timeout (200 ms), another request.
    AfterIdleTimeout,
    /// [`CONCURRENT`] requests at once on a new client.
    Concurrent,
}

/// How many cells run at once: each waits on its server more than it computes, but many at
/// once on two cores would starve the threads whose timing they look at.
pub const AT_ONCE: usize = 8;

/// How many requests [`Situation::Concurrent`] sends at once.
pub const CONCURRENT: usize = 16;

/// The pool's idle timeout in every cell: longer than the server's 200 ms (with 200 ms, a
/// second HTTP/2 request after a first that took the server 200 ms found no pooled
/// connection: hyper-util seems to count idle time from when a connection entered the pool).
pub const IDLE_TIMEOUT: Duration = Duration::from_millis(500);

/// One cell of a matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub protocol: Protocol,
    pub flavour: Flavour,
    pub shape: Shape,
    pub situation: Situation,
}

/// One request of a cell: its log and what the server saw of it. The clients are built as
/// `http_client` and `https_client` build theirs: spawning through a `TraceExecutor`.
#[derive(Debug)]
pub struct Exchange {
    /// Which client sent it (0 or 1).
    pub client: usize,
    /// Its place in its client's sequence (0 first; the requests of `Concurrent` all 0).
    pub step: usize,
    /// Its events, from a trace with every hook (`EventLog::trace_beyond_go`).
    pub events: Vec<Event>,
    /// When its log started, just before the request was sent.
    pub started: Instant,
    /// The server's view of it.
    pub server: Seen,
}

impl Exchange {
    /// When the first event named `hook` fired.
    pub fn at(&self, hook: &str) -> Option<Instant> {
        let event = self.events.iter().find(|e| e.name() == hook)?;
        Some(self.started + event.at)
    }

    /// What `GotConn` told.
    pub fn got_conn(&self) -> Option<GotConnInfo> {
        self.events.iter().find_map(|e| match &e.kind {
            EventKind::GotConn(info) => Some(info.clone()),
            _ => None,
        })
    }

    /// The connection `GotConn` named, by its local address (what the server calls its peer).
    pub fn got_conn_local_addr(&self) -> Option<std::net::SocketAddr> {
        self.got_conn()?.conn.local_addr
    }
}

/// The cells to run: every value of each dimension unless narrowed.
#[derive(Clone)]
pub struct Matrix {
    make: MakeClient,
    protocols: Vec<Protocol>,
    flavours: Vec<Flavour>,
    shapes: Vec<Shape>,
    situations: Vec<Situation>,
}

impl Default for Matrix {
    fn default() -> Self {
        Matrix {
            make: Arc::new(hyper_util_client),
            protocols: vec![
                Protocol::Http1,
                Protocol::Http2ByAlpn,
                Protocol::Http2PriorKnowledge,
            ],
            flavours: vec![Flavour::CurrentThread, Flavour::MultiThread],
            shapes: vec![Shape::OneClient, Shape::TwoClients, Shape::TwoRuntimes],
            situations: vec![
                Situation::Fresh,
                Situation::Reused,
                Situation::AfterIdleTimeout,
                Situation::Concurrent,
            ],
        }
    }
}

impl Matrix {
    /// Every protocol, flavour, shape and situation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs another client kind than hyper-util's `Client` over our stack (the default).
    pub fn clients(mut self, make: MakeClient) -> Self {
        self.make = make;
        self
    }

    pub fn protocols(mut self, protocols: impl IntoIterator<Item = Protocol>) -> Self {
        self.protocols = protocols.into_iter().collect();
        self
    }

    pub fn flavours(mut self, flavours: impl IntoIterator<Item = Flavour>) -> Self {
        self.flavours = flavours.into_iter().collect();
        self
    }

    pub fn shapes(mut self, shapes: impl IntoIterator<Item = Shape>) -> Self {
        self.shapes = shapes.into_iter().collect();
        self
    }

    pub fn situations(mut self, situations: impl IntoIterator<Item = Situation>) -> Self {
        self.situations = situations.into_iter().collect();
        self
    }

    /// The cells, protocol outermost.
    pub fn cells(&self) -> Vec<Cell> {
        let mut cells = Vec::new();
        for &protocol in &self.protocols {
            for &flavour in &self.flavours {
                for &shape in &self.shapes {
                    for &situation in &self.situations {
                        cells.push(Cell {
                            protocol,
                            flavour,
                            shape,
                            situation,
                        });
                    }
                }
            }
        }
        cells
    }

    /// Runs the cells, [`AT_ONCE`] at a time, each on a thread with a server and runtimes of
    /// its own, then gives `check` each cell's exchanges in the order each client sent them
    /// (client 0's first). Call from a plain `#[test]`: it makes its own runtimes.
    pub fn run(&self, check: impl Fn(&Cell, &[Exchange])) {
        let pki = Arc::new(TestPki::new("matrix"));
        let cells = self.cells();
        let mut results: Vec<Vec<Exchange>> = Vec::new();
        for batch in cells.chunks(AT_ONCE) {
            std::thread::scope(|s| {
                let threads: Vec<_> = batch
                    .iter()
                    .map(|cell| {
                        let (pki, make) = (&pki, &self.make);
                        s.spawn(move || run_cell(cell, pki, make))
                    })
                    .collect();
                results.extend(threads.into_iter().map(|t| t.join().unwrap()));
            });
        }
        for (cell, exchanges) in cells.iter().zip(results) {
            check(cell, &exchanges);
        }
    }
}

/// A client kind the matrix runs: sends a GET (its trace in its extensions, as
/// `with_client_trace` put it) and reads the answer to its end.
pub trait MatrixSender: Send + Sync + 'static {
    /// Sends `req`; the answer's body read to its end, or what failed.
    fn send(&self, req: http::Request<Full<Bytes>>) -> BoxedSend;

    /// From now on the client's new dials wait for good (for [`Situation::Reused`]: only
    /// the pooled connection can serve the next request); where the client kind's connector
    /// cannot be held, the situation waits instead (see [`Matrix::clients`]).
    fn hold_dials(&self) -> bool;
}

/// What [`MatrixSender::send`] returns.
pub type BoxedSend =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// Makes a client of a kind for a protocol, trusting the matrix's private CA; each client
/// is new (its own pool and connector).
pub type MakeClient = Arc<dyn Fn(Protocol, &TestPki) -> Arc<dyn MatrixSender> + Send + Sync>;

type MatrixClient = HttpTrace<
    Client<
        TraceConnector<TraceTlsConnector<HoldDials<crate::clients::TestDialer>>>,
        TracedRequestBody<Full<Bytes>>,
    >,
>;

/// hyper-util's `Client` over our connector stack, as the ready-made clients build it.
struct HyperUtilClient {
    client: MatrixClient,
    hold: DialHold,
}

impl MatrixSender for HyperUtilClient {
    fn send(&self, req: http::Request<Full<Bytes>>) -> BoxedSend {
        let client = self.client.clone();
        Box::pin(async move {
            let res = client.request(req).await.map_err(|e| e.to_string())?;
            read_body(res.into_body()).await;
            Ok(())
        })
    }

    fn hold_dials(&self) -> bool {
        self.hold.hold();
        true
    }
}

/// The server a cell's protocol needs, on a runtime of its own (kept with it).
struct CellServer {
    server: TestServer,
    _runtime: tokio::runtime::Runtime,
}

fn start_server(protocol: Protocol, pki: &TestPki) -> CellServer {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        match protocol {
            Protocol::Http1 | Protocol::Http2PriorKnowledge => TestServer::start().await,
            Protocol::Http2ByAlpn => {
                let leaf = pki.leaf(&["127.0.0.1"], false);
                TestServer::start_tls(pki.server_config(leaf, &[b"h2", b"http/1.1"])).await
            }
        }
    });
    CellServer {
        server,
        _runtime: runtime,
    }
}

/// A hyper-util client of the cell's protocol.
fn hyper_util_client(protocol: Protocol, pki: &TestPki) -> Arc<dyn MatrixSender> {
    let mut dialer = dialer(TestResolver::new());
    dialer.enforce_http(false);
    let (dialer, hold) = HoldDials::new(dialer);
    let tls = TraceTlsConnector::new(dialer, pki.client_config(&[b"h2", b"http/1.1"]));
    let connector = TraceConnector::new(tls);
    let mut builder = Client::builder(TraceExecutor::new(TokioExecutor::new()));
    builder
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_timer(TokioTimer::new());
    let client = match protocol {
        Protocol::Http2PriorKnowledge => builder.http2_only(true).build(connector),
        Protocol::Http1 | Protocol::Http2ByAlpn => builder.build(connector.http2_only_by_alpn()),
    };
    Arc::new(HyperUtilClient {
        client: HttpTrace::new(client, ClientTrace::new()),
        hold,
    })
}

fn runtime(flavour: Flavour) -> tokio::runtime::Runtime {
    match flavour {
        Flavour::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Flavour::MultiThread => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(2);
            builder
        }
    }
    .enable_all()
    .build()
    .unwrap()
}

/// A request's log and id before the server's view is joined to it.
struct Sent {
    client: usize,
    step: usize,
    id: String,
    log: EventLog,
    started: Instant,
}

fn run_cell(cell: &Cell, pki: &Arc<TestPki>, make: &MakeClient) -> Vec<Exchange> {
    let server = start_server(cell.protocol, pki);
    let url = match cell.protocol {
        Protocol::Http2ByAlpn => server
            .server
            .url("127.0.0.1", "/slow")
            .replace("http:", "https:"),
        _ => server.server.url("127.0.0.1", "/slow"),
    };
    let url = url.as_str();
    let mut sent = match cell.shape {
        Shape::OneClient => runtime(cell.flavour).block_on(async {
            let client = make(cell.protocol, pki);
            situation(cell, client, 0, url).await
        }),
        Shape::TwoClients => runtime(cell.flavour).block_on(async {
            let (a, b) = (make(cell.protocol, pki), make(cell.protocol, pki));
            let (mut a, b) = tokio::join!(situation(cell, a, 0, url), situation(cell, b, 1, url));
            a.extend(b);
            a
        }),
        Shape::TwoRuntimes => std::thread::scope(|s| {
            let threads: Vec<_> = (0..2)
                .map(|n| {
                    s.spawn(move || {
                        runtime(cell.flavour).block_on(async {
                            let client = make(cell.protocol, pki);
                            situation(cell, client, n, url).await
                        })
                    })
                })
                .collect();
            threads
                .into_iter()
                .flat_map(|t| t.join().unwrap())
                .collect()
        }),
    };
    let seen = server.server.seen();
    sent.sort_by_key(|s| (s.client, s.step));
    sent.into_iter()
        .map(|s| {
            let server = seen
                .iter()
                .find(|seen| seen.request_id.as_deref() == Some(s.id.as_str()))
                .unwrap_or_else(|| panic!("{cell:?}: the server never saw request {}", s.id))
                .clone();
            Exchange {
                client: s.client,
                step: s.step,
                events: s.log.events(),
                started: s.started,
                server,
            }
        })
        .collect()
}

/// Client `n`'s requests in `cell`'s situation, each read to its end.
async fn situation(cell: &Cell, client: Arc<dyn MatrixSender>, n: usize, url: &str) -> Vec<Sent> {
    let one = |step: usize, k: usize| {
        send(
            client.clone(),
            n,
            step,
            format!("{n}-{step}-{k}"),
            url.to_owned(),
        )
    };
    match cell.situation {
        Situation::Fresh => vec![one(0, 0).await],
        Situation::Reused => {
            let first = one(0, 0).await;
            if !client.hold_dials() {
                // The client's pool takes the connection back from a task of its own, with
                // no event to wait on (RELIABILITY.md, "Clock waits").
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            vec![first, one(1, 0).await]
        }
        Situation::AfterIdleTimeout => {
            let first = one(0, 0).await;
            // The quiet spell is the situation itself: the pool's timeout must pass.
            tokio::time::sleep(IDLE_TIMEOUT + Duration::from_millis(100)).await;
            vec![first, one(1, 0).await]
        }
        Situation::Concurrent => {
            let mut set = tokio::task::JoinSet::new();
            for k in 0..CONCURRENT {
                set.spawn(one(0, k));
            }
            set.join_all().await
        }
    }
}

async fn send(
    client: Arc<dyn MatrixSender>,
    n: usize,
    step: usize,
    id: String,
    url: String,
) -> Sent {
    let log = EventLog::new();
    let mut req = http::Request::get(url)
        .header("x-request-id", id.as_str())
        .body(Full::default())
        .unwrap();
    with_client_trace(&mut req, log.trace_beyond_go());
    let started = log.started_at();
    within("a matrix request", client.send(req)).await.unwrap();
    Sent {
        client: n,
        step,
        id,
        log,
        started,
    }
}
