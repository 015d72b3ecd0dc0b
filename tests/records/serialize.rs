//! `Serialize` (the core's `serde` feature, on by default): a real request's `Timings` carry
//! its method, redacted URL, status, protocol, reuse and sizes; each info serializes to the
//! keys its event has; every key of every JSON this crate writes is `snake_case`, and
//! `to_json` is serde's output.

use httptrace::{EventKind, EventLog, TimingsRecorder};
use httptrace_tower::HttpTraceLayer;
use serde_json::{json, Map, Value};
use support::*;
use tower::{ServiceBuilder, ServiceExt};

/// Every object key in `value`, at any depth.
fn keys(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                keys(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

fn snake_case(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[tokio::test]
async fn timings_infos_and_events_serialize_with_one_key_scheme() {
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = ServiceBuilder::new()
        .layer(HttpTraceLayer::new(log.trace_beyond_go()).record_timings())
        .service(pool());
    let url = format!(
        "http://user:pa55word@127.0.0.1:{}/p?sig=s1gnature&plain=1",
        server.port()
    );
    let res = within("the request", client.oneshot(get(&url)))
        .await
        .unwrap();
    let recorder = res.extensions().get::<TimingsRecorder>().cloned().unwrap();
    read_body(res.into_body()).await;

    let timings = recorder.timings();
    let value = serde_json::to_value(&timings).unwrap();
    assert_eq!(
        timings.to_json(),
        serde_json::to_string(&timings).unwrap(),
        "to_json is serde's"
    );
    let port = server.port();
    let expected_head = json!({
        "method": "GET",
        "url": format!("http://REDACTED:REDACTED@127.0.0.1:{port}/p?sig=REDACTED&plain=1"),
        "status": 200,
        "protocol": "HTTP/1.1",
        "reused": false,
        "was_idle": false,
        "idle_us": 0,
        "remote_addr": format!("127.0.0.1:{port}"),
        "request_body_bytes": 0,
        "response_body_bytes": 2,
        "response_error": null,
    });
    for (k, v) in expected_head.as_object().unwrap() {
        assert_eq!(&value[k], v, "{k}");
    }
    let object: &Map<String, Value> = value.as_object().unwrap();
    let mut top: Vec<&str> = object.keys().map(String::as_str).collect();
    top.sort_unstable();
    let mut expected_keys = [
        "method",
        "url",
        "status",
        "protocol",
        "reused",
        "was_idle",
        "idle_us",
        "remote_addr",
        "namelookup_us",
        "connect_us",
        "appconnect_us",
        "pretransfer_us",
        "starttransfer_us",
        "total_us",
        "queue_us",
        "marks_us",
        "phases",
        "request_body_bytes",
        "response_body_bytes",
        "response_error",
    ];
    expected_keys.sort_unstable();
    assert_eq!(top, expected_keys);
    assert!(value["marks_us"]["response_end"].is_u64());
    assert_eq!(value["phases"][0]["phase"], "queue");

    let events = log.events();
    let mut all_keys = Vec::new();
    keys(&value, &mut all_keys);
    for event in &events {
        let event_value: Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(event.to_json(), serde_json::to_string(event).unwrap());
        keys(&event_value, &mut all_keys);
        // The info alone has the event's keys but `event` and `t_us`.
        let info = match &event.kind {
            EventKind::GetConn(i) => serde_json::to_value(i),
            EventKind::GotConn(i) => serde_json::to_value(i),
            EventKind::ConnectStart(i) => serde_json::to_value(i),
            EventKind::ConnectDone(i) => serde_json::to_value(i),
            EventKind::WroteHeaderField(i) => serde_json::to_value(i),
            EventKind::WroteRequest(i) => serde_json::to_value(i),
            EventKind::PutIdleConn(i) => serde_json::to_value(i),
            EventKind::RequestBodyDone(i) | EventKind::ResponseBodyDone(i) => {
                serde_json::to_value(i)
            }
            _ => continue,
        }
        .unwrap();
        let mut without = event_value.as_object().unwrap().clone();
        without.remove("event");
        without.remove("t_us");
        assert_eq!(info, Value::Object(without), "{}", event.name());
    }
    assert!(
        events.iter().any(|e| e.name() == "GotConn"),
        "{:?}",
        log.names()
    );
    let wrong: Vec<&String> = all_keys.iter().filter(|k| !snake_case(k)).collect();
    assert!(wrong.is_empty(), "keys not snake_case: {wrong:?}");
}
