//! The exact event sequence and fields of each HTTP/1.1 scenario, against real hyper servers
//! on loopback.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use httptrace::{EventKind, EventLog};
use httptrace_tower::ConnectError;
use support::*;

#[tokio::test]
async fn fresh_connection_then_reused_reports_idle_time() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let (client, dials) = held_client(
        TestResolver::new().with("localhost", &["127.0.0.1"]),
        log.trace(),
    );

    let res = client
        .request(get(&server.url("localhost", "/")))
        .await
        .unwrap();
    assert_eq!(read_body(res.into_body()).await, "ok");
    let first = log.take();
    assert_eq!(names(&first), GO_FRESH_HTTP1_GET);

    let port = server.port();
    let EventKind::GetConn(get_conn) = &first[0].kind else {
        unreachable!()
    };
    assert_eq!(get_conn.host_port, format!("localhost:{port}"));
    let EventKind::DnsStart(dns) = &first[1].kind else {
        unreachable!()
    };
    assert_eq!(dns.host, "localhost");
    let EventKind::DnsDone(dns) = &first[2].kind else {
        unreachable!()
    };
    assert_eq!(
        dns.addrs,
        ["127.0.0.1".parse::<std::net::IpAddr>().unwrap()]
    );
    assert!(dns.err.is_none() && !dns.coalesced);
    let EventKind::ConnectStart(start) = &first[3].kind else {
        unreachable!()
    };
    assert_eq!((start.network, start.addr), ("tcp", server.addr));
    let EventKind::ConnectDone(done) = &first[4].kind else {
        unreachable!()
    };
    assert_eq!(done.addr, server.addr);
    assert!(done.err.is_none());
    let got = got_conn(&first);
    assert!(!got.reused && !got.was_idle && got.idle_time.is_zero());
    assert_eq!(got.conn.remote_addr, Some(server.addr));
    assert_eq!(
        got.conn.local_addr,
        Some(server.seen()[0].peer),
        "the connection the server saw"
    );
    let EventKind::WroteHeaderField(host) = &first[6].kind else {
        unreachable!()
    };
    assert_eq!(host.values, [format!("localhost:{port}")]);
    let EventKind::PutIdleConn(put) = &first[10].kind else {
        unreachable!()
    };
    assert!(put.err.is_none());

    // Idle for at least 50 ms; then only the pooled connection can serve the next request.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second = get_from_the_pool(&client, &dials, &server.url("localhost", "/"), &log).await;
    assert_eq!(names(&second), GO_REUSED_HTTP1_GET);
    let again = got_conn(&second);
    assert!(again.reused && again.was_idle);
    assert!(
        again.idle_time >= Duration::from_millis(50),
        "{:?}",
        again.idle_time
    );
    assert!(
        again.idle_time < Duration::from_secs(5),
        "{:?}",
        again.idle_time
    );
    assert_eq!(again.conn, got.conn);
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn ip_literal_url_fires_no_dns_hooks() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let resolver = TestResolver::new();
    let client = client(resolver.clone(), log.trace());
    let res = client
        .request(get(&server.url("127.0.0.1", "/")))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    let events = log.take();
    assert_eq!(names(&events), go_fresh_http1_get_by_ip());
    let EventKind::GetConn(get_conn) = &events[0].kind else {
        unreachable!()
    };
    assert_eq!(get_conn.host_port, format!("127.0.0.1:{}", server.port()));
    assert_eq!(resolver.query_count(), 0);
}

#[tokio::test]
async fn ipv6_literal_url_is_bracketed_and_skips_dns() {
    if !has_ipv6_loopback() {
        return;
    }
    let server = TestServer::bind(
        "[::1]:0",
        std::sync::Arc::new(|_: &Seen| http::Response::new(Default::default())),
    )
    .await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    let url = format!("http://[::1]:{}/", server.port());
    let res = client.request(get(&url)).await.unwrap();
    read_body(res.into_body()).await;
    let events = log.take();
    assert_eq!(names(&events), go_fresh_http1_get_by_ip());
    let EventKind::GetConn(get_conn) = &events[0].kind else {
        unreachable!()
    };
    assert_eq!(get_conn.host_port, format!("[::1]:{}", server.port()));
    let EventKind::ConnectStart(start) = &events[1].kind else {
        unreachable!()
    };
    assert_eq!(start.addr, server.addr);
}

#[tokio::test]
async fn refused_port_reports_the_failed_attempt_and_keeps_the_error() {
    let port = refused_port().await;
    let url = format!("http://127.0.0.1:{port}/");
    let log = EventLog::new();
    let err = client(TestResolver::new(), log.trace())
        .request(get(&url))
        .await
        .unwrap_err();
    let events = log.take();
    assert_eq!(names(&events), ["GetConn", "ConnectStart", "ConnectDone"]);
    let EventKind::ConnectDone(done) = &events[2].kind else {
        unreachable!()
    };
    assert_eq!(done.addr.port(), port);
    let attempt_err = done.err.as_ref().expect("the attempt's error");
    assert_eq!(
        attempt_err.io_error_kind(),
        Some(std::io::ErrorKind::ConnectionRefused)
    );

    let plain = untraced_client(TestResolver::new())
        .request(get(&url))
        .await
        .unwrap_err();
    assert_eq!(
        error_chain(&err),
        error_chain(&plain),
        "the layer does not change the error"
    );
    let client_error = err.service_error_as::<hyper_util::client::legacy::Error>();
    assert!(client_error.unwrap().is_connect());
    let source = std::error::Error::source(&err).unwrap();
    assert!(
        matches!(
            source.downcast_ref::<ConnectError>(),
            Some(ConnectError::Connect { .. })
        ),
        "{source:?}"
    );
}

#[tokio::test]
async fn failing_resolver_reports_dns_done_with_the_error_and_no_connect() {
    let resolver = TestResolver::new().failing("nowhere.test", "resolver is down");
    let log = EventLog::new();
    let err = client(resolver.clone(), log.trace())
        .request(get("http://nowhere.test:8080/"))
        .await
        .unwrap_err();
    let events = log.take();
    assert_eq!(names(&events), ["GetConn", "DNSStart", "DNSDone"]);
    let EventKind::DnsDone(done) = &events[2].kind else {
        unreachable!()
    };
    assert!(done.addrs.is_empty());
    assert_eq!(done.err.as_ref().unwrap().to_string(), "resolver is down");
    assert!(!done.coalesced);
    let plain = untraced_client(resolver)
        .request(get("http://nowhere.test:8080/"))
        .await
        .unwrap_err();
    assert_eq!(error_chain(&err), error_chain(&plain));
    assert!(
        error_chain(&err).iter().any(|m| m == "resolver is down"),
        "{:?}",
        error_chain(&err)
    );
}

#[tokio::test]
async fn dead_address_first_then_live_one_makes_two_attempts() {
    let server = TestServer::start().await;
    // Nothing listens on 127.0.0.2 at the server's port: that attempt is refused.
    let resolver = TestResolver::new().with("two.test", &["127.0.0.2", "127.0.0.1"]);
    let log = EventLog::new();
    let res = client(resolver, log.trace())
        .request(get(&server.url("two.test", "/")))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    let events = log.take();
    assert_eq!(
        names(&events)[..8],
        [
            "GetConn",
            "DNSStart",
            "DNSDone",
            "ConnectStart",
            "ConnectDone",
            "ConnectStart",
            "ConnectDone",
            "GotConn"
        ]
    );
    let attempts: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ConnectDone(d) => Some((
                d.addr.ip().to_string(),
                d.err.as_ref().and_then(|e| e.io_error_kind()),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        attempts,
        [
            (
                "127.0.0.2".into(),
                Some(std::io::ErrorKind::ConnectionRefused)
            ),
            ("127.0.0.1".into(), None)
        ]
    );
}

#[tokio::test]
async fn happy_eyeballs_falls_back_to_ipv4_at_once_when_ipv6_is_refused() {
    if !has_ipv6_loopback() {
        return;
    }
    let server = TestServer::start().await; // 127.0.0.1 only: [::1] refuses
    let resolver = TestResolver::new().with("dual.test", &["::1", "127.0.0.1"]);
    let log = EventLog::new();
    let started = std::time::Instant::now();
    let res = client(resolver, log.trace())
        .request(get(&server.url("dual.test", "/")))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    let events = log.take();
    let dials: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ConnectStart(s) => Some(format!("start {}", s.addr.ip())),
            EventKind::ConnectDone(d) => Some(format!("done {} {}", d.addr.ip(), d.err.is_some())),
            _ => None,
        })
        .collect();
    assert_eq!(
        dials,
        [
            "start ::1",
            "done ::1 true",
            "start 127.0.0.1",
            "done 127.0.0.1 false"
        ]
    );
    // The refusal starts the fallback without waiting out the 300 ms delay.
    assert!(
        started.elapsed() < Duration::from_millis(290),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn body_dropped_unread_reports_put_idle_error_and_next_request_dials_again() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    let res = client
        .request(get(&server.url("127.0.0.1", "/big")))
        .await
        .unwrap();
    let mut body = res.into_body();
    let first_frame = body.frame().await.unwrap().unwrap();
    assert!(first_frame.is_data());
    drop(body);
    let events = log.take();
    assert_eq!(names(&events).last().unwrap(), "PutIdleConn");
    let EventKind::PutIdleConn(put) = &events.last().unwrap().kind else {
        unreachable!()
    };
    assert!(put
        .err
        .as_ref()
        .unwrap()
        .to_string()
        .contains("dropped before its end"));
    assert_eq!(
        events.iter().filter(|e| e.name() == "PutIdleConn").count(),
        1
    );

    let res = client
        .request(get(&server.url("127.0.0.1", "/")))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    let next = log.take();
    assert!(
        names(&next).contains(&"ConnectStart".to_owned()),
        "{:?}",
        names(&next)
    );
    assert!(!got_conn(&next).reused);
    assert_eq!(server.connection_count(), 2);
}

#[tokio::test]
async fn server_closing_without_answer_ends_after_wrote_request_with_the_same_error() {
    let (addr, _task) = misbehaving_server(b"", false, false).await; // reads the head, closes
    let url = format!("http://{addr}/");
    let log = EventLog::new();
    let err = client(TestResolver::new(), log.trace())
        .request(get(&url))
        .await
        .unwrap_err();
    let events = log.take();
    assert_eq!(
        names(&events),
        [
            "GetConn",
            "ConnectStart",
            "ConnectDone",
            "GotConn",
            "WroteHeaderField(host)",
            "WroteHeaders",
            "WroteRequest"
        ]
    );
    let EventKind::WroteRequest(wrote) = &events[6].kind else {
        unreachable!()
    };
    assert!(
        wrote.err.is_none(),
        "the request was written before the server closed"
    );
    let plain = untraced_client(TestResolver::new())
        .request(get(&url))
        .await
        .unwrap_err();
    assert_eq!(error_chain(&err), error_chain(&plain));
}

#[tokio::test]
async fn streamed_post_body_fires_wrote_request_after_its_last_chunk() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client =
        client_with::<http_body_util::channel::Channel<Bytes>>(TestResolver::new(), log.trace());
    let (mut tx, body) = http_body_util::channel::Channel::new(4);
    let req = http::Request::post(server.url("127.0.0.1", "/upload"))
        .body(body)
        .unwrap();
    let pending = tokio::spawn(client.request(req));

    tx.send_data(Bytes::from_static(b"hello ")).await.unwrap();
    eventually("the head is written", || {
        log.names().contains(&"WroteHeaders")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !log.names().contains(&"WroteRequest"),
        "the body has not ended yet: {:?}",
        log.names()
    );
    tx.send_data(Bytes::from_static(b"world")).await.unwrap();
    drop(tx);

    let res = pending.await.unwrap().unwrap();
    read_body(res.into_body()).await;
    let events = log.take();
    assert_eq!(
        names(&events),
        go_http1_by_ip(true, &["host", "transfer-encoding"])
    );
    let EventKind::WroteHeaderField(te) = &events[5].kind else {
        unreachable!()
    };
    assert_eq!(te.values, ["chunked"]);
    assert_eq!(server.seen()[0].body, "hello world");
}

#[tokio::test]
async fn header_fields_are_reported_in_wire_order_with_repeated_names_together() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let req = http::Request::post(server.url("127.0.0.1", "/"))
        .header("accept", "text/plain")
        .header("accept", "application/json")
        .header("x-request-id", "abc")
        .body(http_body_util::Full::new(Bytes::from_static(b"12345")))
        .unwrap();
    let res = client(TestResolver::new(), log.trace())
        .request(req)
        .await
        .unwrap();
    read_body(res.into_body()).await;
    let fields: Vec<_> = log
        .take()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::WroteHeaderField(f) => Some((
                f.name,
                f.values
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect::<Vec<_>>(),
            )),
            _ => None,
        })
        .collect();
    let host = format!("127.0.0.1:{}", server.port());
    assert_eq!(
        fields,
        [
            (
                "accept".to_owned(),
                vec!["text/plain".to_owned(), "application/json".to_owned()]
            ),
            ("x-request-id".to_owned(), vec!["abc".to_owned()]),
            ("host".to_owned(), vec![host]),
            ("content-length".to_owned(), vec!["5".to_owned()]),
        ]
    );
}

#[tokio::test]
async fn head_request_returns_the_connection_before_the_response() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    let req = http::Request::head(server.url("127.0.0.1", "/"))
        .body(Default::default())
        .unwrap();
    let res = client.request(req).await.unwrap();
    assert_eq!(
        names(&log.events()).last().unwrap(),
        "PutIdleConn",
        "before the caller has the response"
    );
    read_body(res.into_body()).await;
    assert_eq!(
        log.names().iter().filter(|n| **n == "PutIdleConn").count(),
        1
    );
}

#[tokio::test]
async fn connection_close_fires_no_put_idle_conn() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    let req = http::Request::get(server.url("127.0.0.1", "/"))
        .header("connection", "close")
        .body(Default::default())
        .unwrap();
    let res = client.request(req).await.unwrap();
    read_body(res.into_body()).await;
    let names = names(&log.take());
    assert!(!names.contains(&"PutIdleConn".to_owned()), "{names:?}");
    assert_eq!(names.last().unwrap(), "GotFirstResponseByte");
}

#[tokio::test]
async fn connect_timeout_ends_the_attempt_as_timed_out() {
    let (hole, _filler) = blackhole("127.0.0.1:0").await;
    let url = format!("http://{}/", hole.local_addr().unwrap());
    let mut dialer = dialer(TestResolver::new());
    dialer.set_connect_timeout(Some(Duration::from_millis(200)));
    let log = EventLog::new();
    let err = client_over::<http_body_util::Full<Bytes>>(dialer, log.trace())
        .request(get(&url))
        .await
        .unwrap_err();
    let events = log.take();
    assert_eq!(names(&events), ["GetConn", "ConnectStart", "ConnectDone"]);
    let EventKind::ConnectDone(done) = &events[2].kind else {
        unreachable!()
    };
    assert_eq!(
        done.err.as_ref().unwrap().io_error_kind(),
        Some(std::io::ErrorKind::TimedOut)
    );
    assert!(events[2].at - events[1].at >= Duration::from_millis(200));
    assert!(
        error_chain(&err).iter().any(|m| m == "connect timed out"),
        "{:?}",
        error_chain(&err)
    );
}

#[tokio::test]
async fn the_connect_timeout_covers_a_lookup_that_never_answers() {
    let (resolver, _gate) = TestResolver::new()
        .with("stuck.test", &["127.0.0.1"])
        .gated();
    let mut dialer = dialer(resolver);
    dialer.set_connect_timeout(Some(Duration::from_millis(200)));
    let log = EventLog::new();
    let err = client_over::<http_body_util::Full<Bytes>>(dialer, log.trace())
        .request(get("http://stuck.test/"))
        .await
        .unwrap_err();
    let events = log.take();
    assert_eq!(names(&events), ["GetConn", "DNSStart", "DNSDone"]);
    let EventKind::DnsDone(done) = &events[2].kind else {
        unreachable!()
    };
    assert_eq!(done.err.as_ref().unwrap().to_string(), "lookup cancelled");
    assert!(
        error_chain(&err)
            .iter()
            .any(|m| m == "lookup timed out (the connect timeout)"),
        "{:?}",
        error_chain(&err)
    );
}

#[tokio::test]
async fn happy_eyeballs_tries_ipv4_after_the_delay_and_cancels_the_hanging_ipv6_attempt() {
    if !has_ipv6_loopback() {
        return;
    }
    // [::1]:P hangs; 127.0.0.1:P answers.
    let (hole, _filler) = blackhole("[::1]:0").await;
    let port = hole.local_addr().unwrap().port();
    let handler = std::sync::Arc::new(|_: &Seen| http::Response::new(Default::default()));
    let server = TestServer::bind(&format!("127.0.0.1:{port}"), handler).await;
    let resolver = TestResolver::new().with("dual.test", &["::1", "127.0.0.1"]);
    let log = EventLog::new();
    let res = client(resolver, log.trace())
        .request(get(&server.url("dual.test", "/")))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    let events = log.take();
    let dials: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ConnectStart(s) => Some((e.at, format!("start {}", s.addr.ip()))),
            EventKind::ConnectDone(d) => Some((
                e.at,
                format!(
                    "done {} {:?}",
                    d.addr.ip(),
                    d.err.as_ref().and_then(|e| e.io_error_kind())
                ),
            )),
            _ => None,
        })
        .collect();
    let labels: Vec<_> = dials.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(
        labels,
        [
            "start ::1",
            "start 127.0.0.1",
            "done 127.0.0.1 None",
            "done ::1 Some(Interrupted)"
        ]
    );
    assert!(
        dials[1].0 - dials[0].0 >= Duration::from_millis(300),
        "the fallback waits out the delay"
    );
    assert_eq!(
        names(&events)[..4],
        ["GetConn", "DNSStart", "DNSDone", "ConnectStart"]
    );
    assert_eq!(got_conn(&events).conn.remote_addr, Some(server.addr));
}

#[tokio::test]
async fn reuse_counts_requests_that_were_not_traced() {
    // A service that traces a sample of its requests: the traced one after an untraced one
    // on the same connection is still reported reused.
    let server = TestServer::start().await;
    let client = client(TestResolver::new(), httptrace::ClientTrace::new());
    let res = client
        .request(get(&server.url("127.0.0.1", "/")))
        .await
        .unwrap();
    let conn = res
        .extensions()
        .get::<httptrace_tower::ConnectionHandle>()
        .unwrap()
        .clone();
    read_body(res.into_body()).await;
    assert_eq!(conn.requests_served(), 1);

    let log = EventLog::new();
    let mut req = get(&server.url("127.0.0.1", "/"));
    httptrace::with_client_trace(&mut req, log.trace());
    read_body(client.request(req).await.unwrap().into_body()).await;
    let got = got_conn(&log.take());
    assert!(got.reused && got.was_idle, "{got:?}");
    assert_eq!(got.conn.id, conn.info().id);
    assert_eq!(conn.requests_served(), 2);
}
