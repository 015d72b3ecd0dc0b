//! The `tracing` adapter against a real server: each hook is one event, target `httptrace`,
//! in the span the request was sent from, with the documented fields and levels, and the
//! values of sensitive headers redacted unless the user opts in.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use httptrace_tower::TracingEvents;
use support::*;
use tower::{Layer, ServiceExt};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Instrument, Level, Metadata, Subscriber};

/// One event as the collector saw it.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    level: Level,
    parent: Option<String>,
    fields: BTreeMap<String, String>,
}

impl Seen {
    fn hook(&self) -> &str {
        &self.fields["hook"]
    }
}

/// A subscriber that keeps every event, with its explicit parent span's name, and tracks
/// the span entered (one thread: the tests run on tokio's current-thread runtime).
#[derive(Default, Clone)]
struct Collector {
    spans: Arc<Mutex<Vec<&'static Metadata<'static>>>>,
    entered: Arc<Mutex<Vec<Id>>>,
    events: Arc<Mutex<Vec<Seen>>>,
    /// Handles alive per span id, and the names of the spans closed (no handle left).
    handles: Arc<Mutex<BTreeMap<u64, usize>>>,
    closed: Arc<Mutex<Vec<&'static str>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Collector {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let mut spans = self.spans.lock().unwrap();
        spans.push(attrs.metadata());
        self.handles.lock().unwrap().insert(spans.len() as u64, 1);
        Id::from_u64(spans.len() as u64)
    }
    fn clone_span(&self, id: &Id) -> Id {
        *self
            .handles
            .lock()
            .unwrap()
            .get_mut(&id.into_u64())
            .unwrap() += 1;
        id.clone()
    }
    fn try_close(&self, id: Id) -> bool {
        let mut handles = self.handles.lock().unwrap();
        let left = handles.get_mut(&id.into_u64()).unwrap();
        *left -= 1;
        if *left == 0 {
            let name = self.spans.lock().unwrap()[id.into_u64() as usize - 1].name();
            self.closed.lock().unwrap().push(name);
        }
        *left == 0
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let parent = event.parent().map(|id| {
            self.spans.lock().unwrap()[id.into_u64() as usize - 1]
                .name()
                .to_owned()
        });
        self.events.lock().unwrap().push(Seen {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            parent,
            fields,
        });
    }
    fn enter(&self, id: &Id) {
        self.entered.lock().unwrap().push(id.clone());
    }
    fn exit(&self, _: &Id) {
        self.entered.lock().unwrap().pop();
    }
    fn current_span(&self) -> tracing_core::span::Current {
        match self.entered.lock().unwrap().last() {
            Some(id) => {
                let meta = self.spans.lock().unwrap()[id.into_u64() as usize - 1];
                tracing_core::span::Current::new(id.clone(), meta)
            }
            None => tracing_core::span::Current::none(),
        }
    }
}

fn request_with_secrets(url: &str) -> http::Request<Full<Bytes>> {
    http::Request::get(url)
        .header("authorization", "Bearer s3cret-token")
        .header("cookie", "session=s3cret-cookie")
        .header("x-visible", "plain")
        .body(Full::default())
        .unwrap()
}

/// Sends one request from inside span `upstream`, with `events`' layer; what was recorded.
async fn send(events: TracingEvents, url: &str) -> (Vec<Seen>, Result<(), String>) {
    let collector = Collector::default();
    let _default = tracing::subscriber::set_default(collector.clone());
    let client = events.layer().layer(pool());
    let span = tracing::info_span!("upstream");
    // A clone is sent: the client and its pool outlive the response, which goes back to it.
    let fut = client
        .clone()
        .oneshot(request_with_secrets(url))
        .instrument(span);
    let result = match within("the request", fut).await {
        Ok(res) => {
            read_body(res.into_body()).await;
            Ok(())
        }
        Err(err) => Err(err.to_string()),
    };
    drop(client);
    let seen = collector.events.lock().unwrap().clone();
    let ours = seen
        .into_iter()
        .filter(|e| e.target == "httptrace")
        .collect();
    (ours, result)
}

/// Each `WroteHeaderField` event's `name` and `value`.
fn header_fields(seen: &[Seen]) -> BTreeMap<String, String> {
    seen.iter()
        .filter(|e| e.hook() == "WroteHeaderField")
        .map(|e| (e.fields["name"].clone(), e.fields["value"].clone()))
        .collect()
}

fn field(seen: &[Seen], hook: &str, name: &str) -> String {
    seen.iter()
        .find(|e| e.hook() == hook)
        .and_then(|e| e.fields.get(name).cloned())
        .unwrap_or_else(|| panic!("no {name} on {hook}"))
}

#[tokio::test]
async fn every_hook_is_an_event_in_the_senders_span_with_secrets_redacted() {
    let server = TestServer::start().await;
    let (seen, result) = send(TracingEvents::new(), &server.url("127.0.0.1", "/")).await;
    result.unwrap();

    let hooks: Vec<&str> = seen
        .iter()
        .map(Seen::hook)
        .filter(|h| *h != "WroteHeaderField")
        .collect();
    assert_eq!(hooks, FRESH_HTTP1_GET);
    for e in &seen {
        assert_eq!(e.parent.as_deref(), Some("upstream"), "{e:?}");
        assert_eq!(e.fields["message"], e.hook(), "{e:?}");
        let expected = if e.hook() == "WroteHeaderField" {
            Level::TRACE
        } else {
            Level::DEBUG
        };
        assert_eq!(e.level, expected, "{e:?}");
    }
    // The fields bear the OpenTelemetry attribute names of the same facts.
    let port = server.port().to_string();
    assert_eq!(field(&seen, "GetConn", "server.address"), "127.0.0.1");
    assert_eq!(field(&seen, "GetConn", "server.port"), port);
    assert_eq!(field(&seen, "GotConn", "reused"), "false");
    assert_eq!(field(&seen, "GotConn", "network.peer.address"), "127.0.0.1");
    assert_eq!(field(&seen, "GotConn", "network.peer.port"), port);
    assert_eq!(
        field(&seen, "ResponseBodyDone", "http.response.body.size"),
        "2"
    );
    assert_eq!(field(&seen, "ConnectDone", "network.transport"), "tcp");
    assert_eq!(field(&seen, "ConnectDone", "network.peer.port"), port);

    let headers = header_fields(&seen);
    assert_eq!(headers["authorization"], "[redacted]");
    assert_eq!(headers["cookie"], "[redacted]");
    assert_eq!(headers["x-visible"], "plain");
    let everything = format!("{seen:?}");
    assert!(
        !everything.contains("s3cret"),
        "a secret leaked: {everything}"
    );
}

#[tokio::test]
async fn secrets_are_recorded_only_when_the_user_opts_in_and_more_can_be_hidden() {
    let server = TestServer::start().await;
    let events = TracingEvents::new()
        .reveal_secrets()
        .redact_header("X-Visible");
    let (seen, result) = send(events, &server.url("127.0.0.1", "/")).await;
    result.unwrap();
    let headers = header_fields(&seen);
    assert_eq!(headers["authorization"], "Bearer s3cret-token");
    assert_eq!(headers["x-visible"], "[redacted]");
}

#[tokio::test]
async fn a_failed_attempt_is_a_warning_with_its_error() {
    let port = refused_port().await;
    let (seen, result) = send(TracingEvents::new(), &format!("http://127.0.0.1:{port}/")).await;
    assert!(result.is_err());
    let done = seen
        .iter()
        .find(|e| e.hook() == "ConnectDone")
        .expect("a ConnectDone event");
    assert_eq!(done.level, Level::WARN);
    assert!(
        done.fields["error.message"]
            .to_lowercase()
            .contains("refused"),
        "{done:?}"
    );
}

#[tokio::test]
async fn prior_knowledge_http2_over_a_connector_told_http2_only_by_alpn_is_warned_of() {
    let server = TestServer::start().await;
    let collector = Collector::default();
    let _default = tracing::subscriber::set_default(collector.clone());
    let warnings = || {
        let seen = collector.events.lock().unwrap().clone();
        seen.into_iter()
            .filter(|e| e.target == "httptrace" && e.level == Level::WARN)
            .map(|e| e.fields["message"].clone())
            .collect::<Vec<_>>()
    };
    // Told nothing, the connector puts the handle on every connection: the streams' hooks
    // fire. Told `http2_only_by_alpn` under an `http2_only` client, it cannot: it says so,
    // once, since the hooks' silence would not.
    for (told, got_conn) in [(false, true), (true, false)] {
        let connector = httptrace_tower::TraceConnector::new(dialer(TestResolver::new()));
        let connector = if told {
            connector.http2_only_by_alpn()
        } else {
            connector
        };
        let log = httptrace::EventLog::new();
        let client = httptrace_tower::HttpTrace::new(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .http2_only(true)
                .build(connector),
            log.trace(),
        );
        let res = within(
            "the request",
            client.request(get(&server.url("127.0.0.1", "/"))),
        )
        .await
        .unwrap();
        assert_eq!(res.version(), http::Version::HTTP_2);
        read_body(res.into_body()).await;
        assert_eq!(
            log.names().contains(&"GotConn"),
            got_conn,
            "{:?}",
            log.names()
        );
        let warned = warnings();
        assert_eq!(warned.len(), usize::from(told), "{warned:?}");
    }
    assert!(warnings()[0].contains("http2_only_by_alpn"));
}

#[tokio::test]
async fn the_requests_span_closes_at_its_bodys_end_while_its_connection_stays_pooled() {
    let server = TestServer::start().await;
    let collector = Collector::default();
    let _default = tracing::subscriber::set_default(collector.clone());
    for http2 in [false, true] {
        let client = TracingEvents::new().layer().layer(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .http2_only(http2)
                .build(httptrace_tower::TraceConnector::new(dialer(
                    TestResolver::new(),
                ))),
        );
        let span = tracing::info_span!("upstream");
        let res = within(
            "the request",
            client
                .clone()
                .oneshot(request_with_secrets(&server.url("127.0.0.1", "/")))
                .instrument(span),
        )
        .await
        .unwrap();
        assert_eq!(res.version() == http::Version::HTTP_2, http2);
        read_body(res.into_body()).await;
        let closed = |name: &str| collector.closed.lock().unwrap().contains(&name);
        let hooks = |c: &Collector| -> Vec<String> {
            let events = c.events.lock().unwrap();
            let ours = events.iter().filter(|e| e.target == "httptrace");
            ours.map(|e| e.hook().to_owned()).collect()
        };
        eventually("the request's span to close", || closed("upstream")).await;
        // Meanwhile the connection stayed in the pool: the next request reuses it.
        let res = within(
            "the second request",
            client
                .clone()
                .oneshot(request_with_secrets(&server.url("127.0.0.1", "/"))),
        )
        .await
        .unwrap();
        read_body(res.into_body()).await;
        let got_conns: Vec<String> = collector
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.target == "httptrace" && e.hook() == "GotConn")
            .map(|e| e.fields["reused"].clone())
            .collect();
        assert_eq!(got_conns, ["false", "true"], "http2 {http2}");
        assert!(!hooks(&collector).contains(&"ConnClosed".to_owned()));
        // The close, when it comes, is an event of its own.
        drop(client);
        eventually("the connection's close", || {
            hooks(&collector).contains(&"ConnClosed".to_owned())
        })
        .await;
        let events = std::mem::take(&mut *collector.events.lock().unwrap());
        let close = events
            .iter()
            .find(|e| e.target == "httptrace" && e.hook() == "ConnClosed")
            .unwrap();
        assert_eq!(close.parent, None, "http2 {http2}");
        assert_eq!(close.fields["reason"], "pool shutdown");
        collector.closed.lock().unwrap().clear();
    }
}

#[tokio::test]
async fn no_secret_is_recorded_from_a_signed_url_with_credentials_over_http1_and_http2() {
    let server = secret_server().await;
    for http2 in [false, true] {
        let collector = Collector::default();
        let _default = tracing::subscriber::set_default(collector.clone());
        let events = TracingEvents::new();
        let client = tower::ServiceBuilder::new()
            .layer(httptrace_tower::CallTraceLayer::new(events.trace()))
            .layer(events.layer())
            .service(
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .http2_only(http2)
                    .build(httptrace_tower::TraceConnector::new(dialer(
                        TestResolver::new(),
                    ))),
            );
        let mut req = secret_request(&secret_url(&server));
        if http2 {
            *req.version_mut() = http::Version::HTTP_2;
        }
        let res = within("the request", client.oneshot(req)).await.unwrap();
        read_body(res.into_body()).await;
        let seen: Vec<Seen> = collector
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.target == "httptrace")
            .cloned()
            .collect();
        assert_no_secret("TracingEvents", &format!("{seen:?}"));
        let uri = field(&seen, "CallStart", "url.full");
        assert!(uri.contains("REDACTED:REDACTED@"), "{uri}");
        assert!(uri.contains("AWSAccessKeyId=REDACTED"), "{uri}");
        let headers = header_fields(&seen);
        assert_eq!(headers["cookie"], "[redacted]", "any case");
        if http2 {
            assert!(
                headers[":path"].contains("x-goog-signature=REDACTED"),
                "{headers:?}"
            );
        }
    }
}

#[tokio::test]
async fn http2_streams_their_resets_and_the_goaway_are_events_with_their_fields() {
    use support::h2_raw::{raw_h2_server, Act, Heard, GOAWAY_DEBUG};
    let mut server = raw_h2_server(|_, stream| match stream {
        0 => Act::Hold,
        _ => Act::GoawayCuttingAllButFirst,
    })
    .await;
    let collector = Collector::default();
    let _default = tracing::subscriber::set_default(collector.clone());
    let client = std::sync::Arc::new(
        TracingEvents::new().layer().layer(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .http2_only(true)
                .build(httptrace_tower::TraceConnector::new(dialer(
                    TestResolver::new(),
                ))),
        ),
    );
    let url = format!("http://{}/", server.addr);
    let h2_get = || {
        let mut req = get(&url);
        *req.version_mut() = http::Version::HTTP_2;
        req
    };
    let held = {
        let (client, req) = (client.clone(), h2_get());
        tokio::spawn(async move { client.as_ref().clone().oneshot(req).await.is_ok() })
    };
    assert_eq!(
        within("stream 1", server.heard.recv()).await,
        Some(Heard::Held(1))
    );
    let cut = within("stream 3", client.as_ref().clone().oneshot(h2_get())).await;
    assert!(cut.is_err());
    server.release();
    assert!(within("stream 1", held).await.unwrap());

    let seen: Vec<Seen> = collector.events.lock().unwrap().clone();
    let seen: Vec<Seen> = seen
        .into_iter()
        .filter(|e| e.target == "httptrace")
        .collect();
    let opened: Vec<_> = seen
        .iter()
        .filter(|e| e.hook() == "Http2StreamOpened")
        .collect();
    assert_eq!(opened.len(), 2, "{seen:?}");
    assert!(opened.iter().all(|e| e.level == Level::DEBUG
        && e.fields.contains_key("waited_us")
        && e.fields.contains_key("max_concurrent_streams")));
    let reset = seen
        .iter()
        .find(|e| e.hook() == "Http2StreamReset")
        .unwrap();
    assert_eq!(reset.level, Level::WARN);
    assert_eq!(reset.fields["error.message"], "GOAWAY NO_ERROR from server");
    assert_eq!(
        (
            reset.fields["code"].as_str(),
            reset.fields["sender"].as_str(),
            reset.fields["frame"].as_str()
        ),
        ("NO_ERROR", "server", "GOAWAY")
    );
    let goaway = seen.iter().find(|e| e.hook() == "Http2GoAway").unwrap();
    assert_eq!(goaway.level, Level::DEBUG, "a graceful GOAWAY");
    assert_eq!(goaway.parent, None, "the connection's, like its close");
    assert_eq!(goaway.fields["last_stream_id"], "1");
    assert_eq!(goaway.fields["code"], "NO_ERROR");
    assert_eq!(goaway.fields["debug_data"].as_bytes(), GOAWAY_DEBUG);
    assert_eq!(
        (
            goaway.fields["cut_count"].as_str(),
            goaway.fields["cut_streams"].as_str()
        ),
        ("1", "3")
    );
}
