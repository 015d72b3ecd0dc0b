//! Reads HTTP/2 frame headers in both directions of a connection to know, whatever was traced,
//! how many streams it has carried, how many are open, and when it last went idle; and the
//! few payloads the hooks report from: the server's SETTINGS (its
//! `SETTINGS_MAX_CONCURRENT_STREAMS`) and its GOAWAY (last-stream-id, code, debug data).
//!
//! The 9-byte frame headers are read (RFC 9113, 4.1); payloads are skipped by length, but for
//! those two, of which at most `PAYLOAD_LIMIT` bytes are kept (`http2_frame_reader.rs`). What
//! they say of each client stream (opened by HEADERS; ended by END_STREAM on both sides, a
//! reset, or a GOAWAY below it) is kept by `http2_streams.rs`.

use crate::wire::http2_frame_reader::{
    kept_from_server, max_concurrent_streams, Found, FrameReader, SETTINGS,
};
#[cfg(test)]
use crate::wire::http2_frame_reader::{ACK, GOAWAY, PAYLOAD_LIMIT};
use crate::wire::http2_streams::{Direction, OpenStreams};

const PREFACE_LEN: usize = 24;
const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const END_STREAM: u8 = 0x1;

/// What changed, for the connection's counters.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    pub(crate) opened: u64,
    pub(crate) closed: u64,
    /// The server sent GOAWAY: no stream opens on the connection any more.
    pub(crate) goaway: Option<GoAway>,
    /// The server's SETTINGS said how many streams it allows at once.
    pub(crate) max_concurrent_streams: Option<u32>,
}

/// A GOAWAY the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GoAway {
    pub(crate) last_stream_id: u32,
    pub(crate) code: u32,
    /// As much of its debug data as was read.
    pub(crate) debug_data: Vec<u8>,
    /// The client's open streams above `last_stream_id`: cut, now closed.
    pub(crate) cut: Vec<u32>,
}

/// The streams of one HTTP/2 connection, as seen on the wire.
#[derive(Debug)]
pub(crate) struct Http2Frames {
    sent: FrameReader,
    received: FrameReader,
    open: OpenStreams,
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
            open: OpenStreams::default(),
        }
    }

    /// How many of the client's streams are open.
    pub(crate) fn open_streams(&self) -> usize {
        self.open.len()
    }

    /// The sequence number of the oldest stream still open.
    pub(crate) fn oldest_open(&self) -> Option<u64> {
        self.open.oldest_open()
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
            open,
        } = self;
        let reader = match direction {
            Direction::Sent => sent,
            Direction::Received => received,
        };
        let keep = |kind, flags, stream| {
            direction == Direction::Received && kept_from_server(kind, flags, stream)
        };
        reader.feed(bytes, keep, |found| {
            let (kind, flags, stream) = match found {
                Found::Header(kind, flags, stream) => (kind, flags, stream),
                Found::Payload(SETTINGS, payload) => {
                    if let Some(max) = max_concurrent_streams(payload) {
                        changes.max_concurrent_streams = Some(max);
                    }
                    return;
                }
                Found::Payload(_, payload) => {
                    // GOAWAY: the streams above its last-stream-id were not processed.
                    let word = |at: usize| {
                        payload
                            .get(at..at + 4)
                            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    };
                    let last_stream_id = word(0) & 0x7fff_ffff;
                    let cut = open.cut_above(last_stream_id);
                    changes.closed += cut.len() as u64;
                    changes.goaway = Some(GoAway {
                        last_stream_id,
                        code: word(4),
                        debug_data: payload.get(8..).unwrap_or_default().to_vec(),
                        cut,
                    });
                    return;
                }
            };
            if stream == 0 {
                return;
            }
            if direction == Direction::Sent
                && kind == HEADERS
                && open.headers_sent(stream, &mut open_seq)
            {
                changes.opened += 1;
            }
            // Only a frame that ends its stream changes it: no other is looked up.
            let ends = match kind {
                RST_STREAM => true,
                DATA | HEADERS => flags & END_STREAM != 0,
                _ => false,
            };
            if ends && open.ended(stream, direction, kind == RST_STREAM) {
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
        assert!(t.feed(Direction::Sent, &goaway, seq()).goaway.is_none());
        // SETTINGS, PING and WINDOW_UPDATE are the connection's too (stream 0): no GOAWAY.
        let mut others = frame(0x4, 0, 0, &[]);
        others.extend(frame(0x6, 0, 0, &[0; 8]));
        others.extend(frame(0x8, 0, 0, &[0, 0, 0, 1]));
        assert!(t.feed(Direction::Received, &others, seq()).goaway.is_none());
        let mut received = frame(0x4, 0, 0, &[]);
        received.extend(&goaway);
        let told: Vec<bool> = received
            .chunks(5)
            .map(|chunk| t.feed(Direction::Received, chunk, seq()).goaway.is_some())
            .collect();
        // The GOAWAY's payload ends at byte 26, in the sixth chunk of five bytes.
        assert_eq!(told, [false, false, false, false, false, true]);
    }

    #[test]
    fn a_goaway_tells_its_fields_and_closes_the_streams_it_cut() {
        let mut t = Http2Frames::after_preface();
        for stream in [1, 3, 5] {
            t.feed(Direction::Sent, &frame(HEADERS, 0x5, stream, b"x"), seq());
        }
        let mut payload = 1u32.to_be_bytes().to_vec();
        payload.extend(2u32.to_be_bytes()); // INTERNAL_ERROR
        payload.extend(vec![b'd'; 1000]);
        let bytes = frame(GOAWAY, 0, 0, &payload);
        let mut told = None;
        let mut closed = 0;
        for chunk in bytes.chunks(7) {
            let changes = t.feed(Direction::Received, chunk, seq());
            closed += changes.closed;
            told = told.or(changes.goaway);
        }
        let goaway = told.expect("told once its payload is read");
        assert_eq!((goaway.last_stream_id, goaway.code), (1, 2));
        assert_eq!(
            goaway.debug_data.len(),
            PAYLOAD_LIMIT - 8,
            "kept up to the limit"
        );
        let mut cut = goaway.cut;
        cut.sort_unstable();
        assert_eq!(cut, [3, 5]);
        assert_eq!(
            (closed, t.open_streams()),
            (2, 1),
            "stream 1 is still the server's"
        );
        // The bytes past the kept part were skipped: the next frame reads as one.
        let next = frame(HEADERS, 0x5, 1, b"200");
        assert_eq!(t.feed(Direction::Received, &next, seq()).closed, 1);
    }

    #[test]
    fn the_server_settings_say_its_stream_limit_and_their_ack_does_not() {
        let mut t = Http2Frames::after_preface();
        let setting = |id: u16, value: u32| {
            let mut s = id.to_be_bytes().to_vec();
            s.extend(value.to_be_bytes());
            s
        };
        let mut payload = setting(0x4, 65_535);
        payload.extend(setting(0x3, 100));
        payload.extend(setting(0x3, 1)); // the last value counts
        let mut bytes = frame(0x4, 0, 0, &payload);
        bytes.extend(frame(0x4, ACK, 0, &[]));
        let told: Vec<_> = bytes
            .chunks(4)
            .filter_map(|c| t.feed(Direction::Received, c, seq()).max_concurrent_streams)
            .collect();
        assert_eq!(told, [1]);
        // The client's own SETTINGS say nothing of the server's limit.
        let sent = t.feed(Direction::Sent, &frame(0x4, 0, 0, &setting(0x3, 7)), seq());
        assert_eq!(sent.max_concurrent_streams, None);
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
                ..Changes::default()
            },
            "stream 5 was reset"
        );
        assert_eq!(
            received,
            Changes {
                opened: 0,
                closed: 2,
                ..Changes::default()
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
