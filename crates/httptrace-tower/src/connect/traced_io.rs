//! [`TracedIo`]: the connection's bytes, watched for the hooks of the request it carries.

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use httptrace::TraceError;
use hyper_util::client::legacy::connect::{Connected, Connection};
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::conn_state::{ConnShared, ConnectionHandle};
use super::http1_tracker::Http1Tracker;
use super::http2_frames::{Direction, Http2Frames};
use crate::handoff;

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
    }
}

/// Reports the connection's close (`ConnClosed`) when the I/O is dropped, with what the I/O
/// saw: the server's end of stream, or the first error.
struct Closing {
    shared: Option<Arc<ConnShared>>,
    read_eof: bool,
    error: Option<TraceError>,
}

impl Closing {
    fn failed(&mut self, err: &std::io::Error) {
        if self.error.is_none() && !self.read_eof {
            self.error = Some(TraceError::describe(err));
        }
    }
}

impl Drop for Closing {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.closed(self.read_eof, self.error.take());
        }
    }
}

impl<T> TracedIo<T> {
    /// Watches `inner`; its `Connected` carries the handle if `negotiated_h2`, or if
    /// `handle_everywhere`.
    pub(crate) fn new(
        inner: T,
        shared: Arc<ConnShared>,
        negotiated_h2: bool,
        handle_everywhere: bool,
    ) -> Self {
        let wire = if negotiated_h2 {
            shared.http2.store(true, Ordering::Relaxed);
            Wire::Http2(Http2Frames::new(false))
        } else {
            Wire::Unknown
        };
        let closing = shared.reports_close().then(|| Closing {
            shared: Some(shared.clone()),
            read_eof: false,
            error: None,
        });
        TracedIo {
            inner,
            shared,
            wire,
            closing,
            handle_in_connected: negotiated_h2 || handle_everywhere,
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
            closing.shared = None;
        }
        self.inner
    }
}

impl Wire {
    /// Before `first` is written (the first non-empty slice); `handle_in_connected` says
    /// whether the connection's `Connected` carries its handle.
    fn before_write(&mut self, shared: &Arc<ConnShared>, handle_in_connected: bool, first: &[u8]) {
        if matches!(self, Wire::Unknown) && !first.is_empty() {
            let n = first.len().min(H2_PREFACE.len());
            *self = if first[..n] == H2_PREFACE[..n] {
                if !handle_in_connected {
                    warn_prior_knowledge_without_handle();
                }
                shared.http2.store(true, Ordering::Relaxed);
                Wire::Http2(Http2Frames::new(false))
            } else {
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

    fn after_read(&mut self, shared: &ConnShared, bytes: &[u8]) {
        match self {
            Wire::Http1(h1) => h1.after_read(bytes),
            Wire::Http2(h2) => feed_h2(h2, shared, Direction::Received, bytes),
            Wire::Unknown => {}
        }
    }

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
                 (a client built with http2_only): its streams' GotConn, WroteHeaderField, \
                 WroteHeaders and WroteRequest do not fire; do not tell it http2_only_by_alpn"
            );
        });
    }
}

fn feed_h2(h2: &mut Http2Frames, shared: &ConnShared, direction: Direction, bytes: &[u8]) {
    let changes = h2.feed(direction, bytes, || shared.stream_opened());
    if changes.opened > 0 || changes.closed > 0 {
        shared.set_oldest_open(h2.oldest_open());
    }
    if changes.goaway {
        shared.goaway_received();
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
        let before = buf.filled().len();
        let room = buf.remaining() > 0;
        if let Err(err) = ready!(this.inner.poll_read(cx, buf)) {
            if let Some(closing) = this.closing {
                closing.failed(&err);
            }
            return Poll::Ready(Err(err));
        }
        let read = &buf.filled()[before..];
        if let Some(closing) = this.closing.as_mut().filter(|_| read.is_empty() && room) {
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
            .before_write(this.shared, *this.handle_in_connected, buf);
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
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        this.wire
            .before_write(this.shared, *this.handle_in_connected, first);
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
