//! A raw HTTP/1.1 server for `Expect: 100-continue`, byte for byte in control: by path it
//! accepts (`/accept`: `100 Continue`, then reads the body), refuses before reading
//! (`/reject`: `417`, then counts whatever body bytes still arrive) or ignores the
//! expectation (`/ignore`: just reads the body). It records the body bytes each request got.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct ExpectServer {
    pub addr: SocketAddr,
    /// (path, body bytes received) per request, in order.
    pub got: Arc<Mutex<Vec<(String, usize)>>>,
    pub connections: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ExpectServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<(String, usize)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            let path = head.split(' ').nth(1).unwrap_or("").to_owned();
            let len = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .unwrap_or(0);
            return Some((path, len));
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn read_body(stream: &mut TcpStream, buf: &mut Vec<u8>, len: usize) -> usize {
    while buf.len() < len {
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let n = len.min(buf.len());
    buf.drain(..n);
    n
}

async fn serve(mut stream: TcpStream, got: Arc<Mutex<Vec<(String, usize)>>>) {
    let mut buf = Vec::new();
    while let Some((path, len)) = read_head(&mut stream, &mut buf).await {
        match path.as_str() {
            "/accept" => {
                let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
                let n = read_body(&mut stream, &mut buf, len).await;
                got.lock().unwrap().push((path, n));
                let _ = stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\ngot {n}",
                            4 + n.to_string().len()
                        )
                        .as_bytes(),
                    )
                    .await;
            }
            "/reject" => {
                let _ = stream
                    .write_all(b"HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\n\r\n")
                    .await;
                // Count whatever still comes, until the client closes or goes quiet.
                let mut n = buf.len();
                loop {
                    let mut chunk = [0u8; 4096];
                    match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut chunk))
                        .await
                    {
                        Ok(Ok(k)) if k > 0 => n += k,
                        _ => break,
                    }
                }
                got.lock().unwrap().push((path, n));
                return;
            }
            _ => {
                let n = read_body(&mut stream, &mut buf, len).await;
                got.lock().unwrap().push((path, n));
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                    .await;
            }
        }
    }
}

impl ExpectServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let (got2, conns2) = (got.clone(), connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                *conns2.lock().unwrap() += 1;
                tokio::spawn(serve(stream, got2.clone()));
            }
        });
        ExpectServer {
            addr,
            got,
            connections,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn got(&self) -> Vec<(String, usize)> {
        self.got.lock().unwrap().clone()
    }
}
