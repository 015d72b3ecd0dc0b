//! Each client's connection counters (`ConnectionStats`), per destination, against real
//! servers: what each request did to them, owned by the client that made the connections.

use bytes::Bytes;
use http_body_util::Full;
use httptrace::{with_client_trace, ClientTrace, EventKind, EventLog};
use httptrace_tower::{
    http_client, ConnectionStats, DestinationStats, HttpTrace, TraceConnector, TraceExecutor,
};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::*;

/// What `stats` says of `destination`, if it is listed.
fn listed(stats: &ConnectionStats, destination: &str) -> Option<DestinationStats> {
    stats
        .snapshot()
        .into_iter()
        .find(|d| d.destination == destination)
}

/// Two requests one after the other: one dial, one connection, two requests, the second
/// reused; a refused dial leaves its destination unlisted once it failed; another client's
/// counters never see this one's connections.
#[tokio::test]
async fn a_client_counts_its_own_dials_requests_and_reuse() {
    let server = TestServer::start().await;
    let dest = format!("127.0.0.1:{}", server.port());
    // A stack of one's own: the counters are the connector's, taken before it goes into the
    // client. Its dials can be held, so that the second request takes the pooled connection.
    let (dialer, hold) = HoldDials::new(dialer(TestResolver::new()));
    let connector = TraceConnector::new(dialer);
    let stats = connector.stats();
    let client = HttpTrace::new(
        Client::builder(TraceExecutor::new(TokioExecutor::new())).build(connector),
        ClientTrace::new(),
    );
    let other = http_client::<Full<Bytes>>(ClientTrace::new());
    assert!(listed(&stats, &dest).is_none(), "nothing yet");

    let url = server.url("127.0.0.1", "/");
    let res = within("a request", client.request(get(&url)))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    hold.hold();
    let res = within("a pooled request", client.request(get(&url)))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    let counted = listed(&stats, &dest).expect("listed while its connection is open");
    assert_eq!(
        (
            counted.open,
            counted.http2_open,
            counted.dialing,
            counted.dials_made,
            counted.dials_failed
        ),
        (1, 0, 0, 1, 0),
        "{counted:?}"
    );
    assert_eq!((counted.requests, counted.reused), (2, 1), "{counted:?}");
    assert_eq!(counted.reuse_ratio(), Some(0.5));
    assert_eq!(counted.closed, Default::default());
    assert!(
        other.stats().unwrap().snapshot().is_empty(),
        "the other client's"
    );

    // A dial that fails leaves nothing listed: no connection to its destination is left.
    let refused = format!("127.0.0.1:{}", refused_port().await);
    let other_url = format!("http://{refused}/");
    assert!(other.request(get(&other_url)).await.is_err());
    assert!(
        listed(other.stats().unwrap(), &refused).is_none(),
        "forgotten"
    );
    assert_eq!(
        stats.snapshot().len(),
        1,
        "nothing of the other client's here"
    );
}

/// An HTTP/2 connection counts its streams from the frames: one open while the server holds
/// the answer, none after; its client's counters go when the client's pool closes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_streams_open_and_the_destination_forgotten_when_its_connection_closes() {
    let pki = TestPki::new("stats CA");
    let leaf = pki.leaf(&["127.0.0.1"], false);
    let server = TestServer::start_tls(pki.server_config(leaf, &[b"h2"])).await;
    let dest = format!("127.0.0.1:{}", server.port());
    let client = httptrace_tower::https_client_with::<Full<Bytes>>(
        ClientTrace::new(),
        httptrace_tower::ClientTls::Config(pki.client_config(&[b"h2"])),
        Default::default(),
    )
    .unwrap();
    let url = server.url("127.0.0.1", "/slow").replace("http:", "https:");
    let slow = tokio::spawn({
        let (client, url) = (client.clone(), url.clone());
        async move {
            let res = client.request(get(&url)).await.unwrap();
            read_body(res.into_body()).await;
        }
    });
    eventually("the stream open", || {
        listed(client.stats().unwrap(), &dest).is_some_and(|s| s.http2_streams_open == 1)
    })
    .await;
    let during = listed(client.stats().unwrap(), &dest).unwrap();
    assert_eq!(
        (during.open, during.http2_open, during.http2_active),
        (1, 1, 1)
    );
    within("the slow request", slow).await.unwrap();
    eventually("the stream closed", || {
        listed(client.stats().unwrap(), &dest).is_some_and(|s| s.http2_streams_open == 0)
    })
    .await;
    let after = listed(client.stats().unwrap(), &dest).unwrap();
    assert_eq!(
        (after.open, after.http2_active, after.requests),
        (1, 0, 1),
        "{after:?}"
    );

    let stats = client.stats().unwrap().clone();
    drop(client);
    eventually("the connection closed with its client", || {
        stats.snapshot().is_empty()
    })
    .await;
}

/// A close is counted by why while its destination is still listed (another connection to it
/// open): `Connection: close` makes a connection not reusable, which the `ConnClosed` hook and
/// the counters both tell.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closes_are_counted_by_why() {
    let server = TestServer::with_handler(|seen| {
        let mut res = http::Response::new(Full::new(Bytes::from_static(b"ok")));
        if seen.path == "/close" {
            res.headers_mut()
                .insert("connection", http::HeaderValue::from_static("close"));
        }
        res
    })
    .await;
    let dest = format!("127.0.0.1:{}", server.port());
    let closes = httptrace::EventLog::new();
    let client = http_client::<Full<Bytes>>(closes.trace_beyond_go());
    // One connection busy with a slow answer keeps the destination listed.
    let slow = tokio::spawn({
        let (client, url) = (client.clone(), server.url("127.0.0.1", "/slow"));
        async move {
            let res = client.request(get(&url)).await.unwrap();
            read_body(res.into_body()).await;
        }
    });
    eventually("the slow request sent", || server.connection_count() == 1).await;
    let res = within(
        "the closing request",
        client.request(get(&server.url("127.0.0.1", "/close"))),
    )
    .await
    .unwrap();
    read_body(res.into_body()).await;
    eventually("the closed connection counted", || {
        listed(client.stats().unwrap(), &dest).is_some_and(|d| d.closed.not_reusable == 1)
    })
    .await;
    let counted = listed(client.stats().unwrap(), &dest).unwrap();
    assert_eq!((counted.open, counted.dials_made), (1, 2), "{counted:?}");
    let reasons: Vec<_> = closes
        .events()
        .iter()
        .filter_map(|e| match &e.kind {
            httptrace::EventKind::ConnClosed(info) => Some(info.reason.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, ["not reusable"]);
    within("the slow request", slow).await.unwrap();
}

/// A long-lived pooled connection is known for what it is after traffic to thousands of
/// other hosts (2 100 others, each dialed by name on a connection of its own that stays in
/// the pool; fewer than the reqwest test's 4 200, as both hold their sockets at once under
/// the machine's 20 000 open files): the next request to the first host, which only the pool can serve, reports its
/// connection reused with the id it had, and the server saw one connection; the counters list
/// every destination with a connection, the first with its two requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pooled_connection_is_known_after_traffic_to_thousands_of_other_hosts() {
    let server = TestServer::start().await;
    let others = 2100;
    let resolver = (0..others).fold(
        TestResolver::new().with("first.test", &["127.0.0.1"]),
        |resolver, n| resolver.with(&format!("h{n}.test"), &["127.0.0.1"]),
    );
    let (dialer, hold) = HoldDials::new(dialer(resolver));
    let connector = TraceConnector::new(dialer);
    let stats = connector.stats();
    let client = HttpTrace::new(
        Client::builder(TraceExecutor::new(TokioExecutor::new())).build(connector),
        ClientTrace::new(),
    );
    let first = server.url("first.test", "/");
    let got_conn = |client: HttpTrace<_>, url: String| async move {
        let log = EventLog::new();
        let mut req = get(&url);
        with_client_trace(&mut req, log.trace());
        let res = within("a request", client.request(req)).await.unwrap();
        read_body(res.into_body()).await;
        log.events()
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::GotConn(i) => Some((i.conn.id, i.reused)),
                _ => None,
            })
            .expect("GotConn")
    };
    let (first_id, reused) = got_conn(client.clone(), first.clone()).await;
    assert!(!reused);

    for batch in (0..others).collect::<Vec<_>>().chunks(32) {
        let mut requests = tokio::task::JoinSet::new();
        for n in batch {
            let url = server.url(&format!("h{n}.test"), "/other");
            requests.spawn(got_conn(client.clone(), url));
        }
        for (_, reused) in requests.join_all().await {
            assert!(!reused, "each on a connection of its own");
        }
    }
    assert_eq!(server.connection_count(), others + 1);
    assert_eq!(
        stats.snapshot().len(),
        others + 1,
        "every destination still open"
    );

    hold.hold();
    assert_eq!(
        got_conn(client.clone(), first.clone()).await,
        (first_id, true),
        "the same connection, reused"
    );
    let firsts = server.peers_for("/");
    assert_eq!(firsts.len(), 2);
    assert_eq!(firsts[0], firsts[1], "the server saw one connection");
    let counted = listed(&stats, &format!("first.test:{}", server.port())).expect("listed");
    assert_eq!(
        (counted.open, counted.requests, counted.reused),
        (1, 2, 1),
        "{counted:?}"
    );
}
