//! Splits one direction of an HTTP/2 connection into frames (RFC 9113, 4.1), across any
//! chunking: each 9-byte header, and the few payloads asked for, of which at most
//! [`PAYLOAD_LIMIT`] bytes are kept; the rest of every payload is skipped by length.

pub(crate) const HEADER_LEN: usize = 9;
pub(crate) const SETTINGS: u8 = 0x4;
pub(crate) const GOAWAY: u8 = 0x7;
pub(crate) const ACK: u8 = 0x1;
const SETTINGS_MAX_CONCURRENT_STREAMS: u16 = 0x3;

/// At most this many bytes of a SETTINGS or GOAWAY payload are read (44 settings; a GOAWAY's
/// 8 fixed bytes and 256 of debug data); the rest is skipped.
pub(crate) const PAYLOAD_LIMIT: usize = 8 + httptrace::GOAWAY_DEBUG_DATA_LIMIT;

/// What a [`FrameReader`] found in the bytes it was fed.
pub(crate) enum Found<'a> {
    /// A frame's header: its type, flags and stream.
    Header(u8, u8, u32),
    /// The end of a payload that was kept (up to [`PAYLOAD_LIMIT`] bytes of it): its type
    /// and what was kept.
    Payload(u8, &'a [u8]),
}

/// Splits one direction's bytes into frame headers, across any chunking, and keeps the
/// payloads `keep` asks for.
#[derive(Debug)]
pub(crate) struct FrameReader {
    /// Bytes still to skip: the preface, then each frame's payload (past what is kept).
    skip: usize,
    header: [u8; HEADER_LEN],
    have: usize,
    /// The payload being kept, its frame type, and how many bytes it still wants.
    kept: Vec<u8>,
    keeping: Option<(u8, usize)>,
}

impl FrameReader {
    pub(crate) fn new(skip: usize) -> Self {
        FrameReader {
            skip,
            header: [0; HEADER_LEN],
            have: 0,
            kept: Vec::new(),
            keeping: None,
        }
    }

    /// Calls `found` for each complete frame header in `bytes`, and for each end of a payload
    /// that `keep(type, flags, stream)` asked to keep.
    pub(crate) fn feed(
        &mut self,
        mut bytes: &[u8],
        keep: impl Fn(u8, u8, u32) -> bool,
        mut found: impl FnMut(Found<'_>),
    ) {
        loop {
            if let Some((kind, wanted)) = self.keeping {
                let n = wanted.min(bytes.len());
                self.kept.extend_from_slice(&bytes[..n]);
                bytes = &bytes[n..];
                if n < wanted {
                    self.keeping = Some((kind, wanted - n));
                    return;
                }
                self.keeping = None;
                found(Found::Payload(kind, &self.kept));
                self.kept.clear();
            }
            if bytes.is_empty() {
                return;
            }
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip -= n;
                bytes = &bytes[n..];
                continue;
            }
            let h = match bytes.split_first_chunk::<HEADER_LEN>() {
                // A whole header at hand (the usual case): read in place.
                Some((h, rest)) if self.have == 0 => {
                    bytes = rest;
                    *h
                }
                // A header split across chunks: gathered.
                _ => {
                    let n = (HEADER_LEN - self.have).min(bytes.len());
                    self.header[self.have..self.have + n].copy_from_slice(&bytes[..n]);
                    self.have += n;
                    bytes = &bytes[n..];
                    if self.have < HEADER_LEN {
                        continue;
                    }
                    self.have = 0;
                    self.header
                }
            };
            let len = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
            let stream = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
            self.skip = len;
            found(Found::Header(h[3], h[4], stream));
            if keep(h[3], h[4], stream) {
                let kept = len.min(PAYLOAD_LIMIT);
                self.skip = len - kept;
                self.keeping = Some((h[3], kept));
            }
        }
    }
}

/// The server's frames whose payload the hooks need: its SETTINGS (not their ACK) and GOAWAY.
pub(crate) fn kept_from_server(kind: u8, flags: u8, stream: u32) -> bool {
    stream == 0 && (kind == GOAWAY || (kind == SETTINGS && flags & ACK == 0))
}

/// The `SETTINGS_MAX_CONCURRENT_STREAMS` of a SETTINGS payload: its last value, if any.
pub(crate) fn max_concurrent_streams(payload: &[u8]) -> Option<u32> {
    payload
        .chunks_exact(6)
        .rev()
        .find(|s| u16::from_be_bytes([s[0], s[1]]) == SETTINGS_MAX_CONCURRENT_STREAMS)
        .map(|s| u32::from_be_bytes([s[2], s[3], s[4], s[5]]))
}
