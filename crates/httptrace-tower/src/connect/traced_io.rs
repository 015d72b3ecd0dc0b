//! [`TracedIo`]: the connection's bytes, watched for the hooks of the request it carries.

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use hyper_util::client::legacy::connect::{Connected, Connection};
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::closing::Closing;
use super::http1_tracker::Http1Tracker;
use crate::state::connection::ConnShared;
use crate::state::handle::ConnectionHandle;
use crate::state::handoff;
use crate::state::serving;
use crate::wire::http2_frames::Http2Frames;
use crate::wire::http2_streams::Direction;

/// The HTTP/2 client preface; a connection whose first bytes are these speaks HTTP/2.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// What the connection speaks, once known.
enum Wire {
    /// Nothing written yet (an HTTP/1 client writes nothing before its first request).
    Unknown,
    Http1(Http1Tracker),
    Http2(Http2Frames),
}

pin_project! {
    /// An I/O stream (tokio's traits) that reports what it carries to the request it carries.
    ///
    /// Every read and write method of the inner stream is forwarded, the vectored ones
    /// included; nothing is buffered, added or changed.
    pub struct TracedIo<T> {
        #[pin]
        inner: T,
        shared: Arc<ConnShared>,
        wire: Wire,
        closing: Option<Closing>,
        // Whether `connected()` carries the connection's handle (see
        // `TraceConnector::http2_only_by_alpn`).
        handle_in_connected: bool,
        // Until its first read, each write says the connection is being made in this poll
        // (`state/serving.rs`): hyper's HTTP/2 handshake writes the preface, then hyper and
        // hyper-util spawn the connection's tasks.
        announcing: bool,
    }
}

/// What a [`TracedIo`] knows of its connection from the start.
pub(crate) struct Negotiated {
    /// ALPN chose HTTP/2.
    pub(crate) http2: bool,
    /// Every `Connected` carries the connection's handle, not only HTTP/2's (the
    /// connector was not told `http2_only_by_alpn`).
    pub(crate) handle_everywhere: bool,
}

impl<T> TracedIo<T> {
    /// Watches `inner`; its `Connected` carries the handle if ALPN chose HTTP/2, or if
    /// the handle goes everywhere.
    pub(crate) fn new(inner: T, shared: Arc<ConnShared>, negotiated: Negotiated) -> Self {
        let Negotiated {
            http2: negotiated_h2,
            handle_everywhere,
        } = negotiated;
        let wire = if negotiated_h2 {
            shared.speaks_http2();
            Wire::Http2(Http2Frames::from_preface())
        } else {
            Wire::Unknown
        };
        let closing = (shared.reports_close() || shared.stats.is_some()).then(|| Closing {
            shared: Some(shared.clone()),
            read_eof: false,
            error: None,
        });
        serving::made(&shared);
        TracedIo {
            inner,
            shared,
            wire,
            closing,
            handle_in_connected: negotiated_h2 || handle_everywhere,
            announcing: true,
        }
    }

    /// The connection's identity and counters.
    pub fn handle(&self) -> ConnectionHandle {
        ConnectionHandle {
            shared: self.shared.clone(),
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped stream; bytes moved through it directly are not traced.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the stream; its close is then not reported.
    pub fn into_inner(mut self) -> T {
        if let Some(closing) = self.closing.as_mut() {
            if closing.shared.take().is_some() {
                self.shared.released();
            }
        }
        self.inner
    }
}

impl Wire {
    /// Before `first()` is written (the first non-empty slice, found only if the protocol is
    /// not known yet); `handle_in_connected` says whether the connection's `Connected`
    /// carries its handle.
    #[inline]
    fn before_write<'a>(
        &mut self,
        shared: &Arc<ConnShared>,
        handle_in_connected: bool,
        first: impl FnOnce() -> &'a [u8],
    ) {
        match self {
            // An HTTP/1 connection's every write: no other branch on the way.
            Wire::Http1(h1) => h1.before_write(shared),
            _ => self.before_other_write(shared, handle_in_connected, first()),
        }
    }

    /// [`before_write`](Self::before_write) on a connection not (yet) known to speak HTTP/1.
    fn before_other_write(
        &mut self,
        shared: &Arc<ConnShared>,
        handle_in_connected: bool,
        first: &[u8],
    ) {
        if matches!(self, Wire::Unknown) && !first.is_empty() {
            let n = first.len().min(H2_PREFACE.len());
            *self = if first[..n] == H2_PREFACE[..n] {
                if !handle_in_connected {
                    warn_prior_knowledge_without_handle();
                }
                shared.speaks_http2();
                Wire::Http2(Http2Frames::from_preface())
            } else {
                serving::speaks_http1(shared);
                Wire::Http1(Http1Tracker::new())
            };
        }
        match self {
            Wire::Http1(h1) => h1.before_write(shared),
            // Requests on HTTP/2 are traced from the layer (`h2_stream.rs`).
            Wire::Http2(_) => handoff::discard_offered(),
            Wire::Unknown => {}
        }
    }

    fn after_write<'a>(
        &mut self,
        shared: &ConnShared,
        slices: impl IntoIterator<Item = &'a [u8]>,
        mut n: usize,
    ) {
        match self {
            Wire::Http1(h1) => h1.after_write(slices, n),
            Wire::Http2(h2) => {
                for slice in slices {
                    if n == 0 {
                        break;
                    }
                    let part = &slice[..slice.len().min(n)];
                    n -= part.len();
                    feed_h2(h2, shared, Direction::Sent, part);
                }
            }
            Wire::Unknown => {}
        }
    }

    #[inline]
    fn after_read(&mut self, shared: &ConnShared, bytes: &[u8]) {
        match self {
            Wire::Http1(h1) => h1.after_read(bytes),
            Wire::Http2(h2) => feed_h2(h2, shared, Direction::Received, bytes),
            Wire::Unknown => {}
        }
    }

    #[inline]
    fn after_flush(&mut self) {
        if let Wire::Http1(h1) = self {
            h1.after_flush();
        }
    }

    fn write_failed(&mut self, err: &std::io::Error) {
        if let Wire::Http1(h1) = self {
            h1.write_failed(err);
        }
    }
}

/// HTTP/2 by prior knowledge on a connection whose connector was told
/// `http2_only_by_alpn`: the layer cannot find its streams' connection. Said once per
/// process, as a `tracing` warning (feature `tracing`), since the hooks' silence would not.
fn warn_prior_knowledge_without_handle() {
    #[cfg(feature = "tracing")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            tracing::warn!(
                target: "httptrace",
                "a TraceConnector told http2_only_by_alpn carries HTTP/2 by prior knowledge \
                 (a client built with http2_only): unless the client spawns through a \
                 TraceExecutor, its streams' GotConn, WroteHeaderField, WroteHeaders and \
                 WroteRequest do not fire; do not tell it http2_only_by_alpn"
            );
        });
    }
}

fn feed_h2(h2: &mut Http2Frames, shared: &ConnShared, direction: Direction, bytes: &[u8]) {
    let changes = h2.feed(direction, bytes, || shared.stream_opened());
    if changes.opened > 0 || changes.closed > 0 {
        shared.set_oldest_open(h2.oldest_open());
        shared.count_streams(h2.open_streams());
    }
    if let Some(max) = changes.max_concurrent_streams {
        shared.set_peer_max_streams(max);
    }
    if let Some(goaway) = changes.goaway {
        shared.goaway_received(goaway);
    }
}

impl<T: AsyncRead> AsyncRead for TracedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.project();
        if this.shared.vetoed() {
            return Poll::Ready(Ok(())); // end of stream: hyper closes the connection
        }
        // Without slicing the filled part: this runs for every read, most of which wait.
        let room = buf.remaining();
        let before = buf.capacity() - room;
        if let Err(err) = ready!(this.inner.poll_read(cx, buf)) {
            if let Some(closing) = this.closing {
                closing.failed(&err);
            }
            return Poll::Ready(Err(err));
        }
        let read = &buf.filled()[before..];
        if !read.is_empty() {
            *this.announcing = false;
        }
        if let Some(closing) = this
            .closing
            .as_mut()
            .filter(|_| read.is_empty() && room > 0)
        {
            closing.read_eof = true;
        }
        this.wire.after_read(this.shared, read);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite> AsyncWrite for TracedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.project();
        this.wire
            .before_write(this.shared, *this.handle_in_connected, || buf);
        if *this.announcing {
            serving::made(this.shared);
        }
        match ready!(this.inner.poll_write(cx, buf)) {
            Ok(n) => {
                this.wire.after_write(this.shared, [buf], n);
                Poll::Ready(Ok(n))
            }
            Err(err) => {
                this.wire.write_failed(&err);
                if let Some(closing) = this.closing {
                    closing.failed(&err);
                }
                Poll::Ready(Err(err))
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.project();
        let first = || {
            bufs.iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &b[..])
        };
        this.wire
            .before_write(this.shared, *this.handle_in_connected, first);
        if *this.announcing {
            serving::made(this.shared);
        }
        match ready!(this.inner.poll_write_vectored(cx, bufs)) {
            Ok(n) => {
                this.wire
                    .after_write(this.shared, bufs.iter().map(|b| &b[..]), n);
                Poll::Ready(Ok(n))
            }
            Err(err) => {
                this.wire.write_failed(&err);
                if let Some(closing) = this.closing {
                    closing.failed(&err);
                }
                Poll::Ready(Err(err))
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.project();
        if *this.announcing {
            serving::made(this.shared);
        }
        match ready!(this.inner.poll_flush(cx)) {
            Ok(()) => {
                this.wire.after_flush();
                Poll::Ready(Ok(()))
            }
            Err(err) => {
                this.wire.write_failed(&err);
                if let Some(closing) = this.closing {
                    closing.failed(&err);
                }
                Poll::Ready(Err(err))
            }
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

impl<T: Connection> Connection for TracedIo<T> {
    fn connected(&self) -> Connected {
        let connected = self.inner.connected();
        if self.handle_in_connected {
            connected.extra(self.handle())
        } else {
            connected
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::sync::atomic::Ordering;

    use std::time::Instant;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;
    use crate::state::connection::tests::watched;

    /// Not HTTP/2 by ALPN; the handle in every `Connected` (the connector's default).
    fn plain() -> Negotiated {
        Negotiated {
            http2: false,
            handle_everywhere: true,
        }
    }

    async fn tcp_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        (client.unwrap(), accepted.unwrap().0)
    }

    const HEADERS_FRAME: u8 = 0x1;

    /// An HTTP/2 frame with a 5-byte payload.
    fn frame(kind: u8, flags: u8, stream: u32) -> Vec<u8> {
        crate::wire::http2_frames::tests::frame(kind, flags, stream, b"hpack")
    }

    /// Once the server's end of stream was read, a write that fails on the closed socket
    /// does not turn the close into an error.
    #[tokio::test]
    async fn a_write_failing_after_the_servers_end_leaves_it_a_server_close() {
        let (conn, reasons, _connector) = watched();
        let (client, server) = tcp_pair().await;
        let mut io = TracedIo::new(client, conn, plain());
        drop(server);
        assert_eq!(io.read(&mut [0; 16]).await.unwrap(), 0);
        let mut failed = false;
        for _ in 0..64 {
            if io.write_all(b"GET / HTTP/1.1\r\n\r\n").await.is_err() {
                failed = true;
                break;
            }
            io.flush().await.ok();
        }
        assert!(failed, "writing to a reset socket fails");
        drop(io);
        assert_eq!(*reasons.lock().unwrap(), ["server closed"]);
    }

    /// A read into a full buffer reads nothing; that is not the server's end of stream.
    #[tokio::test]
    async fn a_read_with_no_room_is_not_the_servers_end() {
        let (conn, reasons, _connector) = watched();
        let (client, mut server) = tcp_pair().await;
        server.write_all(b"H").await.unwrap();
        client.readable().await.unwrap();
        let mut io = TracedIo::new(client, conn, plain());
        poll_fn(|cx| Pin::new(&mut io).poll_read(cx, &mut ReadBuf::new(&mut [])))
            .await
            .unwrap();
        drop(io);
        assert_eq!(*reasons.lock().unwrap(), ["idle timeout"]);
    }

    /// Vectored writes, `is_write_vectored` and shutdown are the inner stream's.
    #[tokio::test]
    async fn vectored_writes_and_shutdown_are_forwarded() {
        let (conn, _reasons, _connector) = watched();
        let (client, mut server) = tcp_pair().await;
        let mut io = TracedIo::new(client, conn.clone(), plain());
        assert!(format!("{io:?}").starts_with("TracedIo"), "{io:?}");
        assert!(io.is_write_vectored());
        let stderr = TracedIo::new(tokio::io::stderr(), conn, plain());
        assert!(
            !stderr.is_write_vectored(),
            "tokio's stderr is not vectored"
        );

        let bufs = [IoSlice::new(b"GET / HTTP/1.1\r\n"), IoSlice::new(b"\r\n")];
        let n = poll_fn(|cx| Pin::new(&mut io).poll_write_vectored(cx, &bufs))
            .await
            .unwrap();
        assert_eq!(n, 18, "loopback takes both slices at once");
        io.shutdown().await.unwrap();
        assert!(io.write_all(b"x").await.is_err(), "written after shutdown");
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"GET / HTTP/1.1\r\n\r\n");
    }

    /// A vectored write the socket took only part of: the frames of the part not written
    /// are read when it is, once.
    #[test]
    fn a_partial_http2_write_reads_only_what_was_written() {
        let (conn, _reasons, _connector) = watched();
        let mut wire = Wire::Http2(Http2Frames::after_preface());
        let (one, three) = (frame(HEADERS_FRAME, 4, 1), frame(HEADERS_FRAME, 4, 3));
        wire.after_write(&conn, [&one[..], &three[..]], one.len());
        assert_eq!(conn.served.load(Ordering::Relaxed), 1);
        assert!(conn.open_from_before(u64::MAX), "a stream is open");
        wire.after_write(&conn, [&three[..]], three.len());
        assert_eq!(conn.served.load(Ordering::Relaxed), 2);
        let Wire::Http2(h2) = &wire else {
            unreachable!()
        };
        assert_eq!(h2.open_streams(), 2);
    }

    /// A frame that opens or closes no stream (a PING, SETTINGS) leaves an idle
    /// connection's idle time running from its last stream's end.
    #[test]
    fn frames_on_an_idle_http2_connection_leave_its_idle_time_alone() {
        let (conn, _reasons, _connector) = watched();
        let mut wire = Wire::Http2(Http2Frames::after_preface());
        let whole = frame(HEADERS_FRAME, 4 | 1, 1); // END_HEADERS | END_STREAM
        wire.after_write(&conn, [&whole[..]], whole.len());
        wire.after_read(&conn, &whole);
        assert!(!conn.open_from_before(u64::MAX), "its one stream ended");
        let idle = conn.idle_since();
        while Instant::now() <= idle {
            std::hint::spin_loop(); // until an instant after it can be told apart
        }
        let (ping, settings) = (frame(0x6, 0, 0), frame(0x4, 0, 0));
        wire.after_read(&conn, &ping);
        wire.after_read(&conn, &settings);
        assert_eq!(conn.idle_since(), idle);
    }
}
