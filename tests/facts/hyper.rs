//! The facts of hyper and hyper-util 1.x that the attribution relies on (ARCHITECTURE.md,
//! "What we rely on"), each pinned on its own so that an upgrade that changes one fails here,
//! by name, before it shows up as a wrong event somewhere else.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use support::*;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

type Journal = Arc<Mutex<Vec<(Option<tokio::task::Id>, String)>>>;

fn note(journal: &Journal, what: String) {
    journal.lock().unwrap().push((tokio::task::try_id(), what));
}

/// A request body that notes (with the task) each time it is asked whether it has ended.
struct AskedBody {
    inner: Full<Bytes>,
    journal: Journal,
}

impl http_body::Body for AskedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        note(&self.journal, "asked is_end_stream".into());
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

/// A TCP stream that notes every write and flush, with the bytes written.
struct JournalStream {
    inner: tokio::net::TcpStream,
    journal: Journal,
}

impl AsyncRead for JournalStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for JournalStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            note(
                &self.journal,
                format!("write {}", String::from_utf8_lossy(&buf[..*n])),
            );
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        note(&self.journal, "flush".into());
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A hyper HTTP/1 connection to `server` over a stream that notes its I/O in `journal`.
async fn journaled_connection<B>(
    server: &TestServer,
    journal: &Journal,
) -> (
    hyper::client::conn::http1::SendRequest<B>,
    tokio::task::JoinHandle<hyper::Result<()>>,
)
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let io = TokioIo::new(JournalStream {
        inner: stream,
        journal: journal.clone(),
    });
    let (sender, conn) = hyper::client::conn::http1::handshake::<_, B>(io)
        .await
        .unwrap();
    (sender, tokio::spawn(conn))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_asks_the_request_body_if_it_ended_in_the_connection_task_just_before_writing_the_head(
) {
    for body in [&b""[..], b"hello"] {
        let server = TestServer::start().await;
        let journal = Journal::default();
        let (mut sender, conn_task) = journaled_connection::<AskedBody>(&server, &journal).await;

        let req = http::Request::post("/")
            .header("host", "x")
            .body(AskedBody {
                inner: Full::new(Bytes::from_static(body)),
                journal: journal.clone(),
            })
            .unwrap();
        let res = sender.send_request(req).await.unwrap();
        read_body(res.into_body()).await;

        let entries = journal.lock().unwrap().clone();
        let asked_at = entries
            .iter()
            .position(|(_, w)| w == "asked is_end_stream")
            .expect("asked");
        let (asked_task, _) = &entries[asked_at];
        assert!(asked_task.is_some(), "asked inside a tokio task");
        assert_ne!(
            *asked_task,
            tokio::task::try_id(),
            "not in the task that sent the request"
        );
        // The next thing that task does with the I/O is to write the head (it may ask again
        // first, for a body with data, before it streams it).
        let write_at = entries
            .iter()
            .position(|(_, w)| w.starts_with("write"))
            .expect("written");
        assert!(
            entries[asked_at..write_at]
                .iter()
                .all(|(task, w)| task == asked_task && w == "asked is_end_stream"),
            "{:?}",
            &entries[..=write_at]
        );
        let (write_task, first_write) = &entries[write_at];
        assert_eq!(
            write_task, asked_task,
            "the head is written by the task that asked"
        );
        assert!(
            first_write.starts_with("write POST / HTTP/1.1\r\n"),
            "{first_write:?}"
        );
        assert!(
            entries[..asked_at]
                .iter()
                .all(|(_, w)| !w.starts_with("write")),
            "nothing written before"
        );
        conn_task.abort();
    }
}

#[tokio::test]
async fn hyper_flushes_the_io_only_after_writing_everything_it_buffered() {
    let server = TestServer::start().await;
    let journal = Journal::default();
    // Its task runs until the test ends.
    let (mut sender, _conn_task) = journaled_connection::<Full<Bytes>>(&server, &journal).await;
    let req = http::Request::post("/")
        .header("host", "x")
        .body(Full::new(Bytes::from_static(b"hello")))
        .unwrap();
    read_body(sender.send_request(req).await.unwrap().into_body()).await;

    let entries: Vec<String> = journal
        .lock()
        .unwrap()
        .iter()
        .map(|(_, w)| w.clone())
        .collect();
    let first_flush = entries.iter().position(|w| w == "flush").expect("a flush");
    let written: String = entries[..first_flush]
        .iter()
        .map(|w| w.trim_start_matches("write "))
        .collect();
    assert!(
        written.ends_with("\r\n\r\nhello"),
        "the whole request before the first flush: {written:?}"
    );
}

#[tokio::test]
async fn hyper_util_calls_the_connector_inside_the_requests_own_poll() {
    use httptrace::{current_trace, ClientTrace};
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::client::legacy::Client;
    use tower::service_fn;

    let server = TestServer::start().await;
    let saw_trace = Arc::new(Mutex::new(None));
    let seen = saw_trace.clone();
    let connector = service_fn(move |uri: http::Uri| {
        *seen.lock().unwrap() = Some(current_trace().is_some());
        let mut http = HttpConnector::new();
        tower::Service::call(&mut http, uri)
    });
    let client: Client<_, Full<Bytes>> =
        Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    let trace = ClientTrace::new().on_wrote_headers(|| {});
    let res = trace
        .scope(client.request(get(&server.url("127.0.0.1", "/"))))
        .await
        .unwrap();
    read_body(res.into_body()).await;
    assert_eq!(*saw_trace.lock().unwrap(), Some(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_util_names_the_connection_before_the_request_future_first_waits_on_it() {
    use hyper_util::client::legacy::connect::capture_connection;
    use std::future::Future;

    // HTTP/2 by prior knowledge, on a connection opened by a first request.
    let server = TestServer::start().await;
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .http2_only(true)
            .build_http();
    read_body(
        client
            .request(get(&server.url("127.0.0.1", "/")))
            .await
            .unwrap()
            .into_body(),
    )
    .await;

    let mut req = get(&server.url("127.0.0.1", "/slow"));
    let captured = capture_connection(&mut req);
    let mut fut = Box::pin(client.request(req));
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    // The first poll hands the request to the pooled connection and waits for the answer.
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert!(
        captured.connection_metadata().is_some(),
        "named by the poll that handed the request over"
    );
    read_body(fut.await.unwrap().into_body()).await;
}

/// A request body that notes (with the task) each time hyper asks it anything, polls it, or
/// drops it.
struct NotedBody {
    inner: Full<Bytes>,
    name: &'static str,
    journal: Journal,
}

impl http_body::Body for NotedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        note(&this.journal, format!("{} polled", this.name));
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        note(&self.journal, format!("{} asked", self.name));
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        note(&self.journal, format!("{} asked", self.name));
        http_body::Body::size_hint(&self.inner)
    }
}

impl Drop for NotedBody {
    fn drop(&mut self) {
        note(&self.journal, format!("{} dropped", self.name));
    }
}

/// `state/h2_tasks.rs` and `h2_stream.rs`: over HTTP/2, one task per connection (hyper's
/// client task, not the caller's) asks each request body `size_hint` and `is_end_stream`
/// before it opens the stream, then polls the body first (it has data; a task of its own may
/// go on with it) or drops it (it has none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_asks_http2_request_bodies_in_one_task_per_connection_then_polls_or_drops_them() {
    let server = TestServer::start().await;
    let journal: Journal = Arc::default();
    let client: hyper_util::client::legacy::Client<_, NotedBody> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .http2_only(true)
            .build_http();
    let url = server.url("127.0.0.1", "/");
    for (name, data) in [("a", ""), ("b", ""), ("c", "data")] {
        let body = NotedBody {
            inner: Full::new(Bytes::from_static(data.as_bytes())),
            name,
            journal: journal.clone(),
        };
        let method = if data.is_empty() { "GET" } else { "POST" };
        let req = http::Request::builder()
            .method(method)
            .uri(&url)
            .body(body)
            .unwrap();
        let res = within("the request", client.request(req)).await.unwrap();
        read_body(res.into_body()).await;
    }
    let caller = tokio::task::try_id();
    let mut notes = journal.lock().unwrap().clone();
    // What follows a body's first poll or drop is its own business.
    let first_poll = notes.iter().position(|(_, w)| w == "c polled").unwrap();
    notes.truncate(first_poll + 1);
    let tasks: std::collections::HashSet<_> = notes.iter().map(|(task, _)| *task).collect();
    assert_eq!(tasks.len(), 1, "{notes:?}");
    assert!(!tasks.contains(&caller), "not the caller's task");
    let what: Vec<&str> = notes.iter().map(|(_, what)| what.as_str()).collect();
    let first = |w: &str| what.iter().position(|x| *x == w).unwrap_or(usize::MAX);
    for (name, then) in [("a", "dropped"), ("b", "dropped"), ("c", "polled")] {
        assert!(
            first(&format!("{name} asked")) < first(&format!("{name} {then}")),
            "{name}: {what:?}"
        );
    }
}

thread_local! {
    /// The connection whose stream was last made or written on this thread.
    static MADE_HERE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A TCP stream numbered `n`, that says so on its thread when made and at each write.
struct MarkedStream {
    inner: TokioIo<tokio::net::TcpStream>,
    n: usize,
}

impl hyper::rt::Read for MarkedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for MarkedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        MADE_HERE.set(self.n);
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        MADE_HERE.set(self.n);
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl hyper_util::client::legacy::connect::Connection for MarkedStream {
    fn connected(&self) -> hyper_util::client::legacy::connect::Connected {
        hyper_util::client::legacy::connect::Connected::new()
    }
}

/// Spawns on tokio, noting which connection was made or written last on the spawning thread.
#[derive(Clone)]
struct NotingExecutor(Arc<Mutex<Vec<usize>>>);

impl<F> hyper::rt::Executor<F> for NotingExecutor
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        self.0.lock().unwrap().push(MADE_HERE.get());
        tokio::spawn(fut);
    }
}

/// `state/serving.rs` and `TraceExecutor`: hyper-util spawns an HTTP/1 connection's task, and
/// hyper and hyper-util an HTTP/2 connection's tasks (the one driving the socket, the one
/// opening streams), in the poll in which the connector gave the connection (HTTP/2: after
/// writing its preface), on the same thread, before any other connection is made there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_util_spawns_a_connections_tasks_in_the_poll_that_made_it() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    for http2 in [false, true] {
        let servers = [TestServer::start().await, TestServer::start().await];
        let made = Arc::new(AtomicUsize::new(0));
        let connector = tower::service_fn({
            let made = made.clone();
            move |uri: http::Uri| {
                let made = made.clone();
                Box::pin(async move {
                    let addr = format!("{}:{}", uri.host().unwrap(), uri.port_u16().unwrap());
                    let stream = tokio::net::TcpStream::connect(addr).await?;
                    let n = made.fetch_add(1, Ordering::Relaxed) + 1;
                    MADE_HERE.set(n);
                    Ok::<_, std::io::Error>(MarkedStream {
                        inner: TokioIo::new(stream),
                        n,
                    })
                })
            }
        });
        let spawned = NotingExecutor(Arc::default());
        let client = hyper_util::client::legacy::Client::builder(spawned.clone())
            .http2_only(http2)
            .build::<_, Full<Bytes>>(connector);
        for server in &servers {
            let res = client
                .request(get(&server.url("127.0.0.1", "/")))
                .await
                .unwrap();
            read_body(res.into_body()).await;
        }
        let spawned = spawned.0.lock().unwrap().clone();
        for n in [1, 2] {
            let tasks = spawned.iter().filter(|m| **m == n).count();
            let expected = if http2 { 2 } else { 1 };
            assert!(
                tasks >= expected,
                "http2 {http2}: connection {n}'s tasks spawned with it: {spawned:?}"
            );
        }
    }
}
