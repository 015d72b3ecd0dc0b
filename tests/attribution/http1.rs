//! Every request's events are its own, on a multi-thread runtime with many requests sharing
//! a few keep-alive connections.

use std::collections::HashMap;
use std::sync::Arc;

use httptrace::{with_client_trace, ClientTrace, EventKind, EventLog};
use support::*;

const TASKS: usize = 32;
const PER_TASK: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_over_shared_connections_each_get_only_their_own_events() {
    let server = TestServer::start().await;
    let client = client(
        TestResolver::new().with("load.test", &["127.0.0.1"]),
        ClientTrace::new(),
    );
    let client = Arc::new(client);
    let url = server.url("load.test", "/echo");

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut logs = Vec::new();
            for i in 0..PER_TASK {
                let id = format!("{t}-{i}");
                let log = EventLog::new();
                let mut req = http::Request::get(&url)
                    .header("x-request-id", &id)
                    .body(Default::default())
                    .unwrap();
                with_client_trace(&mut req, log.trace());
                let res = client.request(req).await.expect("request");
                assert_eq!(res.headers()["x-request-id"], id.as_str());
                read_body(res.into_body()).await;
                logs.push((id, log));
            }
            logs
        }));
    }
    let mut logs = Vec::new();
    for task in tasks {
        logs.extend(task.await.unwrap());
    }
    assert_eq!(logs.len(), TASKS * PER_TASK);

    // Dials that lost to the pool finish in the background: wait for their last hooks.
    for (_, log) in &logs {
        settle(log, Dials::Tcp).await;
    }

    let seen: HashMap<String, Seen> = server
        .seen()
        .into_iter()
        .map(|s| (s.request_id.clone().unwrap(), s))
        .collect();
    assert_eq!(seen.len(), TASKS * PER_TASK);

    // A request's own path, and the dial it may have started: when the pool hands it another
    // connection first, hyper-util finishes that dial in the background and its hooks still
    // report to this request, interleaved with the rest (as in Go).
    let request_path = [
        "GetConn",
        "GotConn",
        "WroteHeaderField(x-request-id)",
        "WroteHeaderField(host)",
        "WroteHeaders",
        "WroteRequest",
        "GotFirstResponseByte",
        "PutIdleConn",
    ];
    let dial = ["DNSStart", "DNSDone", "ConnectStart", "ConnectDone"];
    let (mut reused_count, mut dials_lost) = (0, 0);
    for (id, log) in &logs {
        let events = log.events();
        let names = names(&events);
        let (dials, path): (Vec<String>, Vec<String>) = names
            .iter()
            .cloned()
            .partition(|n| dial.contains(&n.as_str()));
        assert_eq!(path, request_path, "request {id}: {names:?}");
        assert!(dials.is_empty() || dials == dial, "request {id}: {names:?}");
        let got = got_conn(&events);
        let got_at = names.iter().position(|n| n == "GotConn").unwrap();
        if got.reused {
            reused_count += 1;
            assert!(got.was_idle, "request {id}");
        } else if !got.was_idle {
            // It got the connection it dialled itself: the dial came first.
            assert_eq!(names[1..5], dial, "request {id}: {names:?}");
            assert!(got_at == 5);
        }
        if !dials.is_empty() && names.iter().position(|n| n == "ConnectDone").unwrap() > got_at {
            dials_lost += 1;
        }
        // The field it wrote is its own id.
        let wrote_id = events.iter().find_map(|e| match &e.kind {
            EventKind::WroteHeaderField(f) if f.name == "x-request-id" => {
                Some(f.values[0].to_str().unwrap().to_owned())
            }
            _ => None,
        });
        assert_eq!(wrote_id.as_deref(), Some(id.as_str()));
        // The connection it was told about is the one the server saw its request on.
        let server_side = &seen[id];
        assert_eq!(got.conn.local_addr, Some(server_side.peer), "request {id}");
        // Its first response byte came after the server answered it.
        let first_byte = events
            .iter()
            .find(|e| e.name() == "GotFirstResponseByte")
            .unwrap();
        assert!(
            log.started_at() + first_byte.at >= server_side.answered_at,
            "request {id}"
        );
        let put = events.iter().find_map(|e| match &e.kind {
            EventKind::PutIdleConn(put) => Some(put),
            _ => None,
        });
        assert!(put.unwrap().err.is_none(), "request {id}");
    }
    assert!(
        reused_count > TASKS * PER_TASK / 2,
        "most requests reuse a connection: {reused_count}"
    );
    println!("{reused_count} reused, {dials_lost} dials finished after the request took another connection");
    // Every connection the server accepted is a successful dial in exactly one request's log.
    let dialled: usize = logs
        .iter()
        .map(|(_, log)| {
            log.events()
                .iter()
                .filter(|e| matches!(&e.kind, EventKind::ConnectDone(d) if d.err.is_none()))
                .count()
        })
        .sum();
    eventually("the server to accept every dialled connection", || {
        server.connection_count() >= dialled
    })
    .await;
    assert_eq!(server.connection_count(), dialled);
}
