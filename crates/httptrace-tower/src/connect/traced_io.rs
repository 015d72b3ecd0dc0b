//! [`TracedIo`]: the connection's bytes, watched for the hooks of the request it carries.

use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use hyper_util::client::legacy::connect::{Connected, Connection};
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::closing::Closing;
use super::protocol::Wire;
use crate::state::connection::ConnShared;
use crate::state::handle::ConnectionHandle;
use crate::state::serving;
use crate::wire::http2_frames::Http2Frames;

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
}
