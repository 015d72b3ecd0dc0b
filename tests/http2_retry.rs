//! hyper-util's hidden retry on HTTP/2: a request handed to a pooled connection whose server
//! has just sent GOAWAY, before the stream could start, is sent again on a new connection.
//! `GotConn` names the connection that carried the stream, and the failed attempt shows as a
//! second `GetConn`/`GotConn` pair, as Go reports it.
//!
//! The server is raw HTTP/2 frames, so that its GOAWAY's last-stream-id and its timing are
//! exact: it answers the first stream of its first connection, holds the second, then sends
//! GOAWAY (last stream: the held one) and a PING; the PING's ACK says the client has read the
//! GOAWAY. Every later connection is answered at once.

mod support;

use std::sync::Arc;

use httptrace::{with_client_trace, ClientTrace, EventKind, EventLog};
use httptrace_tower::{HttpTrace, TraceConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};

const HEADERS: u8 = 0x1;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const ACK: u8 = 0x1;
const END_STREAM_AND_HEADERS: u8 = 0x5;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_be_bytes();
    let mut out = vec![len[1], len[2], len[3], kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// `:status: 200` (HPACK static table entry 8), ending the stream.
fn ok(stream: u32) -> Vec<u8> {
    frame(HEADERS, END_STREAM_AND_HEADERS, stream, &[0x88])
}

/// What the server tells the test.
#[derive(Debug, PartialEq, Eq)]
enum Heard {
    /// The client read the GOAWAY (its PING came back).
    GoawayRead,
    /// A stream opened past the GOAWAY's last stream on the first connection.
    StreamPastGoaway(u32),
}

async fn read_frame(conn: &mut TcpStream) -> Option<(u8, u8, u32, Vec<u8>)> {
    let mut head = [0u8; 9];
    conn.read_exact(&mut head).await.ok()?;
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; len];
    conn.read_exact(&mut payload).await.ok()?;
    Some((head[3], head[4], stream, payload))
}

/// One connection: `first` says whether it is the connection that sends GOAWAY.
async fn serve(
    mut conn: TcpStream,
    first: bool,
    heard: mpsc::UnboundedSender<Heard>,
    release: Arc<Notify>,
) {
    let mut preface = [0u8; 24];
    if conn.read_exact(&mut preface).await.is_err() {
        return;
    }
    if conn.write_all(&frame(SETTINGS, 0, 0, &[])).await.is_err() {
        return;
    }
    let mut held = None;
    let mut streams = 0;
    loop {
        let released = async {
            match held {
                Some(_) => release.notified().await,
                None => std::future::pending().await,
            }
        };
        let next = tokio::select! {
            next = read_frame(&mut conn) => next,
            () = released => {
                let stream = held.take().unwrap();
                if conn.write_all(&ok(stream)).await.is_err() {
                    return;
                }
                continue;
            }
        };
        let Some((kind, flags, stream, payload)) = next else {
            return;
        };
        let reply = match (kind, flags & ACK) {
            (SETTINGS, 0) => frame(SETTINGS, ACK, 0, &[]),
            (PING, 0) => frame(PING, ACK, 0, &payload),
            (PING, ACK) if payload == b"goaway!!" => {
                let _ = heard.send(Heard::GoawayRead);
                continue;
            }
            (HEADERS, _) if first => {
                streams += 1;
                match streams {
                    1 => ok(stream),
                    2 => {
                        // Hold this stream; no stream after it will be processed.
                        held = Some(stream);
                        let mut goaway = stream.to_be_bytes().to_vec();
                        goaway.extend_from_slice(&0u32.to_be_bytes()); // NO_ERROR
                        let mut out = frame(GOAWAY, 0, 0, &goaway);
                        out.extend(frame(PING, 0, 0, b"goaway!!"));
                        out
                    }
                    _ => {
                        let _ = heard.send(Heard::StreamPastGoaway(stream));
                        continue;
                    }
                }
            }
            (HEADERS, _) => ok(stream),
            _ => continue,
        };
        if conn.write_all(&reply).await.is_err() {
            return;
        }
    }
}

// One thread: once the client has read the GOAWAY, request C reaches the pool before the
// first connection's dispatcher runs again (and shuts down), every time.
#[tokio::test]
async fn a_stream_retried_after_goaway_names_the_connection_that_carried_it() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (heard_tx, mut heard) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let held = release.clone();
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve(conn, first, heard_tx.clone(), held.clone()));
            first = false;
        }
    });
    let client = Arc::new(HttpTrace::new(
        Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build(TraceConnector::new(dialer(TestResolver::new()))),
        ClientTrace::new(),
    ));
    let url = format!("http://{addr}/");
    let h2_get = || {
        let mut req = get(&url);
        *req.version_mut() = http::Version::HTTP_2;
        req
    };

    // A: the first connection's first stream, answered.
    let res = within("request A", client.request(h2_get())).await.unwrap();
    read_body(res.into_body()).await;
    // B: held, then GOAWAY.
    let b = {
        let client = client.clone();
        let req = h2_get();
        tokio::spawn(async move { client.request(req).await.map(|r| r.status()) })
    };
    assert_eq!(
        within("the GOAWAY to be read", heard.recv()).await,
        Some(Heard::GoawayRead)
    );
    // C: the pool still hands out the first connection (B keeps it open); its dispatcher
    // has shut down, so hyper-util sends C again on a new connection.
    let log = EventLog::new();
    let mut req = h2_get();
    with_client_trace(&mut req, log.trace());
    let res = within("request C", client.request(req)).await.unwrap();
    assert_eq!(res.status(), 200);
    read_body(res.into_body()).await;
    release.notify_one();
    assert_eq!(within("request B", b).await.unwrap().unwrap(), 200);
    assert!(
        heard.try_recv().is_err(),
        "no stream opened past the GOAWAY"
    );

    let events = log.take();
    let fields = GO_HTTP2_PSEUDO_FIELDS.map(String::from);
    let mut expected = vec!["GetConn".to_owned(), "GotConn".to_owned()];
    expected.extend(fields.clone());
    expected.push("WroteHeaders".to_owned());
    // The retry dials, then the second attempt gets its connection.
    expected.extend(["ConnectStart", "ConnectDone", "GetConn", "GotConn"].map(String::from));
    expected.extend(fields);
    expected.extend(["WroteHeaders", "WroteRequest", "GotFirstResponseByte"].map(String::from));
    assert_eq!(names(&events), expected);
    let get_conns: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GetConn(i) => Some(i.host_port.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(get_conns, [addr.to_string(), addr.to_string()]);
    let got: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::GotConn(i) => Some((i.conn.id, i.reused)),
            _ => None,
        })
        .collect();
    assert!(got[0].1, "the first attempt took the pooled connection");
    assert!(!got[1].1, "the second a new one");
    assert_ne!(got[0].0, got[1].0, "{got:?}");
}
