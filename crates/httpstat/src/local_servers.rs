//! The no-URL default's servers: a plain one reached as `localhost` (on 127.0.0.1, and on
//! ::1 where the machine has it, so that whichever address the lookup gives first answers),
//! and an HTTPS one on 127.0.0.1; both tell their own time in `Server-Timing`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use httptrace_tower::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use httptrace_tower::rustls::{RootCertStore, ServerConfig};
use hyper_util::rt::TokioExecutor;

/// Answers every request with a short body, over `io` (HTTP/1.1 or HTTP/2, as the client
/// starts).
fn serve<I>(io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use hyper_util::rt::TokioIo;
    tokio::spawn(async move {
        let service =
            hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                let started = std::time::Instant::now();
                let _ = req.into_body().collect().await;
                let mut res = Response::new(Full::new(Bytes::from_static(
                    b"hello from httpstat's server\n",
                )));
                let took = started.elapsed().as_secs_f64() * 1000.0;
                let timing = format!("read;dur={took:.3};desc=\"reading the request\"");
                if let Ok(value) = timing.parse() {
                    res.headers_mut().insert("server-timing", value);
                }
                Ok::<_, Infallible>(res)
            });
        let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(io), service)
            .await;
    });
}

/// The no-URL default: a plain and an HTTPS server on 127.0.0.1, the HTTPS one with a
/// certificate (and an authority to trust it) made now. Returns their URLs and the roots
/// that trust the HTTPS one.
pub(crate) async fn start_local_servers() -> Result<(Vec<String>, RootCertStore), String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!("cannot start the local servers: {what}: {e}")
    };
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| fail("bind", &e))?;
    let secure = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| fail("bind", &e))?;
    let port = plain.local_addr().map_err(|e| fail("address", &e))?.port();
    // The same port on ::1, where the machine has IPv6 loopback.
    let plain_v6 = tokio::net::TcpListener::bind(("::1", port)).await.ok();
    let urls = vec![
        format!("http://localhost:{port}/"),
        format!(
            "https://{}/",
            secure.local_addr().map_err(|e| fail("address", &e))?
        ),
    ];

    let ca_key = rcgen::KeyPair::generate().map_err(|e| fail("key", &e))?;
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("CA", &e))?;
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "httpstat local CA");
    let ca_cert = ca.self_signed(&ca_key).map_err(|e| fail("CA", &e))?;
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().map_err(|e| fail("key", &e))?;
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .and_then(|p| p.signed_by(&key, &issuer))
        .map_err(|e| fail("certificate", &e))?;
    let provider = httptrace_tower::crypto_provider().map_err(|e| fail("TLS", &e))?;
    let mut server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| fail("TLS", &e))?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(|e| fail("TLS", &e))?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let mut roots = RootCertStore::empty();
    roots
        .add(ca_cert.der().clone())
        .map_err(|e| fail("roots", &e))?;

    for listener in std::iter::once(plain).chain(plain_v6) {
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                serve(stream);
            }
        });
    }
    tokio::spawn(async move {
        while let Ok((stream, _)) = secure.accept().await {
            // Nagle would hold the server's small HTTP/2 writes for a delayed ACK: 40 ms
            // that httpstat would show as the server's processing time.
            let _ = stream.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve(tls);
                }
            });
        }
    });
    Ok((urls, roots))
}
