//! hyper servers on loopback that record what they saw.

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
    pub path: String,
    pub request_id: Option<String>,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// When the server started writing its answer.
    pub answered_at: Instant,
}

pub type Handler = Arc<dyn Fn(&Seen) -> Response<Full<Bytes>> + Send + Sync>;

pub struct TestServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub connections: Arc<Mutex<Vec<SocketAddr>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Answers 200 with body "ok" (a megabyte of it under `/big`) and echoes `x-request-id`;
    /// waits 200 ms before answering under `/slow`.
    pub async fn start() -> Self {
        Self::with_handler(|seen: &Seen| {
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
        .await
    }

    pub async fn with_handler(
        handler: impl Fn(&Seen) -> Response<Full<Bytes>> + Send + Sync + 'static,
    ) -> Self {
        Self::bind("127.0.0.1:0", Arc::new(handler)).await
    }

    pub async fn bind(addr: &str, handler: Handler) -> Self {
        let listener = TcpListener::bind(addr).await.expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (seen2, conns2) = (seen.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    return;
                };
                conns2.lock().unwrap().push(peer);
                let (seen, handler) = (seen2.clone(), handler.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let (seen, handler) = (seen.clone(), handler.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            if parts.uri.path().starts_with("/slow") {
                                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                            }
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let record = Seen {
                                peer,
                                method: parts.method.clone(),
                                path: parts.uri.path().to_owned(),
                                request_id: parts
                                    .headers
                                    .get("x-request-id")
                                    .map(|v| v.to_str().unwrap().to_owned()),
                                headers: parts.headers.clone(),
                                body,
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
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port())
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn connection_count(&self) -> usize {
        self.connections.lock().unwrap().len()
    }
}
