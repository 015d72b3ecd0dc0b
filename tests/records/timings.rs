//! `Timings` from the response, with no hook written: a fresh TLS request has every phase in
//! order; a reused connection has no connection phases; the phases add up to the total; the
//! body's end (or its drop) completes them.

use std::time::Duration;

use httptrace::{ClientTrace, Phase, Timings, TimingsRecorder};
use support::*;

const H2: &[&[u8]] = &[b"h2", b"http/1.1"];

/// Sends `url` and reads the body; the timings the response carried.
async fn timed(client: &TlsTestClient, url: &str) -> Timings {
    let res = within("the request", client.request(get(url)))
        .await
        .unwrap();
    let recorder = res
        .extensions()
        .get::<TimingsRecorder>()
        .cloned()
        .expect("the layer put the recorder in the response");
    assert!(
        !recorder.timings().is_complete(),
        "not complete before the body ends"
    );
    read_body(res.into_body()).await;
    recorder.timings()
}

fn phase_names(t: &Timings) -> Vec<Phase> {
    t.phases().iter().map(|(p, _)| *p).collect()
}

fn assert_adds_up(t: &Timings) {
    let sum: Duration = t.phases().iter().map(|(_, d)| *d).sum();
    assert_eq!(Some(sum), t.total(), "{:?}", t.phases());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_tls_request_has_every_phase_in_order_and_a_reused_one_none_of_the_connection_phases(
) {
    let pki = TestPki::new("test CA");
    let server = TestServer::start_tls(pki.server_config(pki.leaf(&["api.test"], false), H2)).await;
    let resolver = TestResolver::new().with("api.test", &["127.0.0.1"]);
    let client =
        tls_client(resolver, ClientTrace::new(), pki.client_config(H2), false).record_timings();
    let url = server.url("api.test", "/big");

    let fresh = timed(&client, &url).await;
    assert_eq!(
        phase_names(&fresh),
        [
            Phase::Queue,
            Phase::Dns,
            Phase::Connect,
            Phase::Tls,
            Phase::Send,
            Phase::Wait,
            Phase::Receive
        ]
    );
    let marks = [
        fresh.namelookup(),
        fresh.connect(),
        fresh.appconnect(),
        fresh.pretransfer(),
        fresh.starttransfer(),
        fresh.total(),
    ];
    assert!(marks.iter().all(Option::is_some), "{fresh:?}");
    assert!(
        marks.windows(2).all(|w| w[0] <= w[1]),
        "in order: {marks:?}"
    );
    for (p, took) in fresh.phases() {
        assert!(took > Duration::ZERO, "{p:?} happened, so it took time");
    }
    assert_adds_up(&fresh);
    assert!(!fresh.reused && !fresh.was_idle);
    assert_eq!(fresh.remote_addr, Some(server.addr));
    assert_eq!(fresh.protocol.as_deref(), Some("HTTP/2"));
    assert_eq!(fresh.response_body_bytes, Some(1 << 20));
    assert_eq!(fresh.request_body_bytes, Some(0));
    assert_eq!(fresh.response_error, None);
    assert!(fresh.domain_lookup_start <= fresh.domain_lookup_end);
    assert!(fresh.secure_connection_start >= fresh.connect_end);

    let reused = timed(&client, &url).await;
    assert_eq!(
        phase_names(&reused),
        [Phase::Queue, Phase::Send, Phase::Wait, Phase::Receive]
    );
    assert!(reused.reused);
    assert_eq!(
        (reused.namelookup(), reused.connect(), reused.appconnect()),
        (None, None, None),
        "absent, not zero-length"
    );
    assert_adds_up(&reused);
    assert_eq!(reused.remote_addr, Some(server.addr));
}

#[tokio::test]
async fn a_body_dropped_unread_completes_the_timings_with_why() {
    let server = TestServer::start().await;
    let client = client(TestResolver::new(), ClientTrace::new()).record_timings();
    let res = client
        .request(get(&server.url("127.0.0.1", "/big")))
        .await
        .unwrap();
    let recorder = res.extensions().get::<TimingsRecorder>().cloned().unwrap();
    drop(res);
    let t = recorder.timings();
    assert!(t.is_complete());
    assert_eq!(t.protocol.as_deref(), Some("HTTP/1.1"));
    assert_eq!(t.response_body_bytes, Some(0));
    assert!(
        t.response_error.as_deref().unwrap().contains("dropped"),
        "{:?}",
        t.response_error
    );
    assert_eq!(t.namelookup(), None, "an IP literal needs no lookup");
    assert!(t.connect().is_some());
    assert_adds_up(&t);
}

#[tokio::test]
async fn a_layer_without_record_timings_puts_nothing_in_the_response() {
    let server = TestServer::start().await;
    let client = client(TestResolver::new(), ClientTrace::new());
    let res = client
        .request(get(&server.url("127.0.0.1", "/")))
        .await
        .unwrap();
    assert!(res.extensions().get::<TimingsRecorder>().is_none());
}
