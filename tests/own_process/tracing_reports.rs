//! A process of its own: it sets the global `tracing` subscriber.
//!
//! What the library itself says through `tracing` (target `httptrace`), each once per process:
//! a hook that panics (with the hook's name and the panic's message; the request and its
//! connection carry on), and HTTP/2 by prior knowledge over a connector told
//! `http2_only_by_alpn`. The binary's tests share the process's global subscriber.

extern crate httptrace_test_support as support;

use std::sync::{Arc, Mutex, OnceLock};

use httptrace::{with_client_trace, ClientTrace, EventLog};
use httptrace_tower::{HttpTrace, TraceConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::h2_raw::{raw_h2_server, Act};
use support::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Keeps the `httptrace` events' fields, as "name=value" strings.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Vec<String>>>>);

struct Fields(Vec<String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{}={:?}", field.name(), value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(format!("{}={value}", field.name()));
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == "httptrace"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(vec![format!("level={}", event.metadata().level())]);
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// The process's subscriber, set by the first test to ask.
fn recorder() -> Recorder {
    static RECORDER: OnceLock<Recorder> = OnceLock::new();
    RECORDER
        .get_or_init(|| {
            let recorder = Recorder::default();
            tracing::subscriber::set_global_default(recorder.clone()).unwrap();
            recorder
        })
        .clone()
}

/// The events recorded so far with a field that contains `text`.
fn recorded_with(text: &str) -> Vec<Vec<String>> {
    let events = recorder().0.lock().unwrap().clone();
    events
        .into_iter()
        .filter(|e| e.iter().any(|f| f.contains(text)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_hook_is_reported_once_through_tracing() {
    recorder();
    let server = TestServer::start().await;
    let log = EventLog::new();
    let (client, dials) = held_client(TestResolver::new(), log.trace());

    let mut req = get(&server.url("127.0.0.1", "/"));
    with_client_trace(
        &mut req,
        ClientTrace::new().on_wrote_headers(|| panic!("boom in a hook")),
    );
    let res = client.request(req).await.expect("the request carries on");
    assert_eq!(read_body(res.into_body()).await, "ok");

    let events = recorded_with("hook=");
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert!(e.contains(&"level=ERROR".to_owned()), "{e:?}");
    assert!(e.contains(&"hook=WroteHeaders".to_owned()), "{e:?}");
    assert!(e.contains(&"panic=boom in a hook".to_owned()), "{e:?}");

    // The connection carries on too, and other requests hear nothing of it: with new dials
    // held, only the pooled connection can serve the next request.
    let first = log.take();
    assert_eq!(
        names(&first).last().unwrap(),
        "PutIdleConn",
        "the layer's trace saw it all"
    );
    let next = get_from_the_pool(&client, &dials, &server.url("127.0.0.1", "/"), &log).await;
    assert_eq!(got_conn(&next).conn.id, got_conn(&first).conn.id);
    assert!(got_conn(&next).reused);
    assert_eq!(recorded_with("hook=").len(), 1);
}

/// A connector told `http2_only_by_alpn` cannot tell the layer which connection carries a
/// stream sent by prior knowledge; that is said once, and only then.
#[tokio::test]
async fn http2_by_prior_knowledge_over_a_connector_told_by_alpn_is_warned_of_once() {
    recorder();
    let server = raw_h2_server(|_, _| Act::Answer).await;
    let url = format!("http://{}/", server.addr);
    let h2_get = || {
        let mut req = get(&url);
        *req.version_mut() = http::Version::HTTP_2;
        req
    };
    let warnings = || recorded_with("http2_only_by_alpn");
    let over = |connector: TestConnector| -> TestClient {
        HttpTrace::new(
            Client::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector),
            ClientTrace::new(),
        )
    };

    let client = over(TraceConnector::new(dialer(TestResolver::new())));
    let res = within("the default connector's request", client.request(h2_get()));
    read_body(res.await.unwrap().into_body()).await;
    assert_eq!(
        warnings(),
        Vec::<Vec<String>>::new(),
        "its connector has the handle"
    );

    for _ in 0..2 {
        let told = TraceConnector::new(dialer(TestResolver::new())).http2_only_by_alpn();
        let res = within("the told connector's request", over(told).request(h2_get()));
        read_body(res.await.unwrap().into_body()).await;
    }
    let warnings = warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(&"level=WARN".to_owned()),
        "{warnings:?}"
    );
}
