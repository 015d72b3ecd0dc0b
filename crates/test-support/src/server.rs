//! hyper servers on loopback, plain or TLS, that record what they saw.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

/// What the server saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub peer: SocketAddr,
    pub method: http::Method,
    pub version: http::Version,
    pub path: String,
    pub request_id: Option<String>,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// When the server had the request's head.
    pub received_at: Instant,
    /// When the server started writing its answer.
    pub answered_at: Instant,
}

/// What the server side of a TLS handshake negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSeen {
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub alpn: Option<Vec<u8>>,
    pub sni: Option<String>,
    pub resumed: bool,
}

pub type Handler = Arc<dyn Fn(&Seen) -> Response<Full<Bytes>> + Send + Sync>;

/// Plain or TLS, as the server accepted it.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

pub struct TestServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub connections: Arc<Mutex<Vec<SocketAddr>>>,
    pub tls_seen: Arc<Mutex<Vec<TlsSeen>>>,
    tls: bool,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Answers 200 with body "ok" (a megabyte of it under `/big`) and echoes `x-request-id`.
pub fn default_handler() -> Handler {
    Arc::new(|seen: &Seen| {
        let body = if seen.path.starts_with("/big") {
            Bytes::from(vec![b'x'; 1 << 20])
        } else {
            Bytes::from_static(b"ok")
        };
        let mut res = Response::new(Full::new(body));
        if let Some(id) = &seen.request_id {
            res.headers_mut()
                .insert("x-request-id", id.parse().unwrap());
        }
        res
    })
}

fn tls_seen_of(conn: &rustls::ServerConnection) -> TlsSeen {
    TlsSeen {
        version: conn.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
            other => format!("{other:?}"),
        }),
        cipher: conn
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .map(|s| s.replacen("TLS13_", "TLS_", 1)),
        alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
        sni: conn.server_name().map(str::to_owned),
        resumed: conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed),
    }
}

impl TestServer {
    /// The default handler; waits 200 ms before answering under `/slow`.
    pub async fn start() -> Self {
        Self::bind("127.0.0.1:0", default_handler()).await
    }

    /// The default handler over TLS with `config` (HTTP/1.1 or HTTP/2 as ALPN decides).
    pub async fn start_tls(config: Arc<rustls::ServerConfig>) -> Self {
        Self::bind_with("127.0.0.1:0", default_handler(), Some(config)).await
    }

    pub async fn with_handler(
        handler: impl Fn(&Seen) -> Response<Full<Bytes>> + Send + Sync + 'static,
    ) -> Self {
        Self::bind("127.0.0.1:0", Arc::new(handler)).await
    }

    pub async fn bind(addr: &str, handler: Handler) -> Self {
        Self::bind_with(addr, handler, None).await
    }

    pub async fn bind_with(
        addr: &str,
        handler: Handler,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let tls_seen = Arc::new(Mutex::new(Vec::new()));
        let is_tls = tls.is_some();
        let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
        let (seen2, conns2, tls_seen2) = (seen.clone(), connections.clone(), tls_seen.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    return;
                };
                conns2.lock().unwrap().push(peer);
                let (seen, handler) = (seen2.clone(), handler.clone());
                let (acceptor, tls_seen) = (acceptor.clone(), tls_seen2.clone());
                tokio::spawn(async move {
                    let stream: Box<dyn Io> = match acceptor {
                        None => Box::new(stream),
                        Some(acceptor) => match acceptor.accept(stream).await {
                            Ok(tls) => {
                                tls_seen.lock().unwrap().push(tls_seen_of(tls.get_ref().1));
                                Box::new(tls)
                            }
                            Err(_) => return,
                        },
                    };
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (seen, handler) = (seen.clone(), handler.clone());
                        async move {
                            let received_at = Instant::now();
                            let (parts, body) = req.into_parts();
                            if parts.uri.path().starts_with("/slow") {
                                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                            }
                            if parts.uri.path().starts_with("/reject") {
                                // Refuse before reading the body (an `Expect: 100-continue`
                                // upload the server will not take).
                                drop(body);
                                let mut res = Response::new(Full::new(Bytes::new()));
                                *res.status_mut() = http::StatusCode::EXPECTATION_FAILED;
                                return Ok::<_, Infallible>(res);
                            }
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let record = Seen {
                                peer,
                                method: parts.method.clone(),
                                version: parts.version,
                                path: parts.uri.path().to_owned(),
                                request_id: parts
                                    .headers
                                    .get("x-request-id")
                                    .map(|v| v.to_str().unwrap().to_owned()),
                                headers: parts.headers.clone(),
                                body,
                                received_at,
                                answered_at: Instant::now(),
                            };
                            let res = handler(&record);
                            seen.lock().unwrap().push(record);
                            Ok::<_, Infallible>(res)
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        TestServer {
            addr,
            seen,
            connections,
            tls_seen,
            tls: is_tls,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{host}:{}{path}", self.port())
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The connections (client addresses) the requests for `path` came on, in order.
    pub fn peers_for(&self, path: &str) -> Vec<SocketAddr> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.path == path)
            .map(|s| s.peer)
            .collect()
    }

    pub fn tls_seen(&self) -> Vec<TlsSeen> {
        self.tls_seen.lock().unwrap().clone()
    }

    pub fn connection_count(&self) -> usize {
        self.connections.lock().unwrap().len()
    }
}

/// `/hop1` → 302 `/hop2` → 302 `hop3` (a relative reference) → 200 "arrived".
pub fn redirect_chain(seen: &Seen) -> Response<Full<Bytes>> {
    let next = match seen.path.as_str() {
        "/hop1" => Some("/hop2"),
        "/hop2" => Some("hop3"),
        _ => None,
    };
    match next {
        Some(location) => Response::builder()
            .status(http::StatusCode::FOUND)
            .header("location", location)
            .body(Full::default())
            .unwrap(),
        None => Response::new(Full::new(Bytes::from_static(b"arrived"))),
    }
}
