//! tonic (feature `tonic`): a real tonic-health server and tonic's generated client over a
//! traced channel, plain and over rustls; which hooks fire, in order, with their fields.
#![cfg(feature = "tonic")]

use std::sync::Arc;

use httptrace::{ClientTrace, Event, EventKind, EventLog};
use httptrace_tower::connect::TraceTlsConnector;
use httptrace_tower::tonic_channel::{client_channel, connect};
use httptrace_tower::TraceConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use support::*;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

/// A tonic-health server on 127.0.0.1 (HTTP/2; over TLS with `tls`); its port.
async fn health_server(tls: Option<Arc<rustls::ServerConfig>>) -> u16 {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("inventory", tonic_health::ServingStatus::Serving)
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        // The reporter lives as long as the server.
        let _reporter = reporter;
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let (health, acceptor) = (TowerToHyperService::new(health.clone()), acceptor.clone());
            tokio::spawn(async move {
                let server = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let _ = match acceptor {
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(tls) => {
                            server
                                .http2_only()
                                .serve_connection(TokioIo::new(tls), health)
                                .await
                        }
                        Err(_) => return,
                    },
                    None => {
                        server
                            .http2_only()
                            .serve_connection(TokioIo::new(stream), health)
                            .await
                    }
                };
            });
        }
    });
    port
}

fn check() -> HealthCheckRequest {
    HealthCheckRequest {
        service: "inventory".into(),
    }
}

/// Events as `Name` or `Name(detail)`, the details that the tests pin.
fn story(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match &e.kind {
            EventKind::GetConn(i) => format!("GetConn({})", i.host_port),
            EventKind::ConnectDone(i) => {
                format!("ConnectDone({}, err={})", i.addr, i.err.is_some())
            }
            EventKind::TlsHandshakeDone(i) => format!(
                "TLSHandshakeDone(alpn={}, sni={})",
                String::from_utf8_lossy(i.state.alpn_protocol.as_deref().unwrap_or_default()),
                i.state.server_name.as_deref().unwrap_or("")
            ),
            EventKind::GotConn(i) => format!("GotConn(reused={})", i.reused),
            EventKind::ResponseBodyDone(i) | EventKind::RequestBodyDone(i) => {
                format!("{}({} bytes, err={})", e.name(), i.bytes, i.err.is_some())
            }
            EventKind::WroteHeaderField(f) => format!("WroteHeaderField({})", f.name),
            _ => e.name().to_owned(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_traced_channel_reports_its_connection_and_each_call() {
    let port = health_server(None).await;
    let log = EventLog::new();
    let endpoint =
        tonic::transport::Endpoint::from_shared(format!("http://127.0.0.1:{port}")).unwrap();
    let mut dialer = dialer(TestResolver::new());
    dialer.set_nodelay(true);
    let channel = within(
        "connecting",
        connect(endpoint, TraceConnector::new(dialer), log.trace_beyond_go()),
    )
    .await
    .unwrap();
    let mut client = HealthClient::new(channel);
    for _ in 0..2 {
        let res = within("the call", client.check(check())).await.unwrap();
        assert_eq!(res.into_inner().status, ServingStatus::Serving as i32);
    }
    eventually("the second request body's end", || {
        log.names()
            .iter()
            .filter(|n| **n == "RequestBodyDone")
            .count()
            == 2
    })
    .await;
    let addr = format!("127.0.0.1:{port}");
    let call = [
        format!("GetConn({addr})"),
        "GotFirstResponseByte".to_owned(),
        "ResponseBodyDone(7 bytes, err=false)".to_owned(),
    ];
    let mut expected = vec![
        "ConnectStart".to_owned(),
        format!("ConnectDone({addr}, err=false)"),
    ];
    expected.extend(call.clone());
    expected.extend(call);
    // hyper's connection task drops a call's request body (which tells its end) once the
    // stream is over, while the caller may already have started the next call: the end's
    // only fixed place is after its own call's response.
    let story = story(&log.events());
    let request_body_done = "RequestBodyDone(16 bytes, err=false)";
    let (ends, rest): (Vec<_>, Vec<_>) = story.iter().partition(|e| *e == request_body_done);
    assert_eq!(rest, expected.iter().collect::<Vec<_>>(), "{story:?}");
    assert_eq!(ends.len(), 2, "{story:?}");
    let at = |name: &str| -> Vec<usize> {
        (0..story.len())
            .filter(|&i| story[i].starts_with(name))
            .collect()
    };
    let (responses, bodies) = (at("ResponseBodyDone"), at("RequestBodyDone"));
    assert!(
        bodies
            .iter()
            .zip(&responses)
            .all(|(body, response)| body > response),
        "{story:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_the_handshake_is_traced_and_a_pooled_client_channel_fires_every_call_hook() {
    let pki = TestPki::new("test CA");
    let port = health_server(Some(
        pki.server_config(pki.leaf(&["grpc.test"], false), &[b"h2"]),
    ))
    .await;
    let resolver = TestResolver::new().with("grpc.test", &["127.0.0.1"]);
    let tls_connector = || {
        let mut dialer = dialer(resolver.clone());
        dialer.enforce_http(false).set_nodelay(true);
        TraceConnector::new(TraceTlsConnector::new(dialer, pki.client_config(&[b"h2"])))
    };
    let url = format!("https://grpc.test:{port}");

    let log = EventLog::new();
    let endpoint = tonic::transport::Endpoint::from_shared(url.clone()).unwrap();
    let channel = within(
        "connecting",
        connect(endpoint, tls_connector(), log.trace_beyond_go()),
    )
    .await
    .unwrap();
    // Kept until the story is read: dropping the channel closes its connection (`ConnClosed`).
    let mut client = HealthClient::new(channel);
    let res = within("the call", client.check(check())).await.unwrap();
    assert_eq!(res.into_inner().status, ServingStatus::Serving as i32);
    eventually("the request body's end", || {
        log.names().contains(&"RequestBodyDone")
    })
    .await;
    assert_eq!(
        story(&log.events()),
        [
            "DNSStart".to_owned(),
            "DNSDone".to_owned(),
            "ConnectStart".to_owned(),
            format!("ConnectDone(127.0.0.1:{port}, err=false)"),
            "TLSHandshakeStart".to_owned(),
            "TLSHandshakeDone(alpn=h2, sni=grpc.test)".to_owned(),
            format!("GetConn(grpc.test:{port})"),
            "GotFirstResponseByte".to_owned(),
            "ResponseBodyDone(7 bytes, err=false)".to_owned(),
            "RequestBodyDone(16 bytes, err=false)".to_owned(),
        ]
    );
    drop(client);

    // hyper-util's pooled client over the same stack: every per-call hook.
    let log = EventLog::new();
    let channel = client_channel(url.parse().unwrap(), tls_connector(), log.trace_beyond_go());
    let mut client = HealthClient::new(channel);
    for _ in 0..2 {
        let res = within("the call", client.check(check())).await.unwrap();
        assert_eq!(res.into_inner().status, ServingStatus::Serving as i32);
    }
    let events = log.events();
    let stories = story(&events);
    let second = stories
        .iter()
        .rposition(|s| s.starts_with("GetConn"))
        .unwrap();
    assert_eq!(
        stories[second..],
        [
            format!("GetConn(grpc.test:{port})"),
            "GotConn(reused=true)".to_owned(),
            "Http2StreamOpened".to_owned(),
            "WroteHeaderField(:method)".to_owned(),
            "WroteHeaderField(:scheme)".to_owned(),
            "WroteHeaderField(:authority)".to_owned(),
            "WroteHeaderField(:path)".to_owned(),
            "WroteHeaderField(te)".to_owned(),
            "WroteHeaderField(content-type)".to_owned(),
            "WroteHeaders".to_owned(),
            "RequestBodyDone(16 bytes, err=false)".to_owned(),
            "WroteRequest".to_owned(),
            "GotFirstResponseByte".to_owned(),
            "ResponseBodyDone(7 bytes, err=false)".to_owned(),
        ]
    );
    assert!(stories[..second].contains(&"TLSHandshakeDone(alpn=h2, sni=grpc.test)".to_owned()));
}

/// A long-lived channel keeps knowing its connection after traffic to a thousand other
/// hosts, each through a channel of its own that stays open: the next call's `GotConn` names
/// the connection (id and local address) the first call had, reused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_knows_its_connection_after_traffic_to_a_thousand_other_hosts() {
    let port = health_server(None).await;
    let others = 1000;
    let resolver = (0..others).fold(
        TestResolver::new().with("first.test", &["127.0.0.1"]),
        |resolver, n| resolver.with(&format!("h{n}.test"), &["127.0.0.1"]),
    );
    let channel_to = |host: &str, trace| {
        client_channel(
            format!("http://{host}:{port}").parse().unwrap(),
            TraceConnector::new(dialer(resolver.clone())),
            trace,
        )
    };
    let got_conn = |log: &EventLog| {
        log.take()
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::GotConn(i) => Some((i.conn.id, i.conn.local_addr, i.reused)),
                _ => None,
            })
            .expect("GotConn")
    };
    let log = EventLog::new();
    let mut first = HealthClient::new(channel_to("first.test", log.trace()));
    within("the first call", first.check(check()))
        .await
        .unwrap();
    let (id, local_addr, reused) = got_conn(&log);
    assert!(!reused);

    let mut open = Vec::new();
    for batch in (0..others).collect::<Vec<_>>().chunks(32) {
        let mut calls = tokio::task::JoinSet::new();
        for n in batch {
            let mut client =
                HealthClient::new(channel_to(&format!("h{n}.test"), ClientTrace::new()));
            calls.spawn(async move {
                client.check(check()).await.unwrap();
                client
            });
        }
        open.extend(calls.join_all().await);
    }

    within("the call after", first.check(check()))
        .await
        .unwrap();
    assert_eq!(
        got_conn(&log),
        (id, local_addr, true),
        "the same connection"
    );
    drop(open);
}
