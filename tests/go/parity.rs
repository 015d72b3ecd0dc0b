//! The scenarios of Go's own event logs (`tests/data/*.jsonl`, recorded from Go 1.19's client
//! on loopback) produce the same events, in the same order, with the same keys and values,
//! header fields aside (they are client-specific: Go sends a User-Agent and Accept-Encoding).

use std::time::Duration;

use httptrace::EventLog;
use serde_json::{Map, Value};
use support::*;

fn go_log(name: &str) -> Vec<Map<String, Value>> {
    let path = format!("{}/tests/data/{name}.jsonl", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap()
                .as_object()
                .unwrap()
                .clone()
        })
        .collect()
}

fn our_log(log: &EventLog) -> Vec<Map<String, Value>> {
    log.events()
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.to_json())
                .unwrap()
                .as_object()
                .unwrap()
                .clone()
        })
        .collect()
}

/// Drops header fields and times; puts our port where Go's log says PORT.
fn comparable(events: Vec<Map<String, Value>>, port: Option<u16>) -> Vec<Map<String, Value>> {
    events
        .into_iter()
        .filter(|e| e["event"] != "WroteHeaderField")
        .map(|mut e| {
            e.remove("t_us");
            for v in e.values_mut() {
                if let (Value::String(s), Some(port)) = (v, port) {
                    *s = s.replace(&format!(":{port}"), ":PORT");
                }
            }
            e
        })
        .collect()
}

fn assert_same(go: &[Map<String, Value>], ours: &[Map<String, Value>], differ: &[&str]) {
    let names = |l: &[Map<String, Value>]| {
        l.iter()
            .map(|e| e["event"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(ours), names(go), "event order");
    for (g, o) in go.iter().zip(ours) {
        let keys = |m: &Map<String, Value>| {
            let mut k: Vec<_> = m.keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(o), keys(g), "keys of {}", g["event"]);
        for (k, gv) in g {
            if differ.contains(&k.as_str()) {
                assert_eq!(
                    o[k].is_null(),
                    gv.is_null(),
                    "{k} of {} is set in both or neither",
                    g["event"]
                );
            } else if k != "idle_us" {
                assert_eq!(&o[k], gv, "{k} of {}", g["event"]);
            } else {
                assert_eq!(
                    o[k].as_u64().unwrap() > 0,
                    gv.as_u64().unwrap() > 0,
                    "idle_us of {}",
                    g["event"]
                );
            }
        }
    }
}

#[tokio::test]
async fn fresh_then_reused_matches_go() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let (client, dials) = held_client(
        TestResolver::new().with("localhost", &["127.0.0.1"]),
        log.trace(),
    );
    for n in 0..2 {
        log.request(n);
        let res = within(
            "the request",
            client.request(get(&server.url("localhost", "/"))),
        )
        .await
        .unwrap();
        let status = res.status().as_u16();
        read_body(res.into_body()).await;
        log.response(status, "HTTP/1.1");
        // The second request can only be served by the pooled connection.
        dials.hold();
    }
    let go = comparable(go_log("fresh-then-reused"), None);
    assert_same(&go, &comparable(our_log(&log), Some(server.port())), &[]);
}

#[tokio::test]
async fn connect_refused_matches_go() {
    let port = refused_port().await;
    let log = EventLog::new();
    log.request(0);
    let url = format!("http://127.0.0.1:{port}/");
    let err = client(TestResolver::new(), log.trace())
        .request(get(&url))
        .await
        .unwrap_err();
    log.error(&err);
    // Go dialled port 1; the error texts are each runtime's own.
    let go: Vec<_> = comparable(go_log("connect-refused"), None)
        .into_iter()
        .map(|mut e| {
            for v in e.values_mut() {
                if let Value::String(s) = v {
                    *s = s.replace("127.0.0.1:1", "127.0.0.1:PORT");
                }
            }
            e
        })
        .collect();
    assert_same(&go, &comparable(our_log(&log), Some(port)), &["err"]);
}

#[tokio::test]
async fn expect_100_continue_accepted_matches_go_but_for_when_wait_100_continue_fires() {
    let server = ExpectServer::start().await;
    let log = EventLog::new();
    let client = httptrace_tower::HttpTrace::new(
        client(TestResolver::new(), httptrace::ClientTrace::new()).into_inner(),
        log.trace(),
    )
    .expect_continue_timeout(Duration::from_secs(60));
    log.request(0);
    let req = http::Request::post(server.url("/accept"))
        .header("expect", "100-continue")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(
            b"hello",
        )))
        .unwrap();
    let res = within("the upload", client.request(req)).await.unwrap();
    let status = res.status().as_u16();
    read_body(res.into_body()).await;
    log.response(status, "HTTP/1.1");
    // Go fires Wait100Continue from its write loop after the 100 has often already been read
    // (a race in Go's transport); we fire it as soon as the head is written, before any
    // answer. Every other event, key and value is Go's.
    let mut go = comparable(go_log("expect-100-continue-accepted"), None);
    let wait = go
        .iter()
        .position(|e| e["event"] == "Wait100Continue")
        .unwrap();
    let moved = go.remove(wait);
    let after_headers = go
        .iter()
        .position(|e| e["event"] == "WroteHeaders")
        .unwrap()
        + 1;
    go.insert(after_headers, moved);
    assert_same(
        &go,
        &comparable(our_log(&log), Some(server.addr.port())),
        &[],
    );
}
