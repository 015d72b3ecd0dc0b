//! No secret leaves in a ready-made output: the event log's JSON and `Debug`, the timings'
//! JSON, HTTP/2's pseudo-header fields, over HTTP/1.1 and HTTP/2, for a request with
//! `user:password@`, a signed query and sensitive headers. Hooks of the user's own still get
//! the raw values.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use httptrace::{ClientTrace, EventKind, EventLog, Redaction, TimingsRecorder};
use httptrace_tower::{CallTraceLayer, HttpTraceLayer, TraceConnector, TracedRequestBody};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::*;
use tower::{ServiceBuilder, ServiceExt};

#[tokio::test]
async fn the_event_log_and_the_timings_show_no_secret_and_hooks_get_them_raw() {
    let server = secret_server().await;
    for http2 in [false, true] {
        let log = EventLog::new();
        let raw = Arc::new(Mutex::new(Vec::new()));
        let saw = raw.clone();
        let own =
            ClientTrace::new().on_call_start(move |i| saw.lock().unwrap().push(i.uri.to_string()));
        let pool: Client<_, TracedRequestBody<Full<Bytes>>> = Client::builder(TokioExecutor::new())
            .http2_only(http2)
            .build(TraceConnector::new(dialer(TestResolver::new())));
        let client = ServiceBuilder::new()
            .layer(CallTraceLayer::new(own.compose(&log.trace_beyond_go())))
            .layer(HttpTraceLayer::default().record_timings())
            .service(pool);
        let mut req = secret_request(&secret_url(&server));
        if http2 {
            // Said up front: the layer keeps the head for the stream's HEADERS fields.
            *req.version_mut() = http::Version::HTTP_2;
        }
        let res = within("the request", client.oneshot(req)).await.unwrap();
        assert_eq!(res.version() == http::Version::HTTP_2, http2);
        let recorder = res.extensions().get::<TimingsRecorder>().cloned().unwrap();
        read_body(res.into_body()).await;
        let events = log.take();
        let json: Vec<String> = events.iter().map(|e| e.to_json()).collect();
        let json = json.join("\n");
        assert_no_secret("the event log's JSON", &json);
        assert_no_secret("the events' Debug", &format!("{events:?}"));
        assert_no_secret("the timings' JSON", &recorder.timings().to_json());
        assert_no_secret("the timings' Debug", &format!("{:?}", recorder.timings()));
        // What is hidden is said to be, and the rest is kept.
        assert!(json.contains("REDACTED:REDACTED@127.0.0.1"), "{json}");
        assert!(json.contains("X-Amz-Signature=REDACTED"), "{json}");
        assert!(json.contains("&plain=1"), "{json}");
        assert!(json.contains("[redacted]"), "{json}");
        if http2 {
            let fields: Vec<_> = events
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::WroteHeaderField(f) if f.name.starts_with(':') => Some(e.to_json()),
                    _ => None,
                })
                .collect();
            assert_eq!(fields.len(), 4, "{fields:?}");
            let path = fields.iter().find(|f| f.contains("\":path\"")).unwrap();
            assert!(
                path.contains("/path?X-Amz-Signature=REDACTED&AWSAccessKeyId=REDACTED"),
                "{path}"
            );
        }
        // Only when asked, the JSON shows them; the user's own hook always had them.
        let revealed: String = events
            .iter()
            .map(|e| e.to_json_with(&Redaction::new().reveal_secrets()))
            .collect();
        assert!(revealed.contains("pa55word") && revealed.contains("t0ken-secret"));
        let raw = raw.lock().unwrap();
        assert!(raw[0].contains("user:pa55word@"), "{raw:?}");
    }
}
