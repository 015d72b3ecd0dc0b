//! Reads HTTP/2 frame headers in both directions of a connection to know, whatever was traced,
//! how many streams it has carried, how many are open, and when it last went idle.
//!
//! Only the 9-byte frame headers are read (RFC 9113, 4.1); payloads are skipped by length. A
//! client stream opens with its first HEADERS frame and closes when both sides have sent
//! END_STREAM, or when either resets it.

use std::collections::HashMap;

const PREFACE_LEN: usize = 24;
const HEADER_LEN: usize = 9;
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const GOAWAY: u8 = 0x7;
const END_STREAM: u8 = 0x1;

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Written by the client.
    Sent,
    /// Read from the server.
    Received,
}

/// What changed, for the connection's counters.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    pub(crate) opened: u64,
    pub(crate) closed: u64,
    /// The server sent GOAWAY: no stream opens on the connection any more.
    pub(crate) goaway: bool,
}

/// Splits one direction's bytes into frame headers, across any chunking.
#[derive(Debug)]
struct FrameReader {
    /// Bytes still to skip: the preface, then each frame's payload.
    skip: usize,
    header: [u8; HEADER_LEN],
    have: usize,
}

impl FrameReader {
    fn new(skip: usize) -> Self {
        FrameReader {
            skip,
            header: [0; HEADER_LEN],
            have: 0,
        }
    }

    /// Calls `frame(type, flags, stream)` for each complete frame header in `bytes`.
    fn feed(&mut self, mut bytes: &[u8], mut frame: impl FnMut(u8, u8, u32)) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            let n = (HEADER_LEN - self.have).min(bytes.len());
            self.header[self.have..self.have + n].copy_from_slice(&bytes[..n]);
            self.have += n;
            bytes = &bytes[n..];
            if self.have == HEADER_LEN {
                let h = self.header;
                let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
                let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
                self.have = 0;
                self.skip = len;
                frame(h[3], h[4], stream);
            }
        }
    }
}

/// The streams of one HTTP/2 connection, as seen on the wire.
#[derive(Debug)]
pub(crate) struct Http2Frames {
    sent: FrameReader,
    received: FrameReader,
    highest_opened: u32,
    open: HashMap<u32, OpenStream>,
}

#[derive(Debug)]
struct OpenStream {
    /// Its place among all streams opened (see `ConnShared::stream_opened`).
    seq: u64,
    sent_end: bool,
    received_end: bool,
}

impl Http2Frames {
    /// A connection's frames from its first byte: the client preface, then frames.
    pub(crate) fn from_preface() -> Self {
        Self::skipping(PREFACE_LEN)
    }

    /// A connection's frames after its client preface went out.
    #[cfg(test)]
    pub(crate) fn after_preface() -> Self {
        Self::skipping(0)
    }

    fn skipping(preface: usize) -> Self {
        Http2Frames {
            sent: FrameReader::new(preface),
            received: FrameReader::new(0),
            highest_opened: 0,
            open: HashMap::new(),
        }
    }

    #[cfg(test)]
    pub(crate) fn open_streams(&self) -> usize {
        self.open.len()
    }

    /// The sequence number of the oldest stream still open.
    pub(crate) fn oldest_open(&self) -> Option<u64> {
        self.open.values().map(|s| s.seq).min()
    }

    /// Reads `bytes`; `open_seq` numbers each stream that opens.
    pub(crate) fn feed(
        &mut self,
        direction: Direction,
        bytes: &[u8],
        mut open_seq: impl FnMut() -> u64,
    ) -> Changes {
        let mut changes = Changes::default();
        let Http2Frames {
            sent,
            received,
            highest_opened,
            open,
        } = self;
        let reader = match direction {
            Direction::Sent => sent,
            Direction::Received => received,
        };
        reader.feed(bytes, |kind, flags, stream| {
            if stream == 0 {
                changes.goaway |= direction == Direction::Received && kind == GOAWAY;
                return;
            }
            if direction == Direction::Sent && kind == HEADERS && stream > *highest_opened {
                *highest_opened = stream;
                open.insert(
                    stream,
                    OpenStream {
                        seq: open_seq(),
                        sent_end: false,
                        received_end: false,
                    },
                );
                changes.opened += 1;
            }
            let closed = match (kind, open.get_mut(&stream)) {
                (RST_STREAM, Some(_)) => true,
                (DATA | HEADERS, Some(s)) if flags & END_STREAM != 0 => {
                    match direction {
                        Direction::Sent => s.sent_end = true,
                        Direction::Received => s.received_end = true,
                    }
                    s.sent_end && s.received_end
                }
                _ => false,
            };
            if closed {
                open.remove(&stream);
                changes.closed += 1;
            }
        });
        changes
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One frame: its 9-byte header, then `payload`.
    pub(crate) fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len() as u32;
        let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn client_bytes() -> Vec<u8> {
        let mut b = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        b.extend(frame(0x4, 0, 0, &[0; 6])); // SETTINGS
        b.extend(frame(HEADERS, 0x4 | END_STREAM, 1, b"hpack")); // GET, no body
        b.extend(frame(HEADERS, 0x4, 3, b"hpack")); // POST
        b.extend(frame(DATA, 0, 3, b"hello "));
        b.extend(frame(DATA, END_STREAM, 3, b"world"));
        b.extend(frame(HEADERS, 0x4, 5, b"hpack")); // cancelled below
        b.extend(frame(RST_STREAM, 0, 5, &[0, 0, 0, 8]));
        b
    }

    fn server_bytes() -> Vec<u8> {
        let mut b = frame(0x4, 0, 0, &[]);
        b.extend(frame(HEADERS, 0x4, 1, b"200"));
        b.extend(frame(DATA, END_STREAM, 1, b"ok"));
        b.extend(frame(HEADERS, 0x4 | END_STREAM, 3, b"204"));
        b
    }

    #[test]
    fn a_goaway_received_is_told_and_one_sent_is_not() {
        let mut t = Http2Frames::after_preface();
        let goaway = frame(GOAWAY, 0, 0, &[0, 0, 0, 3, 0, 0, 0, 0]);
        assert!(!t.feed(Direction::Sent, &goaway, seq()).goaway);
        // SETTINGS, PING and WINDOW_UPDATE are the connection's too (stream 0): no GOAWAY.
        let mut others = frame(0x4, 0, 0, &[]);
        others.extend(frame(0x6, 0, 0, &[0; 8]));
        others.extend(frame(0x8, 0, 0, &[0, 0, 0, 1]));
        assert!(!t.feed(Direction::Received, &others, seq()).goaway);
        let mut received = frame(0x4, 0, 0, &[]);
        received.extend(&goaway);
        let told: Vec<bool> = received
            .chunks(5)
            .map(|chunk| t.feed(Direction::Received, chunk, seq()).goaway)
            .collect();
        // The GOAWAY's header ends at byte 18, in the fourth chunk of five bytes.
        assert_eq!(told, [false, false, false, true, false, false]);
    }

    fn seq() -> impl FnMut() -> u64 {
        let mut n = 0;
        move || {
            n += 1;
            n
        }
    }

    fn run(chunk: usize) -> (Changes, Changes, usize) {
        let mut t = Http2Frames::from_preface();
        let mut sent = Changes::default();
        for c in client_bytes().chunks(chunk) {
            let ch = t.feed(Direction::Sent, c, seq());
            sent.opened += ch.opened;
            sent.closed += ch.closed;
        }
        let mut received = Changes::default();
        for c in server_bytes().chunks(chunk) {
            let ch = t.feed(Direction::Received, c, seq());
            received.opened += ch.opened;
            received.closed += ch.closed;
        }
        (sent, received, t.open_streams())
    }

    #[test]
    fn streams_open_with_headers_and_close_when_both_sides_end_or_one_resets() {
        let (sent, received, open) = run(usize::MAX);
        assert_eq!(
            sent,
            Changes {
                opened: 3,
                closed: 1,
                goaway: false
            },
            "stream 5 was reset"
        );
        assert_eq!(
            received,
            Changes {
                opened: 0,
                closed: 2,
                goaway: false
            }
        );
        assert_eq!(open, 0);
    }

    #[test]
    fn any_chunking_gives_the_same_counts() {
        let whole = run(usize::MAX);
        for chunk in 1..40 {
            assert_eq!(run(chunk), whole, "chunks of {chunk}");
        }
    }

    #[test]
    fn a_stream_stays_open_until_the_response_ends() {
        let mut t = Http2Frames::after_preface();
        t.feed(
            Direction::Sent,
            &frame(HEADERS, 0x4 | END_STREAM, 1, b"x"),
            || 7,
        );
        t.feed(
            Direction::Sent,
            &frame(HEADERS, 0x4 | END_STREAM, 3, b"x"),
            || 8,
        );
        assert_eq!((t.open_streams(), t.oldest_open()), (2, Some(7)));
        t.feed(
            Direction::Received,
            &frame(HEADERS, 0x4, 1, b"200"),
            || unreachable!(),
        );
        assert_eq!(t.open_streams(), 2, "headers without END_STREAM");
        t.feed(
            Direction::Received,
            &frame(DATA, END_STREAM, 1, b""),
            || unreachable!(),
        );
        assert_eq!((t.open_streams(), t.oldest_open()), (1, Some(8)));
        t.feed(
            Direction::Received,
            &frame(RST_STREAM, 0, 3, &[0, 0, 0, 8]),
            || unreachable!(),
        );
        assert_eq!((t.open_streams(), t.oldest_open()), (0, None));
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Random frames in random chunks: the counts match a frame-by-frame reading, the
            /// reader never panics, and a stream is open only between its HEADERS and its
            /// close.
            #[test]
            fn frame_reading_does_not_depend_on_chunking(
                frames in prop::collection::vec((0u8..10, any::<u8>(), 0u32..8, prop::collection::vec(any::<u8>(), 0..40)), 0..30),
                chunk in 1usize..64,
            ) {
                let mut bytes = Vec::new();
                for (kind, flags, stream, payload) in &frames {
                    bytes.extend(frame(*kind, *flags, stream * 2 + 1, payload));
                }
                let mut whole = Http2Frames::after_preface();
                let a = whole.feed(Direction::Sent, &bytes, seq());
                let mut split = Http2Frames::after_preface();
                let mut b = Changes::default();
                let mut numbering = seq();
                for c in bytes.chunks(chunk) {
                    let ch = split.feed(Direction::Sent, c, &mut numbering);
                    b.opened += ch.opened;
                    b.closed += ch.closed;
                }
                prop_assert_eq!(&a, &b);
                prop_assert_eq!(whole.open_streams(), split.open_streams());
                prop_assert_eq!(a.opened - a.closed, whole.open_streams() as u64);
            }

            #[test]
            fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
                let mut t = Http2Frames::from_preface();
                t.feed(Direction::Sent, &bytes, seq());
                t.feed(Direction::Received, &bytes, seq());
            }

            /// Received bytes far past any frame size, frames with huge lengths among
            /// garbage, in any chunking: no panic, and what the server sends opens no stream.
            #[test]
            fn large_received_inputs_open_nothing(
                parts in prop::collection::vec(
                    prop_oneof![
                        (any::<u8>(), any::<u8>(), 0u32..100).prop_map(|(k, f, s)| frame(k % 10, f, s, b"x")),
                        (1usize..300_000).prop_map(|n| vec![0xffu8; n]),
                        prop::collection::vec(any::<u8>(), 0..4096),
                    ],
                    1..20,
                ),
                chunk in 1usize..70_000,
            ) {
                let bytes = parts.concat();
                let mut t = Http2Frames::after_preface();
                for piece in bytes.chunks(chunk) {
                    let changes = t.feed(Direction::Received, piece, seq());
                    prop_assert_eq!(changes.opened, 0);
                }
                prop_assert_eq!(t.open_streams(), 0);
            }
        }
    }
}
