//! A hook that panics is reported exactly once through `tracing` (target `httptrace`, with the
//! hook's name and the panic's message), and the request and its connection carry on.
//! Alone in its binary: it sets the process's global subscriber.

mod support;

use std::sync::{Arc, Mutex};

use httptrace::{with_client_trace, ClientTrace, EventLog};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_hook_is_reported_once_through_tracing() {
    let recorder = Recorder::default();
    tracing::subscriber::set_global_default(recorder.clone()).unwrap();
    let server = TestServer::start().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());

    let mut req = get(&server.url("127.0.0.1", "/"));
    with_client_trace(
        &mut req,
        ClientTrace::new().on_wrote_headers(|| panic!("boom in a hook")),
    );
    let res = client.request(req).await.expect("the request carries on");
    assert_eq!(read_body(res.into_body()).await, "ok");

    let events = recorder.0.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert!(e.contains(&"level=ERROR".to_owned()), "{e:?}");
    assert!(e.contains(&"hook=WroteHeaders".to_owned()), "{e:?}");
    assert!(e.contains(&"panic=boom in a hook".to_owned()), "{e:?}");

    // The connection carries on too, and other requests hear nothing of it.
    let first = log.take();
    assert_eq!(
        names(&first).last().unwrap(),
        "PutIdleConn",
        "the layer's trace saw it all"
    );
    let res = client
        .request(get(&server.url("127.0.0.1", "/")))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    assert!(got_conn(&log.take()).reused);
    assert_eq!(recorder.0.lock().unwrap().len(), 1);
}
