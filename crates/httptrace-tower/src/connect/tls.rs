//! [`TraceTlsConnector`]: rustls over any connector, firing `TLSHandshakeStart` and
//! `TLSHandshakeDone`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use httptrace::{
    current_trace, BoxError, ClientTrace, TlsConnectionState, TlsHandshakeDoneInfo, TraceError,
};
use hyper::rt::{Read, Write};
use hyper_util::client::legacy::connect::Connection;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio_rustls::TlsConnector;
use tower_service::Service;

use super::maybe_tls::MaybeTlsStream;

/// Wraps a connector that yields plain connections (our [`TraceHttpConnector`] with
/// `enforce_http(false)`, or any other): `https://` connections get a rustls handshake,
/// reported by `TLSHandshakeStart` and `TLSHandshakeDone` (with the negotiated
/// [`TlsConnectionState`], or the error); `http://` ones pass through.
///
/// The negotiated state is also put in the connection's `Connected` extras, so hyper-util
/// puts it in every response's extensions, as an `Arc<TlsConnectionState>` (Go's
/// `Response.TLS`; shared, since it holds the peer's certificate chain):
///
/// ```no_run
/// # fn f(res: http::Response<()>) {
/// use std::sync::Arc;
/// if let Some(tls) = res.extensions().get::<Arc<httptrace::TlsConnectionState>>() {
///     println!("{:?} {:?}", tls.version, tls.cipher_suite);
/// }
/// # }
/// ```
///
/// ALPN `h2` marks the connection as HTTP/2 for hyper-util's pool. A failed handshake fails
/// the connect with rustls' own error.
///
/// [`TraceHttpConnector`]: super::TraceHttpConnector
#[derive(Clone)]
pub struct TraceTlsConnector<C> {
    inner: C,
    tls: TlsConnector,
    handshake_timeout: Option<Duration>,
}

impl<C> TraceTlsConnector<C> {
    /// TLS with `config` (its `alpn_protocols` decide what is offered) over `inner`; no
    /// limit on the handshake's time ([`set_handshake_timeout`](Self::set_handshake_timeout)).
    pub fn new(inner: C, config: Arc<ClientConfig>) -> Self {
        TraceTlsConnector {
            inner,
            tls: TlsConnector::from(config),
            handshake_timeout: None,
        }
    }

    /// Gives up on a handshake after `timeout` (`None`: no limit), as Go's
    /// `TLSHandshakeTimeout`: the connect fails with an `io::Error` of kind `TimedOut`,
    /// "TLS handshake timed out after ...", which `TLSHandshakeDone` carries too.
    pub fn set_handshake_timeout(&mut self, timeout: Option<Duration>) -> &mut Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The wrapped connector.
    pub fn get_ref(&self) -> &C {
        &self.inner
    }

    /// The wrapped connector.
    pub fn get_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// Unwraps the connector.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<C> std::fmt::Debug for TraceTlsConnector<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceTlsConnector").finish_non_exhaustive()
    }
}

impl<C> Service<Uri> for TraceTlsConnector<C>
where
    C: Service<Uri>,
    C::Response: Read + Write + Connection + Unpin + Send + 'static,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
{
    type Response = MaybeTlsStream<C::Response>;
    type Error = BoxError;
    type Future = TraceTlsConnectorFuture<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> TraceTlsConnectorFuture<C::Response> {
        let trace = current_trace();
        let is_https = dst.scheme_str() == Some("https");
        let host = dst
            .host()
            .unwrap_or_default()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let connecting = self.inner.call(dst);
        let tls = self.tls.clone();
        let limit = self.handshake_timeout;
        TraceTlsConnectorFuture {
            inner: Box::pin(async move {
                let io = connecting.await.map_err(Into::into)?;
                if !is_https {
                    return Ok(MaybeTlsStream::Plain(io));
                }
                handshake(tls, io, host, trace, limit).await
            }),
        }
    }
}

/// The future of [`TraceTlsConnector`].
#[must_use = "futures do nothing unless polled"]
pub struct TraceTlsConnectorFuture<T> {
    #[allow(clippy::type_complexity)]
    inner: Pin<Box<dyn Future<Output = Result<MaybeTlsStream<T>, BoxError>> + Send>>,
}

impl<T> Future for TraceTlsConnectorFuture<T> {
    type Output = Result<MaybeTlsStream<T>, BoxError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<T> std::fmt::Debug for TraceTlsConnectorFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceTlsConnectorFuture")
    }
}

/// Fires `TLSHandshakeDone` once: with the outcome, or as cancelled if the handshake is dropped.
struct HandshakeGuard {
    trace: Option<ClientTrace>,
    server_name: Option<String>,
}

impl HandshakeGuard {
    fn done(mut self, state: TlsConnectionState, err: Option<TraceError>) {
        if let Some(trace) = self.trace.take() {
            trace.tls_handshake_done(&TlsHandshakeDoneInfo::new(state, err));
        }
    }
}

impl Drop for HandshakeGuard {
    fn drop(&mut self) {
        if let Some(trace) = self.trace.take() {
            let mut state = TlsConnectionState::new();
            state.server_name = self.server_name.take();
            let err = TraceError::msg("TLS handshake cancelled");
            trace.tls_handshake_done(&TlsHandshakeDoneInfo::new(state, Some(err)));
        }
    }
}

async fn handshake<T>(
    tls: TlsConnector,
    io: T,
    host: String,
    trace: Option<ClientTrace>,
    limit: Option<Duration>,
) -> Result<MaybeTlsStream<T>, BoxError>
where
    T: Read + Write + Connection + Unpin,
{
    let server_name = ServerName::try_from(host.clone()).map_err(|e| Box::new(e) as BoxError)?;
    // rustls sends SNI for DNS names only, never for IP addresses.
    let sni = matches!(server_name, ServerName::DnsName(_)).then_some(host);
    if let Some(t) = &trace {
        t.tls_handshake_start();
    }
    let guard = HandshakeGuard {
        trace,
        server_name: sni.clone(),
    };
    let connecting = tls.connect(server_name, TokioIo::new(io));
    let connected = match limit {
        Some(limit) => match tokio::time::timeout(limit, connecting).await {
            Ok(connected) => connected,
            Err(_) => Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("TLS handshake timed out after {limit:?}"),
            )),
        },
        None => connecting.await,
    };
    match connected {
        Ok(stream) => {
            let state = negotiated(stream.get_ref().1, sni);
            guard.done(state.clone(), None);
            Ok(MaybeTlsStream::Tls {
                stream: TokioIo::new(stream),
                state: Arc::new(state),
            })
        }
        Err(err) => {
            let mut state = TlsConnectionState::new();
            state.server_name = sni;
            guard.done(state, Some(TraceError::describe(&err)));
            Err(Box::new(err))
        }
    }
}

/// Copies what rustls negotiated into our own type.
fn negotiated(conn: &rustls::ClientConnection, server_name: Option<String>) -> TlsConnectionState {
    let mut state = TlsConnectionState::new();
    state.version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
        other => format!("{other:?}"),
    });
    state.cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|s| iana_cipher_suite_name(s.suite()));
    state.alpn_protocol = conn.alpn_protocol().map(<[u8]>::to_vec);
    state.server_name = server_name;
    state.peer_certificates = conn
        .peer_certificates()
        .unwrap_or_default()
        .iter()
        .map(|c| c.as_ref().to_vec())
        .collect();
    state.resumed = conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    state
}

/// The IANA registry's name: rustls prefixes the TLS 1.3 suites with `TLS13_` where IANA
/// writes `TLS_`; its TLS 1.2 names are IANA's.
fn iana_cipher_suite_name(suite: rustls::CipherSuite) -> String {
    match suite.as_str() {
        Some(name) => match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => name.to_owned(),
        },
        None => format!("0x{:04X}", u16::from(suite)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_suites_get_their_iana_names() {
        let cases = [
            (
                rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
                "TLS_AES_128_GCM_SHA256",
            ),
            (
                rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
                "TLS_AES_256_GCM_SHA384",
            ),
            (
                rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
                "TLS_CHACHA20_POLY1305_SHA256",
            ),
            (
                rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            ),
            (rustls::CipherSuite::from(0xfafa), "0xFAFA"),
        ];
        for (suite, iana) in cases {
            assert_eq!(iana_cipher_suite_name(suite), iana);
        }
    }
}
