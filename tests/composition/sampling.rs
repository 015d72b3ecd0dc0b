//! Sampling: a layer traces a ratio of its requests, or those a closure picks; the others
//! skip the layer's trace and timings, while a trace of the request's own still applies.

use httptrace::{with_client_trace, EventLog, TimingsRecorder};
use support::*;

/// How many `GetConn` the log holds: one per traced request.
fn traced(log: &EventLog) -> usize {
    log.names().iter().filter(|n| **n == "GetConn").count()
}

#[tokio::test]
async fn a_ratio_of_zero_traces_only_what_a_request_brings_itself() {
    let server = TestServer::start().await;
    let layer = EventLog::new();
    let client = client(TestResolver::new(), layer.trace())
        .record_timings()
        .sample(0.0);
    for _ in 0..5 {
        let res = client
            .request(get(&server.url("127.0.0.1", "/")))
            .await
            .unwrap();
        assert!(res.extensions().get::<TimingsRecorder>().is_none());
        read_body(res.into_body()).await;
    }
    let own = EventLog::new();
    let mut req = get(&server.url("127.0.0.1", "/"));
    with_client_trace(&mut req, own.trace());
    let res = client.request(req).await.unwrap();
    read_body(res.into_body()).await;
    assert_eq!(traced(&layer), 0, "{:?}", layer.names());
    assert_eq!(
        names(&own.events()),
        GO_REUSED_HTTP1_GET,
        "the request's own trace still runs"
    );
}

#[tokio::test]
async fn a_ratio_traces_about_that_share_of_the_requests() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace()).sample(0.5);
    for _ in 0..400 {
        let res = client
            .request(get(&server.url("127.0.0.1", "/")))
            .await
            .unwrap();
        read_body(res.into_body()).await;
    }
    // 400 fair draws: below 120 or above 280 is eight standard deviations away.
    let n = traced(&log);
    assert!((120..=280).contains(&n), "{n} of 400 traced");

    let all = EventLog::new();
    let client = support::client(TestResolver::new(), all.trace()).sample(1.0);
    for _ in 0..20 {
        let res = client
            .request(get(&server.url("127.0.0.1", "/")))
            .await
            .unwrap();
        read_body(res.into_body()).await;
    }
    assert_eq!(traced(&all), 20);
}

#[tokio::test]
async fn a_closure_picks_the_requests_to_trace() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace())
        .record_timings()
        .sample_with(|head| head.headers().contains_key("x-debug-trace"));
    for marked in [false, true, false, true, true] {
        let mut req = get(&server.url("127.0.0.1", "/"));
        if marked {
            req.headers_mut()
                .insert("x-debug-trace", http::HeaderValue::from_static("1"));
        }
        let before = traced(&log);
        let res = client.request(req).await.unwrap();
        assert_eq!(
            res.extensions().get::<TimingsRecorder>().is_some(),
            marked,
            "timings only for a traced request"
        );
        read_body(res.into_body()).await;
        assert_eq!(traced(&log) - before, usize::from(marked));
    }
}
