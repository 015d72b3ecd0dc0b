//! Every fault row of RELIABILITY.md, sent through hyper-util's own stack (its `Client` and
//! `HttpConnector`, hyper-rustls for TLS: none of our types) and through the same connector
//! under our `TraceConnector` and layer, with a trace that sets every hook: the caller sees
//! the same outcome, and the trace's log holds the invariants.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use httptrace::EventLog;
use httptrace_tower::{HttpTrace, TraceConnector, TracedRequestBody};
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::*;

/// How long a row waits for a server that never answers before calling it "timed out".
const PATIENCE: Duration = Duration::from_millis(300);

/// How a row builds its clients.
#[derive(Clone, Copy)]
enum Stack {
    Http1,
    /// HTTP/2 by prior knowledge.
    Http2,
    /// HTTPS, trusting `TestPki`'s CA (a fresh one: the server's is never trusted).
    Https,
}

/// The error hyper's HTTP/2 client reports when it loses a stream to a graceful GOAWAY.
const GOAWAY_RACE: &str = "not a result of an error";

/// The row whose server sends GOAWAY right after its answer.
fn is_goaway_row(fault: &str) -> bool {
    fault.starts_with("GOAWAY")
}

/// Our stack over connector `C`.
type Traced<C> = HttpTrace<Client<TraceConnector<C>, TracedRequestBody<Full<Bytes>>>>;

/// What a row waits for between its requests.
#[derive(Clone, Copy)]
enum Between {
    /// This long.
    Sleep(Duration),
    /// Both clients have dropped every connection made so far (the pool let it go).
    ConnectionsDropped,
}

const AT_ONCE: Between = Between::Sleep(Duration::ZERO);

/// One fault row: the URLs sent one after the other, `between` apart.
struct Row {
    fault: &'static str,
    stack: Stack,
    connect_timeout: Option<Duration>,
    urls: Vec<String>,
    between: Between,
}

fn http(connect_timeout: Option<Duration>) -> HttpConnector {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(connect_timeout);
    http.enforce_http(false);
    http
}

fn https(connect_timeout: Option<Duration>) -> hyper_rustls::HttpsConnector<HttpConnector> {
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config((*TestPki::new("a CA nobody uses").client_config(&[])).clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http(connect_timeout))
}

/// Sends `urls` one after the other, `between` apart, through `connector` as hyper-util
/// alone and as our stack; the two outcomes, and the traced log.
async fn both<C>(
    connector: C,
    http2: bool,
    urls: &[String],
    between: Between,
) -> (Vec<String>, Vec<String>, Vec<httptrace::Event>)
where
    C: tower::Service<http::Uri> + Clone + Send + Sync + 'static,
    C::Response: hyper::rt::Read + hyper::rt::Write + Connection + Unpin + Send + 'static,
    C::Future: Unpin + Send + 'static,
    C::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let connector = CountDrops::new(connector);
    let plain: Client<CountDrops<C>, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(http2)
        .build(connector.clone());
    let log = EventLog::new();
    let traced: Traced<CountDrops<C>> = HttpTrace::new(
        Client::builder(TokioExecutor::new())
            .http2_only(http2)
            .build(TraceConnector::new(connector.clone())),
        log.trace_beyond_go(),
    );
    let (mut alone, mut ours) = (Vec::new(), Vec::new());
    for (i, url) in urls.iter().enumerate() {
        alone.push(outcome_within(PATIENCE, plain.request(get(url))).await);
        ours.push(outcome_within(PATIENCE, traced.request(get(url))).await);
        match between {
            Between::Sleep(d) => tokio::time::sleep(d).await,
            // One connection per client per round.
            Between::ConnectionsDropped => {
                eventually("both clients to drop their connections", || {
                    connector.dropped() >= 2 * (i + 1)
                })
                .await
            }
        }
    }
    (alone, ours, log.events())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_row_has_the_same_outcome_with_and_without_the_layer() {
    let refused = refused_port().await;
    let (hole, _filler) = blackhole("127.0.0.1:0").await;
    let server = TestServer::start().await;
    let (reset_head, _a) = misbehaving_server(b"HTTP/1.1 200 OK\r\ncontent-le", true, false).await;
    let (reset_body, _b) = misbehaving_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789",
        true,
        false,
    )
    .await;
    let (malformed, _c) = misbehaving_server(b"HTTP/1.1 abc\r\n\r\n", false, false).await;
    let (truncated, _d) = misbehaving_server(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
        false,
        false,
    )
    .await;
    let (silent_close, _e) = misbehaving_server(b"", false, false).await;
    let (never, _f) = misbehaving_server(b"", false, true).await;
    let (idle_close, _g) = misbehaving_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        false,
        false,
    )
    .await;
    let (stall_tls, _h) = misbehaving_server(b"", false, true).await;
    let (goaway, _i) = support::goaway_server().await;
    let pki = TestPki::new("test CA");
    let tls_server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), &[b"http/1.1"]))
            .await;

    let url = |addr: std::net::SocketAddr| format!("http://{addr}/");
    let once = |u: String| vec![u];
    let twice = |u: String| vec![u.clone(), u];
    let rows = [
        Row {
            fault: "a refused port",
            stack: Stack::Http1,
            connect_timeout: None,
            urls: once(format!("http://127.0.0.1:{refused}/")),
            between: AT_ONCE,
        },
        Row {
            fault: "a blackholed address (connect stall)",
            stack: Stack::Http1,
            connect_timeout: Some(Duration::from_millis(100)),
            urls: once(format!("http://{}/", hole.local_addr().unwrap())),
            between: AT_ONCE,
        },
        Row {
            fault: "a reset in the response head",
            stack: Stack::Http1,
            connect_timeout: None,
            urls: once(url(reset_head)),
            between: AT_ONCE,
        },
        Row {
            fault: "a reset in the response body",
            stack: Stack::Http1,
            connect_timeout: None,
            urls: once(url(reset_body)),
            between: AT_ONCE,
        },
        Row {
            fault: "a malformed response",
            stack: Stack::Http1,
            connect_timeout: None,
            urls: once(url(malformed)),
            between: AT_ONCE,
        },
        Row {
            fault: "a truncated chunked body",
            stack: Stack::Http1,
            connect_timeout: None,
            urls: once(url(truncated)),
            between: AT_ONCE,
        },
        Row {
            fault: "a close without an answer",
            stack: Stack::Http1,
            connect_timeout: None,
            urls: once(url(silent_close)),
            between: AT_ONCE,
        },
        Row {
            fault: "a server that never answers",
            stack: Stack::Http1,
            connect_timeout: None,
            urls: once(url(never)),
            between: AT_ONCE,
        },
        // The server closes each connection 100 ms after answering; the next request waits
        // until both clients have let their connection go (a close that landed while the
        // next request was written would fail that request, on either stack).
        Row {
            fault: "an idle connection the server closed",
            stack: Stack::Http1,
            connect_timeout: None,
            urls: twice(url(idle_close)),
            between: Between::ConnectionsDropped,
        },
        Row {
            fault: "GOAWAY after the first answer",
            stack: Stack::Http2,
            connect_timeout: None,
            urls: twice(url(goaway)),
            // Without it the second request races the GOAWAY on either stack.
            between: Between::ConnectionsDropped,
        },
        Row {
            fault: "a good HTTP/1.1 server, reused",
            stack: Stack::Http1,
            connect_timeout: None,
            urls: twice(server.url("127.0.0.1", "/")),
            between: AT_ONCE,
        },
        Row {
            fault: "a good server over HTTP/2",
            stack: Stack::Http2,
            connect_timeout: None,
            urls: twice(server.url("127.0.0.1", "/")),
            between: AT_ONCE,
        },
        Row {
            fault: "a TLS handshake that stalls",
            stack: Stack::Https,
            connect_timeout: None,
            urls: once(format!("https://localhost:{}/", stall_tls.port())),
            between: AT_ONCE,
        },
        Row {
            fault: "an unknown CA",
            stack: Stack::Https,
            connect_timeout: None,
            urls: once(tls_server.url("localhost", "/")),
            between: AT_ONCE,
        },
    ];
    for Row {
        fault,
        stack,
        connect_timeout,
        urls,
        between,
    } in rows
    {
        // hyper's HTTP/2 client now and then fails the stream a server answers just before
        // a graceful GOAWAY ("connection error received: not a result of an error"), on
        // either stack: seen on hyper-util alone as on ours. That row is tried again (fresh
        // clients, fresh connections) when the two outcomes differ by that race alone.
        let attempts = if is_goaway_row(fault) { 5 } else { 1 };
        let mut attempt = 0;
        let (alone, ours, events) = loop {
            attempt += 1;
            let run = match stack {
                Stack::Http1 => both(http(connect_timeout), false, &urls, between).await,
                Stack::Http2 => both(http(connect_timeout), true, &urls, between).await,
                Stack::Https => both(https(connect_timeout), false, &urls, between).await,
            };
            let raced = run.0.iter().chain(&run.1).any(|o| o.contains(GOAWAY_RACE));
            if run.0 == run.1 || !raced || attempt == attempts {
                break run;
            }
        };
        assert_eq!(ours, alone, "{fault}: the layer changed the outcome");
        // Per request, the log holds the invariants.
        let mut start = 0;
        for (i, e) in events.iter().enumerate().skip(1) {
            if e.name() == "GetConn" {
                assert_well_formed(&events[start..i]);
                start = i;
            }
        }
        if !events.is_empty() {
            assert_well_formed(&events[start..]);
        }
    }
}
