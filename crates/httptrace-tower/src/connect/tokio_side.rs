//! The connector's own connection as [`TracedIo`](super::traced_io::TracedIo) reads and writes
//! it: through tokio's I/O traits, which show the bytes read.
//!
//! hyper's `Read` fills a cursor that does not give back what it was filled with, so a
//! connection is seen through `TokioIo`, which turns hyper's buffer into tokio's; a dialer's
//! `TokioIo<TcpStream>` turns it back, and the socket's read turns it into tokio's once more.
//! When the connection is that plain TCP stream (hyper-util's `HttpConnector`, our
//! `TraceHttpConnector`), it is read and written directly instead: two conversions fewer
//! per call, on every read of every request. The check is a type comparison the compiler
//! settles for each connection type.

use std::any::Any;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::rt::{Read, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// The connection `R`, seen through tokio's I/O traits.
pub(crate) struct TokioSide<R>(TokioIo<R>);

impl<R: 'static> TokioSide<R> {
    pub(crate) fn new(inner: R) -> Self {
        TokioSide(TokioIo::new(inner))
    }

    pub(crate) fn get_ref(&self) -> &R {
        self.0.inner()
    }

    pub(crate) fn get_mut(&mut self) -> &mut R {
        self.0.inner_mut()
    }

    pub(crate) fn into_inner(self) -> R {
        self.0.into_inner()
    }

    /// The socket itself, when `R` is a plain TCP stream.
    fn tcp(&mut self) -> Option<&mut TcpStream> {
        (self.0.inner_mut() as &mut dyn Any)
            .downcast_mut::<TokioIo<TcpStream>>()
            .map(TokioIo::inner_mut)
    }
}

impl<R: Read + Unpin + 'static> AsyncRead for TokioSide<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match this.tcp() {
            Some(tcp) => Pin::new(tcp).poll_read(cx, buf),
            None => Pin::new(&mut this.0).poll_read(cx, buf),
        }
    }
}

impl<R: Write + Unpin + 'static> AsyncWrite for TokioSide<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match this.tcp() {
            Some(tcp) => Pin::new(tcp).poll_write(cx, buf),
            None => Pin::new(&mut this.0).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        match this.tcp() {
            Some(tcp) => Pin::new(tcp).poll_write_vectored(cx, bufs),
            None => Pin::new(&mut this.0).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match this.tcp() {
            Some(tcp) => Pin::new(tcp).poll_flush(cx),
            None => Pin::new(&mut this.0).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        match this.tcp() {
            Some(tcp) => Pin::new(tcp).poll_shutdown(cx),
            None => Pin::new(&mut this.0).poll_shutdown(cx),
        }
    }
}

impl<R: Connection> Connection for TokioSide<R> {
    fn connected(&self) -> Connected {
        self.0.inner().connected()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A plain TCP stream is read and written directly; anything else through `TokioIo`;
    /// both carry the same bytes.
    #[tokio::test]
    async fn a_tcp_stream_is_used_directly_and_others_through_tokio_io() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let echo = tokio::spawn(async move {
            for _ in 0..2 {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut b = [0u8; 4];
                s.read_exact(&mut b).await.unwrap();
                s.write_all(&b).await.unwrap();
            }
        });
        let tcp = TokioIo::new(TcpStream::connect(addr).await.unwrap());
        let mut direct = TokioSide::new(tcp);
        assert!(direct.tcp().is_some());
        // A stream under more wrappers is not recognised: read through hyper's traits.
        let tcp = TcpStream::connect(addr).await.unwrap();
        let wrapped = TokioIo::new(TokioIo::new(TokioIo::new(tcp)));
        let mut converted = TokioSide::new(wrapped);
        assert!(converted.tcp().is_none());
        for side in [&mut direct as &mut dyn Both, &mut converted] {
            side.write_all(b"ping").await.unwrap();
            let mut back = [0u8; 4];
            side.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"ping");
        }
        echo.await.unwrap();
    }

    trait Both: AsyncRead + AsyncWrite + Unpin {}
    impl<T: AsyncRead + AsyncWrite + Unpin> Both for T {}
}
