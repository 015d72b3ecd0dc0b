//! A bounded soak: 20 000 requests, 64 in flight, mixing kept-alive reuse, bodies dropped
//! half read and a server that resets mid-body; every request's log is checked.

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use httptrace::{with_client_trace, ClientTrace, EventKind, EventLog};
use support::*;

const REQUESTS: usize = 20_000;
const IN_FLIGHT: usize = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_requests_each_with_a_well_formed_log() {
    let server = TestServer::with_handler(|seen: &Seen| {
        let body = if seen.path == "/mid" {
            vec![b'x'; 64 * 1024]
        } else {
            b"ok".to_vec()
        };
        http::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)))
    })
    .await;
    let (resetting, _r) = misbehaving_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789",
        true,
        false,
    )
    .await;
    let client = Arc::new(client(TestResolver::new(), ClientTrace::new()));
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (client, next) = (client.clone(), next.clone());
        let (ok_url, mid_url) = (
            server.url("127.0.0.1", "/"),
            server.url("127.0.0.1", "/mid"),
        );
        let reset_url = format!("http://{resetting}/");
        workers.push(tokio::spawn(async move {
            let mut counts = [0usize; 3];
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= REQUESTS {
                    return counts;
                }
                let log = EventLog::new();
                // One in 50 meets a reset (those are slow: the server waits before resetting).
                let kind = match i % 50 {
                    0 => 2,
                    n if n % 5 == 0 => 1,
                    _ => 0,
                };
                let url = [&ok_url, &mid_url, &reset_url][kind];
                let mut req = get(url);
                with_client_trace(&mut req, log.trace());
                let res = client.request(req).await;
                match kind {
                    0 => {
                        let res = res.expect("a plain request");
                        assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), "ok");
                    }
                    1 => {
                        // Half read, then dropped.
                        let mut body = res.expect("a large response").into_body();
                        body.frame().await.unwrap().unwrap();
                    }
                    _ => {
                        if let Ok(res) = res {
                            assert!(res.into_body().collect().await.is_err(), "reset mid-body");
                        }
                    }
                }
                counts[kind] += 1;
                settle(&log, Dials::Tcp).await;
                let events = log.take();
                assert_well_formed(&events);
                let put: Vec<bool> = events
                    .iter()
                    .filter_map(|e| match &e.kind {
                        EventKind::PutIdleConn(p) => Some(p.err.is_none()),
                        _ => None,
                    })
                    .collect();
                match kind {
                    0 => assert_eq!(put, [true], "request {i}"),
                    _ => assert!(put.iter().all(|ok| !ok), "request {i}: {put:?}"),
                }
            }
        }));
    }
    let mut counts = [0usize; 3];
    for w in workers {
        let c = tokio::time::timeout(Duration::from_secs(120), w)
            .await
            .expect("soak within 120 s")
            .unwrap();
        for k in 0..3 {
            counts[k] += c[k];
        }
    }
    let elapsed = started.elapsed();
    println!("soak: {REQUESTS} requests ({counts:?} plain/dropped/reset) in {elapsed:?}");
    assert_eq!(counts.iter().sum::<usize>(), REQUESTS);
}
