//! reqwest (feature `reqwest`): a real reqwest client wrapped by `reqwest_middleware`, against
//! a real server on loopback; call sites unchanged; exactly the hooks `ReqwestTrace`'s table
//! promises, in order, with their fields, and complete timings.
#![cfg(feature = "reqwest")]

use std::net::SocketAddr;
use std::time::Duration;

use httptrace::{ClientTrace, EventKind, EventLog, Phase, TimingsRecorder};
use httptrace_reqwest::ReqwestTrace;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest_middleware::ClientWithMiddleware;
use support::*;

/// Resolves every name to 127.0.0.1: no public DNS in tests.
struct Loopback;

impl Resolve for Loopback {
    fn resolve(&self, _: Name) -> Resolving {
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as Addrs) })
    }
}

fn story(log: &EventLog) -> Vec<String> {
    log.events()
        .iter()
        .map(|e| match &e.kind {
            EventKind::GetConn(i) => format!("GetConn({})", i.host_port),
            EventKind::DnsStart(i) => format!("DNSStart({})", i.host),
            EventKind::DnsDone(i) => format!("DNSDone({:?}, err={})", i.addrs, i.err.is_some()),
            EventKind::ConnectStart(i) => format!("ConnectStart({})", i.addr),
            EventKind::AttemptStart(i) => format!(
                "AttemptStart({}, previous={:?})",
                i.attempt,
                i.previous_status.map(|s| s.as_u16())
            ),
            EventKind::CallDone(i) => format!(
                "CallDone(attempts={}, status={:?})",
                i.attempts,
                i.status.map(|s| s.as_u16())
            ),
            EventKind::ConnectDone(i) => {
                format!("ConnectDone({}, err={})", i.addr, i.err.is_some())
            }
            EventKind::TlsHandshakeDone(i) => format!(
                "TLSHandshakeDone(sni={:?}, certs={}, err={})",
                i.state.server_name,
                i.state.peer_certificates.len(),
                i.err.is_some()
            ),
            EventKind::GotConn(i) => format!(
                "GotConn(reused={}, was_idle={}, idle={:?}, remote={})",
                i.reused,
                i.was_idle,
                i.idle_time,
                i.conn.remote_addr.unwrap()
            ),
            EventKind::PutIdleConn(i) => format!(
                "PutIdleConn(err={:?})",
                i.err.as_ref().map(ToString::to_string)
            ),
            EventKind::ResponseBodyDone(i) => {
                format!(
                    "ResponseBodyDone(bytes={}, err={:?})",
                    i.bytes,
                    i.err.as_ref().map(ToString::to_string)
                )
            }
            _ => e.name().to_owned(),
        })
        .collect()
}

/// A client over `Loopback`, traced by `trace` and recording timings; no proxy from the
/// environment.
fn traced_client(trace: ClientTrace) -> ClientWithMiddleware {
    ReqwestTrace::new(trace)
        .record_timings()
        .resolver(Loopback)
        .client(reqwest::Client::builder().no_proxy())
        .unwrap()
        .build()
}

/// A GET of `url` through `client`, with `trace` in its extensions (reqwest's own call site).
async fn get_traced(
    client: &ClientWithMiddleware,
    url: &str,
    trace: ClientTrace,
) -> reqwest::Response {
    within("the request", client.get(url).with_extension(trace).send())
        .await
        .unwrap()
}

/// hyper-util returns an HTTP/1 connection to its pool from a task of its own, after the
/// body's end; reqwest shows no event for it, so the next request gives that task time to
/// run (RELIABILITY.md, "Clock waits").
async fn let_the_pool_take_it_back() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_middleware_client_reports_every_hook_reqwest_allows_fresh_then_reused() {
    let server = TestServer::start().await;
    let layer_log = EventLog::new();
    let client = traced_client(layer_log.trace());
    let url = server.url("api.test", "/");
    let remote = format!("127.0.0.1:{}", server.port());

    let mut ids = Vec::new();
    for n in 0..2 {
        // The call site is reqwest's own; a per-request trace rides in the extensions.
        let log = EventLog::new();
        let res = get_traced(&client, &url, log.trace_beyond_go()).await;
        let recorder = res.extensions().get::<TimingsRecorder>().cloned().unwrap();
        assert!(
            !recorder.timings().is_complete(),
            "the body is still unread"
        );
        assert_eq!(res.url().as_str(), url, "the response keeps its URL");
        assert_eq!(res.text().await.unwrap(), "ok");

        let mut expected = vec![format!("GetConn(api.test:{})", server.port())];
        if n == 0 {
            expected.push("DNSStart(api.test)".to_owned());
            expected.push("DNSDone([127.0.0.1], err=false)".to_owned());
            expected.push(format!("ConnectStart({remote})"));
            expected.push(format!("ConnectDone({remote}, err=false)"));
        }
        let reused = n > 0;
        expected.extend([
            format!("GotConn(reused={reused}, was_idle={reused}, idle=0ns, remote={remote})"),
            "GotFirstResponseByte".to_owned(),
            "PutIdleConn(err=None)".to_owned(),
            "ResponseBodyDone(bytes=2, err=None)".to_owned(),
        ]);
        assert_eq!(story(&log), expected, "request {n}");
        ids.push(got_conn(&log.events()).conn.id);

        let t = recorder.timings();
        assert!(t.is_complete(), "the body's end completes the timings");
        assert_eq!(t.reused, reused);
        assert_eq!(t.remote_addr, Some(remote.parse().unwrap()));
        assert_eq!(t.protocol.as_deref(), Some("HTTP/1.1"));
        assert_eq!(t.response_body_bytes, Some(2));
        assert_eq!(t.response_error, None);
        // A new connection is had when the connector finishes, before the server hears the
        // request; a pooled one is known only with the response.
        assert_eq!(t.request_start.is_some(), !reused);
        if let Some(had) = t.request_start {
            assert!(
                had <= server.seen()[n].received_at,
                "GotConn before the server read"
            );
        }
        let phases: Vec<Phase> = t.phases().into_iter().map(|(p, _)| p).collect();
        let expected_phases = if reused {
            vec![Phase::Wait, Phase::Receive]
        } else {
            vec![
                Phase::Queue,
                Phase::Dns,
                Phase::Connect,
                Phase::Wait,
                Phase::Receive,
            ]
        };
        assert_eq!(phases, expected_phases, "request {n}");
        let sum: Duration = t.phases().iter().map(|(_, d)| *d).sum();
        assert_eq!(Some(sum), t.total(), "the phases add up to the total");
        let_the_pool_take_it_back().await;
    }
    assert_eq!(ids[0], ids[1], "the same connection, known by the same id");
    assert_eq!(server.connection_count(), 1);
    // The middleware's own trace heard both requests, as the per-request traces did.
    let layer_names = names(&layer_log.events());
    assert_eq!(
        layer_names.iter().filter(|n| *n == "GetConn").count(),
        2,
        "{layer_names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_dropped_unread_is_reported_and_the_connection_not_returned() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = traced_client(log.trace_beyond_go());
    let res = within(
        "the request",
        client.get(server.url("api.test", "/big")).send(),
    )
    .await
    .unwrap();
    let recorder = res.extensions().get::<TimingsRecorder>().cloned().unwrap();
    drop(res);
    let events = log.events();
    let tail: Vec<String> = story(&log).into_iter().rev().take(2).rev().collect();
    let why = "response body dropped before its end: the connection is closed, not returned \
               to the pool";
    assert_eq!(
        tail,
        [
            format!("PutIdleConn(err=Some({why:?}))"),
            format!("ResponseBodyDone(bytes=0, err=Some({why:?}))"),
        ],
        "{events:?}"
    );
    let t = recorder.timings();
    assert_eq!(t.response_error.as_deref(), Some(why));
    assert!(t.is_complete());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_in_effect_where_a_request_is_sent_hears_it_and_an_untraced_client_adds_nothing()
{
    let server = TestServer::start().await;
    // Nothing asked of the middleware: a request sent outside any trace is passed on as is.
    let client = ReqwestTrace::new(ClientTrace::new())
        .resolver(Loopback)
        .client(reqwest::Client::builder().no_proxy())
        .unwrap()
        .build();
    let url = server.url("api.test", "/");
    let res = client.get(&url).send().await.unwrap();
    assert!(res.extensions().get::<TimingsRecorder>().is_none());
    assert_eq!(res.text().await.unwrap(), "ok");
    let_the_pool_take_it_back().await;

    let ambient = EventLog::new();
    let res = ambient
        .trace_beyond_go()
        .scope(client.get(&url).send())
        .await
        .unwrap();
    assert_eq!(res.text().await.unwrap(), "ok");
    assert_eq!(
        names(&ambient.events()),
        [
            "GetConn",
            "GotConn",
            "GotFirstResponseByte",
            "PutIdleConn",
            "ResponseBodyDone"
        ]
    );
}

/// A long-lived pooled connection is still known for what it is after traffic to thousands
/// of other hosts: 4 200 other connections are made (each to a host of its own, each kept in
/// reqwest's pool, so that no two share their addresses), and the next request to the first
/// host reports its connection reused, with the id it had, as the server saw one connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_connection_is_known_after_traffic_to_thousands_of_other_hosts() {
    let server = TestServer::start().await;
    let client = traced_client(ClientTrace::new());
    let first_host = format!("http://first.test:{}/", server.port());
    let got_conn = |log: &EventLog| {
        log.events()
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::GotConn(i) => Some((i.conn.id, i.reused)),
                _ => None,
            })
            .unwrap()
    };
    let log = EventLog::new();
    let res = get_traced(&client, &first_host, log.trace()).await;
    res.bytes().await.unwrap();
    let (first_id, reused) = got_conn(&log);
    assert!(!reused);
    let_the_pool_take_it_back().await;

    let others = 4200;
    let mut next = 0;
    while next < others {
        let mut batch = tokio::task::JoinSet::new();
        for n in next..(next + 32).min(others) {
            let (client, url) = (
                client.clone(),
                format!("http://h{n}.test:{}/other", server.port()),
            );
            batch.spawn(async move {
                let res = client.get(&url).send().await.unwrap();
                res.bytes().await.unwrap();
            });
        }
        batch.join_all().await;
        next += 32;
    }
    assert!(
        server.connection_count() > others,
        "each on its own connection"
    );

    let log = EventLog::new();
    let res = get_traced(&client, &first_host, log.trace()).await;
    res.bytes().await.unwrap();
    assert_eq!(
        got_conn(&log),
        (first_id, true),
        "the same connection, reused"
    );
    let firsts = server.peers_for("/");
    assert_eq!(firsts.len(), 2);
    assert_eq!(firsts[0], firsts[1], "the server saw one connection");
}

/// With reqwest's TLS from a rustls configuration of ours (`ReqwestTrace::rustls`): a fresh
/// HTTPS request reports its connect and its handshake when they happen, and `GotConn` when
/// the connector finishes, before the server reads the request; the reused one, its
/// connection only; the timings have the connect and TLS phases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_rustls_seam_a_fresh_https_request_reports_its_connect_and_handshake() {
    let pki = TestPki::new("reqwest CA");
    let leaf = pki.leaf(&["api.test"], false);
    let server = TestServer::start_tls(pki.server_config(leaf, &[b"http/1.1"])).await;
    let config = rustls::ClientConfig::clone(&pki.client_config(&[b"http/1.1"]));
    let client = ReqwestTrace::new(ClientTrace::new())
        .record_timings()
        .resolver(Loopback)
        .rustls(config)
        .client(reqwest::Client::builder().no_proxy())
        .unwrap()
        .build();
    let url = server.url("api.test", "/").replace("http:", "https:");
    let remote = format!("127.0.0.1:{}", server.port());
    for n in 0..2 {
        let log = EventLog::new();
        let res = get_traced(&client, &url, log.trace()).await;
        let recorder = res.extensions().get::<TimingsRecorder>().cloned().unwrap();
        assert_eq!(res.text().await.unwrap(), "ok");
        let mut expected = vec![format!("GetConn(api.test:{})", server.port())];
        let reused = n > 0;
        if !reused {
            expected.extend([
                "DNSStart(api.test)".to_owned(),
                "DNSDone([127.0.0.1], err=false)".to_owned(),
                format!("ConnectStart({remote})"),
                format!("ConnectDone({remote}, err=false)"),
                "TLSHandshakeStart".to_owned(),
                "TLSHandshakeDone(sni=Some(\"api.test\"), certs=1, err=false)".to_owned(),
            ]);
        }
        expected.extend([
            format!("GotConn(reused={reused}, was_idle={reused}, idle=0ns, remote={remote})"),
            "GotFirstResponseByte".to_owned(),
            "PutIdleConn(err=None)".to_owned(),
        ]);
        assert_eq!(story(&log), expected, "request {n}");
        let t = recorder.timings();
        let phases: Vec<Phase> = t.phases().into_iter().map(|(p, _)| p).collect();
        if !reused {
            assert_eq!(
                phases,
                [
                    Phase::Queue,
                    Phase::Dns,
                    Phase::Connect,
                    Phase::Tls,
                    Phase::Wait,
                    Phase::Receive
                ]
            );
            let had = t
                .request_start
                .expect("GotConn when the connector finished");
            assert!(
                had <= server.seen()[n].received_at,
                "before the server read"
            );
        }
        let sum: Duration = t.phases().iter().map(|(_, d)| *d).sum();
        assert_eq!(Some(sum), t.total(), "the phases add up to the total");
        let_the_pool_take_it_back().await;
    }
    assert_eq!(server.connection_count(), 1);
}

/// With the verifier watched too (`ReqwestTrace::rustls_verifier`), each new connection's
/// `TLSHandshakeDone` has the TLS version and the whole chain the server sent; the second
/// connection (the pool keeps none) resumes the first one's session, and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_verifier_watched_the_handshake_has_its_version_chain_and_resumption() {
    let pki = TestPki::new("reqwest CA");
    let leaf = pki.leaf(&["api.test"], false);
    let sent: Vec<Vec<u8>> = leaf.chain.iter().map(|c| c.to_vec()).collect();
    let server = TestServer::start_tls(pki.server_config(leaf, &[b"http/1.1"])).await;
    let config = rustls::ClientConfig::clone(&pki.client_config(&[b"http/1.1"]));
    let client = ReqwestTrace::new(ClientTrace::new())
        .resolver(Loopback)
        .rustls(config)
        .rustls_verifier(pki.verifier())
        .client(
            reqwest::Client::builder()
                .no_proxy()
                .pool_max_idle_per_host(0),
        )
        .unwrap()
        .build();
    let url = server.url("api.test", "/").replace("http:", "https:");
    let mut handshakes = Vec::new();
    for _ in 0..2 {
        let log = EventLog::new();
        let res = get_traced(&client, &url, log.trace()).await;
        assert_eq!(res.text().await.unwrap(), "ok");
        let done = log
            .events()
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::TlsHandshakeDone(i) => Some(i.state.clone()),
                _ => None,
            })
            .expect("a new connection's handshake");
        handshakes.push(done);
    }
    assert_eq!(server.connection_count(), 2);
    let (first, second) = (&handshakes[0], &handshakes[1]);
    assert_eq!(
        (first.version.as_deref(), first.resumed),
        (Some("TLSv1.3"), false)
    );
    assert_eq!(
        first.peer_certificates, sent,
        "the server's certificate, then the CA's"
    );
    assert_eq!(
        (second.version.as_deref(), second.resumed),
        (Some("TLSv1.3"), true),
        "resumed: no certificate checked"
    );
    assert_eq!(
        second.peer_certificates,
        sent[..1],
        "reqwest's own record of the server's certificate"
    );
}

/// A retry middleware of our own: once more after a 503, its body read first (so that its
/// connection goes back to the pool).
struct RetryOnce;

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for RetryOnce {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut http::Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let again = req.try_clone().expect("a request without a streamed body");
        let res = next.clone().run(req, extensions).await?;
        if res.status() != 503 {
            return Ok(res);
        }
        res.bytes().await?;
        let_the_pool_take_it_back().await;
        next.run(again, extensions).await
    }
}

/// A retry middleware between `ReqwestTrace` and its `attempts()`: the call's hooks from
/// the outer, each attempt's from the inner, the second attempt on the connection the 503
/// came on, reported reused (the server saw one connection).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inner_retry_shows_each_attempt_the_second_reused() {
    let tries = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = tries.clone();
    let server = TestServer::with_handler(move |_| {
        let first = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
        let (status, body) = if first { (503, "") } else { (200, "ok") };
        http::Response::builder()
            .status(status)
            .body(http_body_util::Full::new(bytes::Bytes::from_static(
                body.as_bytes(),
            )))
            .unwrap()
    })
    .await;
    let trace = ReqwestTrace::new(ClientTrace::new())
        .resolver(Loopback)
        .record_timings();
    let attempts = trace.attempts();
    let inner = trace
        .install(reqwest::Client::builder().no_proxy())
        .build()
        .unwrap();
    let client = reqwest_middleware::ClientBuilder::new(inner)
        .with(trace)
        .with(RetryOnce)
        .with(attempts)
        .build();
    let log = EventLog::new();
    let url = server.url("api.test", "/flaky");
    let res = get_traced(&client, &url, log.trace_beyond_go()).await;
    let recorder = res.extensions().get::<TimingsRecorder>().cloned().unwrap();
    assert_eq!(res.text().await.unwrap(), "ok");
    // The last attempt's timings: the retry's wait (at least the 50 ms it sleeps) is its
    // backoff, then the attempt on the pooled connection; the phases add up to the total.
    let t = recorder.timings();
    let phases = t.phases();
    assert_eq!(phases[0].0, Phase::Backoff, "{phases:?}");
    assert!(phases[0].1 >= Duration::from_millis(50), "{phases:?}");
    assert_eq!(
        phases[1..].iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        [Phase::Wait, Phase::Receive]
    );
    let sum: Duration = phases.iter().map(|(_, d)| *d).sum();
    assert_eq!(Some(sum), t.total());
    let remote = format!("127.0.0.1:{}", server.port());
    let got = |reused: bool| {
        format!("GotConn(reused={reused}, was_idle={reused}, idle=0ns, remote={remote})")
    };
    let get_conn = format!("GetConn(api.test:{})", server.port());
    assert_eq!(
        story(&log),
        [
            "CallStart".to_owned(),
            "AttemptStart(1, previous=None)".to_owned(),
            get_conn.clone(),
            "DNSStart(api.test)".to_owned(),
            "DNSDone([127.0.0.1], err=false)".to_owned(),
            format!("ConnectStart({remote})"),
            format!("ConnectDone({remote}, err=false)"),
            got(false),
            "GotFirstResponseByte".to_owned(),
            "PutIdleConn(err=None)".to_owned(),
            "ResponseBodyDone(bytes=0, err=None)".to_owned(),
            "AttemptStart(2, previous=Some(503))".to_owned(),
            get_conn,
            got(true),
            "GotFirstResponseByte".to_owned(),
            "CallDone(attempts=2, status=Some(200))".to_owned(),
            "PutIdleConn(err=None)".to_owned(),
            "ResponseBodyDone(bytes=2, err=None)".to_owned(),
        ]
    );
    assert_eq!(
        server.connection_count(),
        1,
        "the retry went on the same connection"
    );
}
