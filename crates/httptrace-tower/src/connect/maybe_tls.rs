//! [`MaybeTlsStream`]: what [`TraceTlsConnector`](super::TraceTlsConnector) yields: the inner
//! connection as it is for `http://`, wrapped in TLS for `https://`.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use httptrace::TlsConnectionState;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio_rustls::client::TlsStream;

/// A connection that is plain or TLS. Both forward every hyper I/O method.
#[allow(clippy::large_enum_variant)] // One per connection; boxing would cost every read.
pub enum MaybeTlsStream<T> {
    /// `http://`: the inner connection, untouched.
    Plain(T),
    /// `https://`: TLS over the inner connection, with what its handshake negotiated.
    Tls {
        /// The TLS stream (tokio's I/O traits, seen through hyper's).
        stream: TokioIo<TlsStream<TokioIo<T>>>,
        /// What the handshake negotiated (also in the connection's `Connected` extras, and
        /// so in every response's: shared, not copied, since it holds the peer's chain).
        state: Arc<TlsConnectionState>,
    },
}

impl<T> MaybeTlsStream<T> {
    /// The TLS state, for a TLS connection.
    pub fn tls_state(&self) -> Option<&TlsConnectionState> {
        match self {
            MaybeTlsStream::Plain(_) => None,
            MaybeTlsStream::Tls { state, .. } => Some(state),
        }
    }

    /// The inner connection, under TLS or not.
    pub fn get_ref(&self) -> &T {
        match self {
            MaybeTlsStream::Plain(io) => io,
            MaybeTlsStream::Tls { stream, .. } => stream.inner().get_ref().0.inner(),
        }
    }
}

impl<T: Connection> Connection for MaybeTlsStream<T> {
    fn connected(&self) -> Connected {
        match self {
            MaybeTlsStream::Plain(io) => io.connected(),
            MaybeTlsStream::Tls { stream, state } => {
                let connected = stream
                    .inner()
                    .get_ref()
                    .0
                    .inner()
                    .connected()
                    .extra(state.clone());
                if state.alpn_protocol.as_deref() == Some(b"h2") {
                    connected.negotiated_h2()
                } else {
                    connected
                }
            }
        }
    }
}

impl<T: Read + Write + Unpin> Read for MaybeTlsStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(io) => Pin::new(io).poll_read(cx, buf),
            MaybeTlsStream::Tls { stream, .. } => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl<T: Read + Write + Unpin> Write for MaybeTlsStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(io) => Pin::new(io).poll_write(cx, buf),
            MaybeTlsStream::Tls { stream, .. } => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            MaybeTlsStream::Tls { stream, .. } => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTlsStream::Plain(io) => io.is_write_vectored(),
            MaybeTlsStream::Tls { stream, .. } => stream.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(io) => Pin::new(io).poll_flush(cx),
            MaybeTlsStream::Tls { stream, .. } => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            MaybeTlsStream::Plain(io) => Pin::new(io).poll_shutdown(cx),
            MaybeTlsStream::Tls { stream, .. } => Pin::new(stream).poll_shutdown(cx),
        }
    }
}

impl<T> std::fmt::Debug for MaybeTlsStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaybeTlsStream::Plain(_) => f.write_str("MaybeTlsStream::Plain"),
            MaybeTlsStream::Tls { state, .. } => f
                .debug_struct("MaybeTlsStream::Tls")
                .field("state", state)
                .finish(),
        }
    }
}
