//! The arguments of the HTTP/2 hooks (not in Go): a stream gets its slot on a connection, a
//! stream is reset, a connection is told to go away.

use std::fmt;
use std::time::Duration;

use crate::info::go::ConnectionInfo;

/// An HTTP/2 error code (RFC 9113, section 7), as carried by `RST_STREAM` and `GOAWAY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Http2ErrorCode(pub u32);

impl Http2ErrorCode {
    /// `NO_ERROR` (0x0): a graceful shutdown.
    pub const NO_ERROR: Self = Http2ErrorCode(0x0);
    /// `PROTOCOL_ERROR` (0x1).
    pub const PROTOCOL_ERROR: Self = Http2ErrorCode(0x1);
    /// `INTERNAL_ERROR` (0x2).
    pub const INTERNAL_ERROR: Self = Http2ErrorCode(0x2);
    /// `REFUSED_STREAM` (0x7): the server did not process the stream; it may be retried.
    pub const REFUSED_STREAM: Self = Http2ErrorCode(0x7);
    /// `CANCEL` (0x8): the stream is no longer needed.
    pub const CANCEL: Self = Http2ErrorCode(0x8);
    /// `ENHANCE_YOUR_CALM` (0xb): the peer is generating excessive load.
    pub const ENHANCE_YOUR_CALM: Self = Http2ErrorCode(0xb);

    /// The code's name in RFC 9113 (`"CANCEL"`, ...), or `None` for a code it does not
    /// define (an unknown code means `INTERNAL_ERROR`, but is reported as sent).
    pub fn name(self) -> Option<&'static str> {
        const NAMES: [&str; 14] = [
            "NO_ERROR",
            "PROTOCOL_ERROR",
            "INTERNAL_ERROR",
            "FLOW_CONTROL_ERROR",
            "SETTINGS_TIMEOUT",
            "STREAM_CLOSED",
            "FRAME_SIZE_ERROR",
            "REFUSED_STREAM",
            "CANCEL",
            "COMPRESSION_ERROR",
            "CONNECT_ERROR",
            "ENHANCE_YOUR_CALM",
            "INADEQUATE_SECURITY",
            "HTTP_1_1_REQUIRED",
        ];
        NAMES.get(self.0 as usize).copied()
    }
}

impl fmt::Display for Http2ErrorCode {
    /// The name, or the number in hex for a code RFC 9113 does not define.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{:#x}", self.0),
        }
    }
}

/// `Http2StreamOpened` (not in Go): the request's HTTP/2 stream got its place on the
/// connection, and its HEADERS go out now. Go's HTTP/2 transport waits here too, between
/// `GotConn` and the header fields, when the connection carries as many streams as the
/// server allows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Http2StreamOpenedInfo {
    /// From `GotConn` to now: how long the request waited for a free stream (zero when the
    /// connection had room).
    pub waited: Duration,
    /// The server's `SETTINGS_MAX_CONCURRENT_STREAMS`, as last read on the connection;
    /// `None` if it sent none (no limit).
    pub max_concurrent_streams: Option<u32>,
}

impl Http2StreamOpenedInfo {
    /// A stream that waited `waited` for its place, under the server's limit.
    pub fn new(waited: Duration, max_concurrent_streams: Option<u32>) -> Self {
        Http2StreamOpenedInfo {
            waited,
            max_concurrent_streams,
        }
    }
}

/// Which end of an HTTP/2 connection sent a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Http2Sender {
    /// The server.
    Server,
    /// This client (its HTTP/2 library).
    Client,
}

impl Http2Sender {
    /// `"server"` or `"client"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Http2Sender::Server => "server",
            Http2Sender::Client => "client",
        }
    }
}

/// The frame that ended a stream before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetFrame {
    /// `RST_STREAM`: this stream alone.
    RstStream,
    /// `GOAWAY`: the connection's, whose last-stream-id is below this stream's (the server
    /// did not process it).
    GoAway,
}

impl ResetFrame {
    /// `"RST_STREAM"` or `"GOAWAY"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResetFrame::RstStream => "RST_STREAM",
            ResetFrame::GoAway => "GOAWAY",
        }
    }
}

/// `Http2StreamReset` (not in Go): the request's HTTP/2 stream ended before its end, with
/// an error code, by a `RST_STREAM` or by a `GOAWAY` that cut it. Fires once, before the
/// request's error (or its response body's) reaches the caller.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Http2StreamResetInfo {
    /// The error code the frame carried.
    pub code: Http2ErrorCode,
    /// Who sent the frame.
    pub sender: Http2Sender,
    /// Which frame it was.
    pub frame: ResetFrame,
}

impl Http2StreamResetInfo {
    /// A stream ended by `frame` from `sender`, with `code`.
    pub fn new(code: Http2ErrorCode, sender: Http2Sender, frame: ResetFrame) -> Self {
        Http2StreamResetInfo {
            code,
            sender,
            frame,
        }
    }
}

/// At most this many bytes of a `GOAWAY`'s debug data are kept.
pub const GOAWAY_DEBUG_DATA_LIMIT: usize = 256;

/// At most this many cut streams are listed in [`Http2GoAwayInfo::cut_streams`].
pub const GOAWAY_CUT_STREAMS_LIMIT: usize = 64;

/// `Http2GoAway` (not in Go): the server sent `GOAWAY` on an HTTP/2 connection: no new
/// stream opens on it, and the streams above `last_stream_id` were not processed.
///
/// Told like `ConnClosed`: to the trace of the request that dialled the connection, from the
/// connection's own task. Each request whose stream it cut hears `Http2StreamReset` too.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Http2GoAwayInfo {
    /// The connection.
    pub conn: ConnectionInfo,
    /// The highest stream id the server says it processed (or may still).
    pub last_stream_id: u32,
    /// Why: `NO_ERROR` for a graceful shutdown.
    pub code: Http2ErrorCode,
    /// The frame's debug data, as text (invalid UTF-8 replaced), cut at
    /// [`GOAWAY_DEBUG_DATA_LIMIT`] bytes. It comes from the server: treat it as untrusted.
    pub debug_data: String,
    /// The ids of this client's streams in flight that the frame cut (above
    /// `last_stream_id`), at most [`GOAWAY_CUT_STREAMS_LIMIT`] of them, lowest first.
    pub cut_streams: Vec<u32>,
    /// How many streams it cut, listed or not.
    pub cut_count: usize,
}

impl Http2GoAwayInfo {
    /// `GOAWAY` on `conn` naming `last_stream_id`, with `code`; no debug data, nothing cut.
    pub fn new(conn: ConnectionInfo, last_stream_id: u32, code: Http2ErrorCode) -> Self {
        Http2GoAwayInfo {
            conn,
            last_stream_id,
            code,
            debug_data: String::new(),
            cut_streams: Vec::new(),
            cut_count: 0,
        }
    }

    /// With the frame's debug data (cut at [`GOAWAY_DEBUG_DATA_LIMIT`] bytes).
    pub fn with_debug_data(mut self, debug_data: &[u8]) -> Self {
        let kept = &debug_data[..debug_data.len().min(GOAWAY_DEBUG_DATA_LIMIT)];
        self.debug_data = String::from_utf8_lossy(kept).into_owned();
        self
    }

    /// With the streams it cut (listed up to [`GOAWAY_CUT_STREAMS_LIMIT`], lowest first).
    pub fn with_cut_streams(mut self, mut cut: Vec<u32>) -> Self {
        cut.sort_unstable();
        self.cut_count = cut.len();
        cut.truncate(GOAWAY_CUT_STREAMS_LIMIT);
        self.cut_streams = cut;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::info::go::ConnectionId;

    #[test]
    fn codes_have_their_rfc_names_and_others_their_number() {
        assert_eq!(Http2ErrorCode::CANCEL.to_string(), "CANCEL");
        assert_eq!(Http2ErrorCode(0xd).to_string(), "HTTP_1_1_REQUIRED");
        assert_eq!(Http2ErrorCode(0xe).to_string(), "0xe");
        assert_eq!(Http2ErrorCode(u32::MAX).name(), None);
    }

    #[test]
    fn a_goaway_keeps_bounded_debug_data_and_cut_streams() {
        let conn = ConnectionInfo::new(ConnectionId::next(), None, None);
        let info = Http2GoAwayInfo::new(conn, 1, Http2ErrorCode::NO_ERROR)
            .with_debug_data(&[b'x'; 10_000])
            .with_cut_streams((0..1000).rev().map(|n| 2 * n + 3).collect());
        assert_eq!(info.debug_data.len(), GOAWAY_DEBUG_DATA_LIMIT);
        assert_eq!(info.cut_count, 1000);
        assert_eq!(info.cut_streams.len(), GOAWAY_CUT_STREAMS_LIMIT);
        assert_eq!(&info.cut_streams[..3], [3, 5, 7]);
        let invalid = Http2GoAwayInfo::new(info.conn.clone(), 0, Http2ErrorCode(0x2))
            .with_debug_data(b"bad \xff byte");
        assert_eq!(invalid.debug_data, "bad \u{fffd} byte");
    }
}
