//! Raw servers that script their bytes or misbehave: refusals, blackholes, closes, resets,
//! silence, GOAWAY, endless 1xx.

use std::time::Duration;

/// A port on 127.0.0.1 where nothing listens.
pub async fn refused_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// A listening socket that never accepts, its one-place queue already full: connecting to it
/// hangs (the kernel drops the SYNs), as a host that blackholes traffic does. Keep both
/// values alive for as long as it should stay so.
pub async fn blackhole(addr: &str) -> (tokio::net::TcpListener, std::net::TcpStream) {
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let socket = if addr.is_ipv6() {
        tokio::net::TcpSocket::new_v6()
    } else {
        tokio::net::TcpSocket::new_v4()
    }
    .unwrap();
    socket.bind(addr).unwrap();
    let listener = socket.listen(0).unwrap();
    let filler = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    (listener, filler)
}

/// Whether this machine has IPv6 loopback; tests that need it say so and stop when not.
pub fn has_ipv6_loopback() -> bool {
    let ok = std::net::TcpListener::bind("[::1]:0").is_ok();
    if !ok {
        eprintln!("no IPv6 loopback on this machine: skipping the IPv6 part of this test");
    }
    ok
}

/// A server that reads the first bytes a client sends (a TLS ClientHello, say) and closes.
pub async fn closing_after_first_bytes() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut chunk = [0u8; 64];
            let _ = stream.read(&mut chunk).await;
            drop(stream);
        }
    });
    (addr, task)
}

/// A raw HTTP/1.1 server: for each request head read on a connection it writes
/// `answer(request number on that connection)` verbatim, and keeps the connection open.
pub async fn scripted_server(
    answer: impl Fn(usize) -> Vec<u8> + Send + Sync + 'static,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = std::sync::Arc::new(answer);
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut n = 0;
                loop {
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        if stream.write_all(&answer(n)).await.is_err() {
                            return;
                        }
                        n += 1;
                    }
                    let mut chunk = [0u8; 4096];
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => buf.extend_from_slice(&chunk[..k]),
                    }
                }
            });
        }
    });
    (addr, task)
}

/// A raw server that, on each connection, reads one request head and then writes `bytes`;
/// `reset` ends with a TCP reset (SO_LINGER 0) rather than a close; `hold` keeps the
/// connection open without a word.
pub async fn misbehaving_server(
    bytes: &'static [u8],
    reset: bool,
    hold: bool,
) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let _ = stream.write_all(bytes).await;
                let _ = stream.flush().await;
                // Let the client read what was sent before the connection ends.
                tokio::time::sleep(Duration::from_millis(100)).await;
                if hold {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
                if reset {
                    let _ = stream.set_zero_linger();
                }
                drop(stream);
            });
        }
    });
    (addr, task)
}

/// An HTTP/2 (prior knowledge) server that sends GOAWAY after answering its first request on
/// each connection (hyper's graceful shutdown).
pub async fn goaway_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (answered_tx, answered) = tokio::sync::oneshot::channel::<()>();
                let answered_tx = std::sync::Mutex::new(Some(answered_tx));
                let service = hyper::service::service_fn(move |_req| {
                    if let Some(tx) = answered_tx.lock().unwrap().take() {
                        let _ = tx.send(());
                    }
                    async {
                        Ok::<_, std::convert::Infallible>(http::Response::new(
                            http_body_util::Full::new(bytes::Bytes::from_static(b"ok")),
                        ))
                    }
                });
                let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service);
                tokio::pin!(conn);
                tokio::select! {
                    _ = conn.as_mut() => return,
                    _ = answered => {}
                }
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            });
        }
    });
    (addr, task)
}

/// A raw server that answers each request head with `100 Continue` again and again, until
/// the client closes the connection (or a bound is reached); sends how many it wrote per
/// connection once that connection ends.
pub async fn endless_continue_server() -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<u64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (ended, ends) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let ended = ended.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let mut wrote = 0u64;
                while wrote < 1_000_000
                    && stream
                        .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                        .await
                        .is_ok()
                {
                    wrote += 1;
                }
                let _ = ended.send(wrote);
            });
        }
    });
    (addr, ends)
}
