//! [`TracedIo`]: the connection's bytes, watched for the hooks of the request it carries.

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use hyper_util::client::legacy::connect::{Connected, Connection};
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::conn_state::{ConnShared, ConnectionHandle};
use super::http1_tracker::Http1Tracker;

pin_project! {
    /// An I/O stream (tokio's traits) that reports what it carries to the request it carries.
    ///
    /// Every read and write method of the inner stream is forwarded, the vectored ones
    /// included; nothing is buffered, added or changed.
    pub struct TracedIo<T> {
        #[pin]
        inner: T,
        shared: Arc<ConnShared>,
        tracker: Http1Tracker,
    }
}

impl<T> TracedIo<T> {
    pub(crate) fn new(inner: T, shared: Arc<ConnShared>, negotiated_h2: bool) -> Self {
        TracedIo {
            inner,
            shared,
            tracker: Http1Tracker::new(negotiated_h2),
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

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead> AsyncRead for TracedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        ready!(this.inner.poll_read(cx, buf))?;
        this.tracker.after_read(buf.filled().len() - before);
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
        this.tracker.before_write(this.shared, buf);
        match ready!(this.inner.poll_write(cx, buf)) {
            Ok(n) => {
                this.tracker.after_write([buf], n);
                Poll::Ready(Ok(n))
            }
            Err(err) => {
                this.tracker.write_failed(&err);
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
        this.tracker.before_write(this.shared, first);
        match ready!(this.inner.poll_write_vectored(cx, bufs)) {
            Ok(n) => {
                this.tracker.after_write(bufs.iter().map(|b| &b[..]), n);
                Poll::Ready(Ok(n))
            }
            Err(err) => {
                this.tracker.write_failed(&err);
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
                this.tracker.after_flush();
                Poll::Ready(Ok(()))
            }
            Err(err) => {
                this.tracker.write_failed(&err);
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
        self.inner.connected().extra(self.handle())
    }
}
