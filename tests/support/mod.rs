//! Real parts for the end-to-end tests: hyper servers on loopback, a resolver service the
//! test controls, and a traced hyper-util client.
#![allow(dead_code, unused_imports)]

pub mod count_drops;
pub mod expect_server;
pub mod h2_raw;
pub mod hold_dials;
pub mod resolver;
pub mod secrets;
pub mod server;
pub mod tls;

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use httptrace::{ClientTrace, Event, EventKind};
use httptrace_tower::{
    HttpTrace, TraceConnector, TraceHttpConnector, TraceResolver, TracedRequestBody,
};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

pub use count_drops::CountDrops;
pub use expect_server::ExpectServer;
pub use hold_dials::{DialHold, HoldDials};
pub use resolver::TestResolver;
pub use secrets::{assert_no_secret, secret_request, secret_server, secret_url, SECRETS};
pub use server::{redirect_chain, Seen, TestServer, TlsSeen};
pub use tls::TestPki;

pub type TestConnector = TraceConnector<TraceHttpConnector<TraceResolver<TestResolver>>>;
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

/// The event names, with header fields shown as `WroteHeaderField(name)`.
pub fn names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match &e.kind {
            EventKind::WroteHeaderField(f) => format!("WroteHeaderField({})", f.name),
            _ => e.name().to_owned(),
        })
        .collect()
}

/// Waits until `cond` holds, for hooks that fire in another task; panics after 10 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A port on 127.0.0.1 where nothing listens.
pub async fn refused_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// An error's message followed by its sources' messages.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        out.push(s.to_string());
        source = s.source();
    }
    out
}

/// The same connector stack with no layer and no trace, to compare results against.
pub fn untraced_client(resolver: TestResolver) -> Client<TestConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build(TraceConnector::new(dialer(resolver)))
}

/// The `GotConn` of a log.
pub fn got_conn(events: &[Event]) -> httptrace::GotConnInfo {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::GotConn(i) => Some(i.clone()),
            _ => None,
        })
        .expect("a GotConn")
}

/// A listening socket that never accepts, its one-place queue already full: connecting to it
/// hangs (the kernel drops the SYNs), as a host that blackholes traffic does. Keep both
/// values alive for as long as it should stay so.
pub async fn blackhole(addr: &str) -> (tokio::net::TcpListener, std::net::TcpStream) {
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let socket = if addr.is_ipv6() {
        tokio::net::TcpSocket::new_v6()
    } else {
        tokio::net::TcpSocket::new_v4()
    }
    .unwrap();
    socket.bind(addr).unwrap();
    let listener = socket.listen(0).unwrap();
    let filler = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    (listener, filler)
}

/// Whether this machine has IPv6 loopback; tests that need it say so and stop when not.
pub fn has_ipv6_loopback() -> bool {
    let ok = std::net::TcpListener::bind("[::1]:0").is_ok();
    if !ok {
        eprintln!("no IPv6 loopback on this machine: skipping the IPv6 part of this test");
    }
    ok
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

/// A server that reads the first bytes a client sends (a TLS ClientHello, say) and closes.
pub async fn closing_after_first_bytes() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut chunk = [0u8; 64];
            let _ = stream.read(&mut chunk).await;
            drop(stream);
        }
    });
    (addr, task)
}

/// Fails the test instead of hanging it.
pub async fn within<F: std::future::Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} took more than 20 s"))
}

/// A raw HTTP/1.1 server: for each request head read on a connection it writes
/// `answer(request number on that connection)` verbatim, and keeps the connection open.
pub async fn scripted_server(
    answer: impl Fn(usize) -> Vec<u8> + Send + Sync + 'static,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = std::sync::Arc::new(answer);
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut n = 0;
                loop {
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        if stream.write_all(&answer(n)).await.is_err() {
                            return;
                        }
                        n += 1;
                    }
                    let mut chunk = [0u8; 4096];
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
            });
        }
    });
    (addr, task)
}

/// The invariants every request's log must hold, whatever went wrong (issue #5): every
/// `*Start` has exactly one matching `*Done` after it; `GotConn` at most once (one attempt);
/// `PutIdleConn` at most once, and only after a `GotConn`; `WroteRequest` at most once and
/// only after a `GotConn`; nothing before `GetConn`.
pub fn assert_well_formed(events: &[Event]) {
    let names = names(events);
    let count = |n: &str| names.iter().filter(|m| *m == n).count();
    assert_eq!(
        names.first().map(String::as_str),
        Some("GetConn"),
        "{names:?}"
    );
    assert_eq!(count("GetConn"), 1, "{names:?}");
    for (start, done) in [
        ("DNSStart", "DNSDone"),
        ("ConnectStart", "ConnectDone"),
        ("TLSHandshakeStart", "TLSHandshakeDone"),
    ] {
        assert_eq!(count(start), count(done), "{start}/{done} in {names:?}");
        let mut open = 0i32;
        for n in &names {
            if n == start {
                open += 1;
            } else if n == done {
                open -= 1;
                assert!(open >= 0, "{done} before its {start} in {names:?}");
            }
        }
    }
    // Dials are per address: each ConnectDone names an address a ConnectStart named.
    let mut dialling = std::collections::HashMap::new();
    for e in events {
        match &e.kind {
            EventKind::ConnectStart(s) => *dialling.entry(s.addr).or_insert(0) += 1,
            EventKind::ConnectDone(d) => {
                let n = dialling
                    .get_mut(&d.addr)
                    .expect("ConnectDone for an address never dialled");
                *n -= 1;
                assert!(*n >= 0);
            }
            _ => {}
        }
    }
    assert!(count("GotConn") <= 1, "{names:?}");
    for once in [
        "PutIdleConn",
        "WroteRequest",
        "WroteHeaders",
        "GotFirstResponseByte",
    ] {
        assert!(count(once) <= 1, "{once} twice in {names:?}");
        if count(once) == 1 {
            let at = names.iter().position(|n| n == once).unwrap();
            let got = names.iter().position(|n| n == "GotConn");
            assert!(
                got.is_some_and(|g| g < at),
                "{once} without a GotConn before it in {names:?}"
            );
        }
    }
}

/// A raw server that, on each connection, reads one request head and then writes `bytes`;
/// `reset` ends with a TCP reset (SO_LINGER 0) rather than a close; `hold` keeps the
/// connection open without a word.
pub async fn misbehaving_server(
    bytes: &'static [u8],
    reset: bool,
    hold: bool,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = stream.write_all(bytes).await;
                let _ = stream.flush().await;
                // Let the client read what was sent before the connection ends.
                tokio::time::sleep(Duration::from_millis(100)).await;
                if hold {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                if reset {
                    let _ = stream.set_zero_linger();
                }
                drop(stream);
            });
        }
    });
    (addr, task)
}

/// What a dial in [`settle`]'s log goes through after its TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dials {
    /// Plain TCP: a connection's `ConnectDone` ends its dial.
    Tcp,
    /// TLS over TCP: a connection's `ConnectDone` is followed by its handshake.
    Tls,
}

/// Waits until every dial and lookup in `log` has its end: a dial that lost the race to an
/// idle connection finishes in the background, after its request (as in Go), and reports late.
///
/// Counting starts and ends is not enough: a lookup's `DNSDone` and its first `ConnectStart`,
/// and a connection's `ConnectDone` and its `TLSHandshakeStart`, fire in one poll of the dial
/// on another thread, and a log read between them looks balanced. So a settled log also has
/// a `ConnectStart` for every lookup that found addresses and, over TLS, a
/// `TLSHandshakeStart` for every connection made.
pub async fn settle(log: &httptrace::EventLog, dials: Dials) {
    let settled = || {
        let events = log.events();
        let count = |x: &str| events.iter().filter(|e| e.name() == x).count();
        let found = events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::DnsDone(d) if !d.addrs.is_empty()))
            .count();
        let connected = events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::ConnectDone(d) if d.err.is_none()))
            .count();
        count("DNSStart") == count("DNSDone")
            && count("ConnectStart") == count("ConnectDone")
            && count("TLSHandshakeStart") == count("TLSHandshakeDone")
            && found <= count("ConnectStart")
            && (dials == Dials::Tcp || connected == count("TLSHandshakeStart"))
    };
    eventually("background dials to finish", settled).await;
}

/// A GET by host name over a fresh plain HTTP/1.1 connection, as Go's sixteen hooks
/// (`EventLog::trace`) record it.
pub const GO_FRESH_HTTP1_GET: [&str; 11] = [
    "GetConn",
    "DNSStart",
    "DNSDone",
    "ConnectStart",
    "ConnectDone",
    "GotConn",
    "WroteHeaderField(host)",
    "WroteHeaders",
    "WroteRequest",
    "GotFirstResponseByte",
    "PutIdleConn",
];

/// [`GO_FRESH_HTTP1_GET`] to an IP literal: no lookup.
pub fn go_fresh_http1_get_by_ip() -> Vec<&'static str> {
    GO_FRESH_HTTP1_GET
        .into_iter()
        .filter(|n| !n.starts_with("DNS"))
        .collect()
}

/// [`GO_FRESH_HTTP1_GET`] on a connection taken from the pool.
pub const GO_REUSED_HTTP1_GET: [&str; 7] = [
    "GetConn",
    "GotConn",
    "WroteHeaderField(host)",
    "WroteHeaders",
    "WroteRequest",
    "GotFirstResponseByte",
    "PutIdleConn",
];

/// An HTTP/1.1 exchange with an IP literal (no lookup) as Go's sixteen hooks record it: on a
/// `fresh` connection (dialled first) or one taken from the pool, with the head's `fields`
/// in wire order. [`go_fresh_http1_get_by_ip`] and [`GO_REUSED_HTTP1_GET`] are its GETs.
pub fn go_http1_by_ip(fresh: bool, fields: &[&str]) -> Vec<String> {
    let mut events = vec!["GetConn".to_owned()];
    if fresh {
        events.extend(["ConnectStart", "ConnectDone"].map(String::from));
    }
    events.push("GotConn".to_owned());
    events.extend(fields.iter().map(|f| format!("WroteHeaderField({f})")));
    events.extend(
        [
            "WroteHeaders",
            "WroteRequest",
            "GotFirstResponseByte",
            "PutIdleConn",
        ]
        .map(String::from),
    );
    events
}

/// The pseudo-header fields that open an HTTP/2 request's HEADERS frame, as `EventLog` names
/// their `WroteHeaderField` events, in the order the h2 crate writes them.
pub const GO_HTTP2_PSEUDO_FIELDS: [&str; 4] = [
    "WroteHeaderField(:method)",
    "WroteHeaderField(:scheme)",
    "WroteHeaderField(:authority)",
    "WroteHeaderField(:path)",
];

/// A stream on an HTTP/2 connection already open, as Go's sixteen hooks (`EventLog::trace`)
/// record it: the regular header `fields` after the pseudo ones, and no `PutIdleConn`.
pub fn go_http2_stream_on_open_connection(fields: &[&str]) -> Vec<String> {
    let mut events = vec!["GetConn".to_owned(), "GotConn".to_owned()];
    events.extend(GO_HTTP2_PSEUDO_FIELDS.map(String::from));
    events.extend(fields.iter().map(|f| format!("WroteHeaderField({f})")));
    events.extend(["WroteHeaders", "WroteRequest", "GotFirstResponseByte"].map(String::from));
    events
}

/// A GET over a fresh plain HTTP/1.1 connection (an IP literal: no lookup), as a trace with
/// every hook (`EventLog::trace_beyond_go`) records it, without its header fields.
pub const FRESH_HTTP1_GET: [&str; 10] = [
    "GetConn",
    "ConnectStart",
    "ConnectDone",
    "GotConn",
    "WroteHeaders",
    "RequestBodyDone",
    "WroteRequest",
    "GotFirstResponseByte",
    "PutIdleConn",
    "ResponseBodyDone",
];

/// [`FRESH_HTTP1_GET`] on a connection taken from the pool.
pub const REUSED_HTTP1_GET: [&str; 8] = [
    "GetConn",
    "GotConn",
    "WroteHeaders",
    "RequestBodyDone",
    "WroteRequest",
    "GotFirstResponseByte",
    "PutIdleConn",
    "ResponseBodyDone",
];

/// An HTTP/2 (prior knowledge) server that sends GOAWAY after answering its first request on
/// each connection (hyper's graceful shutdown).
pub async fn goaway_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (answered_tx, answered) = tokio::sync::oneshot::channel::<()>();
                let answered_tx = std::sync::Mutex::new(Some(answered_tx));
                let service = hyper::service::service_fn(move |_req| {
                    if let Some(tx) = answered_tx.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                    async {
                        Ok::<_, std::convert::Infallible>(http::Response::new(
                            http_body_util::Full::new(bytes::Bytes::from_static(b"ok")),
                        ))
                    }
                });
                let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => return,
                    _ = answered => {}
                }
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            });
        }
    });
    (addr, task)
}

/// A raw server that answers each request head with `100 Continue` again and again, until
/// the client closes the connection (or a bound is reached); sends how many it wrote per
/// connection once that connection ends.
pub async fn endless_continue_server() -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<u64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (ended, ends) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let ended = ended.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let mut wrote = 0u64;
                while wrote < 1_000_000
                    && stream
                        .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                        .await
                        .is_ok()
                {
                    wrote += 1;
                }
                let _ = ended.send(wrote);
            });
        }
    });
    (addr, ends)
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

/// The values `WroteHeaderField` reported for `name`, in order (one per call).
pub fn written_values(events: &[Event], name: &str) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::WroteHeaderField(f) if f.name == name => {
                Some(String::from_utf8_lossy(f.values[0].as_bytes()).into_owned())
            }
            _ => None,
        })
        .collect()
}

/// What the caller saw of `sent`: the status and the body's outcome, or the error chain;
/// "timed out" past `patience`.
pub async fn outcome_within<B, E>(
    patience: Duration,
    sent: impl std::future::Future<Output = Result<http::Response<B>, E>>,
) -> String
where
    B: http_body::Body,
    B::Error: std::error::Error + 'static,
    E: std::error::Error + 'static,
{
    match tokio::time::timeout(patience, sent).await {
        Err(_) => "timed out".to_owned(),
        Ok(Ok(res)) => {
            let status = res.status();
            match res.into_body().collect().await {
                Ok(body) => format!("{status} body {:?}", body.to_bytes()),
                Err(e) => format!("{status} body error {:?}", error_chain(&e)),
            }
        }
        Ok(Err(e)) => format!("error {:?}", error_chain(&e)),
    }
}

/// Shuts `io` down through hyper's I/O traits and checks that the socket heard it: nothing
/// can be written after.
pub async fn assert_shuts_down(io: &mut (impl hyper::rt::Write + Unpin)) {
    use std::pin::Pin;
    std::future::poll_fn(|cx| hyper::rt::Write::poll_shutdown(Pin::new(&mut *io), cx))
        .await
        .unwrap();
    let wrote =
        std::future::poll_fn(|cx| hyper::rt::Write::poll_write(Pin::new(&mut *io), cx, b"x")).await;
    assert!(wrote.is_err(), "written after shutdown");
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
