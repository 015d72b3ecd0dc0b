//! A raw HTTP/2 server (prior knowledge) that writes its frames by hand, so that a test
//! decides exactly when each stream is answered and when GOAWAY goes out. It reads whole
//! frames, answers SETTINGS and PING, and acts on each HEADERS as the test's script says.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const ACK: u8 = 0x1;
const END_STREAM_AND_HEADERS: u8 = 0x5;
/// The payload of the PING that follows our GOAWAY.
const AFTER_GOAWAY: &[u8; 8] = b"goaway!!";

/// What to do with a stream: by the connection's number (0 first) and the stream's (0 first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// `200` at once.
    Answer,
    /// Nothing until [`RawH2::release`]; the test hears [`Heard::Held`].
    Hold,
    /// Hold it, and send GOAWAY naming it as the last stream, then a PING: its ACK tells the
    /// test the client read the GOAWAY ([`Heard::GoawayRead`]).
    HoldThenGoaway,
    /// Must not happen: the test hears [`Heard::Unexpected`].
    Refuse,
    /// `RST_STREAM` with this error code, at once.
    Reset(u32),
    /// Send GOAWAY (`NO_ERROR`, debug data [`GOAWAY_DEBUG`]) naming the first stream still
    /// held as the last, which cuts this stream and every later one held; then a PING whose
    /// ACK the test hears as [`Heard::GoawayRead`]. Release answers the first held stream.
    GoawayCuttingAllButFirst,
}

/// The debug data of [`Act::GoawayCuttingAllButFirst`]'s GOAWAY.
pub const GOAWAY_DEBUG: &[u8] = b"draining for deploy";

/// What the server tells the test.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    Held(u32),
    GoawayRead,
    Unexpected(u32),
}

pub struct RawH2 {
    pub addr: std::net::SocketAddr,
    pub heard: mpsc::UnboundedReceiver<Heard>,
    release: watch::Sender<bool>,
}

impl RawH2 {
    /// Answers the held streams, and from now on every stream a script holds. A state, not a
    /// wake-up: a connection busy reading when it is set answers at its next turn.
    pub fn release(&self) {
        self.release.send_replace(true);
    }
}

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

async fn read_frame(conn: &mut TcpStream) -> Option<(u8, u8, u32, Vec<u8>)> {
    let mut head = [0u8; 9];
    conn.read_exact(&mut head).await.ok()?;
    let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
    let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
    let mut payload = vec![0u8; len.min(1 << 20)];
    conn.read_exact(&mut payload).await.ok()?;
    Some((head[3], head[4], stream, payload))
}

/// Starts the server; `script(connection, stream)` decides each stream's fate.
pub async fn raw_h2_server(script: fn(usize, usize) -> Act) -> RawH2 {
    raw_h2_server_with(None, script).await
}

/// As [`raw_h2_server`], its SETTINGS allowing at most `max_concurrent_streams` (when given).
pub async fn raw_h2_server_with(
    max_concurrent_streams: Option<u32>,
    script: fn(usize, usize) -> Act,
) -> RawH2 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (heard_tx, heard) = mpsc::unbounded_channel();
    let (release, released) = watch::channel(false);
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((conn, _)) = listener.accept().await {
            let settings = Settings {
                max_concurrent_streams,
            };
            tokio::spawn(serve(
                conn,
                n,
                settings,
                script,
                heard_tx.clone(),
                released.clone(),
            ));
            n += 1;
        }
    });
    RawH2 {
        addr,
        heard,
        release,
    }
}

#[derive(Clone, Copy)]
struct Settings {
    max_concurrent_streams: Option<u32>,
}

async fn serve(
    mut conn: TcpStream,
    n: usize,
    settings: Settings,
    script: fn(usize, usize) -> Act,
    heard: mpsc::UnboundedSender<Heard>,
    mut release: watch::Receiver<bool>,
) {
    let mut preface = [0u8; 24];
    let mut own = Vec::new();
    if let Some(max) = settings.max_concurrent_streams {
        own.extend_from_slice(&3u16.to_be_bytes()); // SETTINGS_MAX_CONCURRENT_STREAMS
        own.extend_from_slice(&max.to_be_bytes());
    }
    if conn.read_exact(&mut preface).await.is_err()
        || conn.write_all(&frame(SETTINGS, 0, 0, &own)).await.is_err()
    {
        return;
    }
    let mut held: Vec<u32> = Vec::new();
    let mut streams = 0;
    loop {
        if *release.borrow_and_update() && !held.is_empty() {
            let answers: Vec<u8> = held.drain(..).flat_map(ok).collect();
            if conn.write_all(&answers).await.is_err() {
                return;
            }
        }
        let next = tokio::select! {
            next = read_frame(&mut conn) => next,
            changed = release.changed(), if !held.is_empty() => {
                if changed.is_err() {
                    return; // the test is over
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
            (PING, ACK) if payload == AFTER_GOAWAY => {
                let _ = heard.send(Heard::GoawayRead);
                continue;
            }
            (HEADERS, _) => {
                streams += 1;
                match script(n, streams - 1) {
                    Act::Answer => ok(stream),
                    Act::Hold => {
                        held.push(stream);
                        let _ = heard.send(Heard::Held(stream));
                        continue;
                    }
                    Act::HoldThenGoaway => {
                        held.push(stream);
                        let mut goaway = stream.to_be_bytes().to_vec();
                        goaway.extend_from_slice(&0u32.to_be_bytes()); // NO_ERROR
                        let mut out = frame(GOAWAY, 0, 0, &goaway);
                        out.extend(frame(PING, 0, 0, AFTER_GOAWAY));
                        out
                    }
                    Act::Refuse => {
                        let _ = heard.send(Heard::Unexpected(stream));
                        continue;
                    }
                    Act::Reset(code) => frame(RST_STREAM, 0, stream, &code.to_be_bytes()),
                    Act::GoawayCuttingAllButFirst => {
                        let last = held.first().copied().unwrap_or(0);
                        held.retain(|held| *held <= last);
                        let mut goaway = last.to_be_bytes().to_vec();
                        goaway.extend_from_slice(&0u32.to_be_bytes()); // NO_ERROR
                        goaway.extend_from_slice(GOAWAY_DEBUG);
                        let mut out = frame(GOAWAY, 0, 0, &goaway);
                        out.extend(frame(PING, 0, 0, AFTER_GOAWAY));
                        out
                    }
                }
            }
            _ => continue,
        };
        if conn.write_all(&reply).await.is_err() {
            return;
        }
    }
}
