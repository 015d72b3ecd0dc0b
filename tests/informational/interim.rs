//! 1xx responses: Got1xxResponse (with its headers), Got100Continue, and a hook's veto.

use std::sync::Arc;

use httptrace::{with_client_trace, ClientTrace, EventKind, EventLog};
use support::*;

const EARLY_HINTS_THEN_OK: &[u8] =
    b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n\
HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

#[tokio::test]
async fn early_hints_before_the_final_response() {
    let (addr, _server) = scripted_server(|_| EARLY_HINTS_THEN_OK.to_vec()).await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    for round in 0..2 {
        let res = client
            .request(get(&format!("http://{addr}/")))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(read_body(res.into_body()).await, "ok");
        let events = log.take();
        // The 103 is read with the first byte, and reported right after it.
        let mut expected = go_http1_by_ip(round == 0, &["host"]);
        let put_idle = expected.len() - 1;
        expected.insert(put_idle, "Got1xxResponse".to_owned());
        assert_eq!(names(&events), expected, "request {round}");
        let hint = events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::Got1xxResponse(i) => Some(i.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(hint.status, 103);
        assert_eq!(hint.headers["link"], "</style.css>; rel=preload");
        assert_eq!(got_conn(&events).reused, round == 1);
    }
}

#[tokio::test]
async fn an_unsolicited_100_fires_got_100_continue_then_got_1xx_response() {
    let (addr, _server) = scripted_server(|_| {
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec()
    })
    .await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    // Round 1 through hyper's informational callback; round 2 read off the wire (the layer
    // has seen its requests handed to traced connections).
    for round in 1..=2 {
        let res = client
            .request(get(&format!("http://{addr}/")))
            .await
            .unwrap();
        read_body(res.into_body()).await;
        let names = names(&log.take());
        let tail: Vec<&str> = names
            .iter()
            .skip_while(|n| *n != "GotFirstResponseByte")
            .map(String::as_str)
            .collect();
        assert_eq!(
            tail,
            [
                "GotFirstResponseByte",
                "Got100Continue",
                "Got1xxResponse",
                "PutIdleConn"
            ],
            "round {round}"
        );
        assert_eq!(
            names
                .iter()
                .filter(|n| *n == "GotFirstResponseByte")
                .count(),
            1,
            "round {round}: once, at the 1xx"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1xx_hook_that_returns_an_error_aborts_the_request_with_it() {
    #[derive(Debug)]
    struct NoHints;
    impl std::fmt::Display for NoHints {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("early hints are not welcome here")
        }
    }
    impl std::error::Error for NoHints {}

    let (addr, _server) = scripted_server(|_| EARLY_HINTS_THEN_OK.to_vec()).await;
    let client = client(TestResolver::new(), ClientTrace::new());
    // Round 1: the layer has not yet seen a request handed to a traced connection, so it keeps
    // the request's connection at hand (hyper-util's `capture_connection`) to poison it. Round
    // 2: it has (round 1's), so the vetoed connection's traced I/O closes it; round 2's
    // request goes out on the connection round 1's last request left in the pool.
    for round in 1..=2 {
        let sentinel = Arc::new(());
        let held = sentinel.clone();
        let log = EventLog::new();
        let veto = ClientTrace::new().on_got_1xx_response(move |info| {
            let _ = &held;
            if info.status == 103 {
                Err(Box::new(NoHints))
            } else {
                Ok(())
            }
        });
        let mut req = get(&format!("http://{addr}/"));
        with_client_trace(&mut req, veto.compose(&log.trace()));
        drop(veto); // from here only the request holds it
        let err = within("the vetoed request", client.request(req))
            .await
            .unwrap_err();
        assert!(err.is_aborted());
        assert_eq!(err.to_string(), "early hints are not welcome here");
        let httptrace_tower::Error::Aborted(inner) = err else {
            unreachable!()
        };
        assert!(
            inner.downcast_ref::<NoHints>().is_some(),
            "the hook's own error, unchanged"
        );
        let vetoed = log.take();
        let names = names(&vetoed);
        assert_eq!(names.last().unwrap(), "Got1xxResponse", "{names:?}");
        assert!(!names.contains(&"PutIdleConn".to_owned()));

        // Nothing is left behind, and the next request works on a new connection.
        eventually("the trace to be released", || {
            Arc::strong_count(&sentinel) == 1
        })
        .await;
        let log = EventLog::new();
        let mut req = get(&format!("http://{addr}/"));
        with_client_trace(&mut req, log.trace());
        let res = client.request(req).await.unwrap();
        assert_eq!(read_body(res.into_body()).await, "ok");
        // Not the vetoed connection (which connection the vetoed request had depends on
        // whether round 1's last connection was back in the pool yet: hyper-util puts it
        // back from a task of its own).
        assert_ne!(
            got_conn(&log.take()).conn.id,
            got_conn(&vetoed).conn.id,
            "round {round}: the aborted request's connection was closed"
        );
    }
}

#[tokio::test]
async fn a_hook_that_only_sees_1xx_fires_and_the_timings_record_the_interim_response() {
    let (addr, _server) = scripted_server(|_| EARLY_HINTS_THEN_OK.to_vec()).await;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let saw = seen.clone();
    let trace = ClientTrace::new()
        .on_got_1xx_response_seen(move |i| saw.lock().unwrap().push(i.status.as_u16()));
    assert!(trace.is_set(httptrace::HookKind::Got1xxResponse));
    assert!(!trace.may_veto_1xx());
    assert!(trace
        .clone()
        .compose(&ClientTrace::new().on_got_1xx_response(|_| Ok(())))
        .may_veto_1xx());
    let client = client(TestResolver::new(), trace).record_timings();
    // Round 1 through hyper's informational callback, round 2 read off the wire.
    for round in 1..=2 {
        let res = client
            .request(get(&format!("http://{addr}/")))
            .await
            .unwrap();
        let recorder = res
            .extensions()
            .get::<httptrace::TimingsRecorder>()
            .cloned()
            .unwrap();
        assert_eq!(read_body(res.into_body()).await, "ok");
        assert_eq!(
            std::mem::take(&mut *seen.lock().unwrap()),
            [103],
            "round {round}"
        );
        let t = recorder.timings();
        let interim = t
            .first_interim_response_start
            .expect("the 103 was recorded");
        assert!(t
            .response_start
            .is_some_and(|first_byte| first_byte <= interim));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_streams_1xx_fails_the_request_after_five_and_loses_its_connection() {
    let (addr, mut ends) = endless_continue_server().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    // Round 1 through hyper's informational callback, round 2 read off the wire (the layer
    // has seen round 1's request handed to a traced connection).
    for round in 1..=2 {
        let err = within(
            "the request",
            client.request(get(&format!("http://{addr}/"))),
        )
        .await
        .unwrap_err();
        assert!(err.is_too_many_informational(), "round {round}: {err}");
        let httptrace_tower::Error::TooManyInformational(too_many) = &err else {
            unreachable!()
        };
        assert_eq!(too_many.status, 100);
        assert_eq!(
            err.to_string(),
            "too many 1xx informational responses (more than 5; the next was 100)"
        );
        let events = log.take();
        assert_well_formed(&events);
        let names = names(&events);
        let count = |n: &str| names.iter().filter(|m| *m == n).count();
        assert_eq!(count("Got1xxResponse"), 5, "round {round}: {names:?}");
        assert_eq!(count("Got100Continue"), 5, "round {round}: {names:?}");
        assert!(!names.contains(&"PutIdleConn".to_owned()), "{names:?}");
        assert!(!got_conn(&events).reused, "round {round}: a new connection");
        // The client closed the connection: the server's endless stream ended well before
        // its bound, so neither side kept reading or keeping 1xx responses.
        let wrote = within("the server to see the close", ends.recv())
            .await
            .unwrap();
        assert!(wrote < 1_000_000, "round {round}: the server wrote {wrote}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_veto_no_further_1xx_is_reported() {
    let (addr, _server) = scripted_server(|_| {
        b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n\
HTTP/1.1 103 Early Hints\r\nlink: </b>\r\n\r\n\
HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
            .to_vec()
    })
    .await;
    let client = client(TestResolver::new(), ClientTrace::new());
    // Round 1 through hyper's informational callback, round 2 read off the wire: both 103s
    // arrive in one read, and the first is vetoed.
    for round in 1..=2 {
        let log = EventLog::new();
        let veto = ClientTrace::new().on_got_1xx_response(|_| Err("no hints, thanks".into()));
        let mut req = get(&format!("http://{addr}/"));
        with_client_trace(&mut req, veto.compose(&log.trace()));
        let err = within("the request", client.request(req))
            .await
            .unwrap_err();
        assert!(err.is_aborted(), "round {round}: {err}");
        let names = names(&log.take());
        let hints = names.iter().filter(|n| *n == "Got1xxResponse").count();
        assert_eq!(hints, 1, "round {round}: {names:?}");
    }
}

#[tokio::test]
async fn a_veto_fails_the_request_even_when_no_final_response_follows() {
    // A 103, then nothing: the veto alone must end the request.
    let (addr, _server) = misbehaving_server(
        b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n",
        false,
        true,
    )
    .await;
    let client = client(TestResolver::new(), ClientTrace::new());
    // Round 1 through hyper's informational callback (the future must be woken by the veto),
    // round 2 read off the wire (the closed connection wakes it).
    for round in 1..=2 {
        let veto = ClientTrace::new().on_got_1xx_response(|_| Err("no hints, thanks".into()));
        let mut req = get(&format!("http://{addr}/"));
        with_client_trace(&mut req, veto);
        let err = within("the vetoed request", client.request(req))
            .await
            .unwrap_err();
        assert!(err.is_aborted(), "round {round}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vetoed_requests_connection_closes_as_not_reusable() {
    let (addr, _server) = scripted_server(|_| EARLY_HINTS_THEN_OK.to_vec()).await;
    let client = client(TestResolver::new(), ClientTrace::new());
    // Round 1 through hyper's informational callback, round 2 read off the wire; each
    // request dials its own connection, so hears of its close.
    for round in 1..=2 {
        let log = EventLog::new();
        let veto = ClientTrace::new().on_got_1xx_response(|_| Err("no hints, thanks".into()));
        let mut req = get(&format!("http://{addr}/"));
        with_client_trace(&mut req, veto.compose(&log.trace_beyond_go()));
        let err = within("the request", client.request(req))
            .await
            .unwrap_err();
        assert!(err.is_aborted(), "round {round}: {err}");
        eventually("the connection's close", || {
            log.names().contains(&"ConnClosed")
        })
        .await;
        let reason = log.events().iter().find_map(|e| match &e.kind {
            EventKind::ConnClosed(c) => Some(c.reason.as_str()),
            _ => None,
        });
        assert_eq!(reason, Some("not reusable"), "round {round}");
    }
}
