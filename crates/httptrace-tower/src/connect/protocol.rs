//! What a connection speaks, learned from its first write (the HTTP/2 preface, or not), and
//! what each of its I/O calls tells the tracker of that protocol: [`Http1Tracker`] for an
//! HTTP/1 connection's requests, [`Http2Frames`] for an HTTP/2 connection's streams.

use std::sync::Arc;

use super::http1_tracker::Http1Tracker;
use crate::state::connection::ConnShared;
use crate::state::handoff;
use crate::state::serving;
use crate::wire::http2_frames::Http2Frames;
use crate::wire::http2_streams::Direction;

/// The HTTP/2 client preface; a connection whose first bytes are these speaks HTTP/2.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0";

/// What the connection speaks, once known.
pub(super) enum Wire {
    /// Nothing written yet (an HTTP/1 client writes nothing before its first request).
    Unknown,
    Http1(Http1Tracker),
    Http2(Http2Frames),
}

impl Wire {
    /// Before `first()` is written (the first non-empty slice, found only if the protocol is
    /// not known yet); `handle_in_connected` says whether the connection's `Connected`
    /// carries its handle.
    #[inline]
    pub(super) fn before_write<'a>(
        &mut self,
        shared: &Arc<ConnShared>,
        handle_in_connected: bool,
        first: impl FnOnce() -> &'a [u8],
    ) {
        match self {
            // An HTTP/1 connection's every write: no other branch on the way.
            Wire::Http1(h1) => h1.before_write(shared),
            _ => self.before_other_write(shared, handle_in_connected, first()),
        }
    }

    /// [`before_write`](Self::before_write) on a connection not (yet) known to speak HTTP/1.
    fn before_other_write(
        &mut self,
        shared: &Arc<ConnShared>,
        handle_in_connected: bool,
        first: &[u8],
    ) {
        if matches!(self, Wire::Unknown) && !first.is_empty() {
            let n = first.len().min(H2_PREFACE.len());
            *self = if first[..n] == H2_PREFACE[..n] {
                if !handle_in_connected {
                    warn_prior_knowledge_without_handle();
                }
                shared.speaks_http2();
                Wire::Http2(Http2Frames::from_preface())
            } else {
                serving::speaks_http1(shared);
                Wire::Http1(Http1Tracker::new())
            };
        }
        match self {
            Wire::Http1(h1) => h1.before_write(shared),
            // Requests on HTTP/2 are traced from the layer (`h2_stream.rs`).
            Wire::Http2(_) => handoff::discard_offered(),
            Wire::Unknown => {}
        }
    }

    pub(super) fn after_write<'a>(
        &mut self,
        shared: &ConnShared,
        slices: impl IntoIterator<Item = &'a [u8]>,
        mut n: usize,
    ) {
        match self {
            Wire::Http1(h1) => h1.after_write(slices, n),
            Wire::Http2(h2) => {
                for slice in slices {
                    if n == 0 {
                        break;
                    }
                    let part = &slice[..slice.len().min(n)];
                    n -= part.len();
                    feed_h2(h2, shared, Direction::Sent, part);
                }
            }
            Wire::Unknown => {}
        }
    }

    #[inline]
    pub(super) fn after_read(&mut self, shared: &ConnShared, bytes: &[u8]) {
        match self {
            Wire::Http1(h1) => h1.after_read(bytes),
            Wire::Http2(h2) => feed_h2(h2, shared, Direction::Received, bytes),
            Wire::Unknown => {}
        }
    }

    #[inline]
    pub(super) fn after_flush(&mut self) {
        if let Wire::Http1(h1) = self {
            h1.after_flush();
        }
    }

    pub(super) fn write_failed(&mut self, err: &std::io::Error) {
        if let Wire::Http1(h1) = self {
            h1.write_failed(err);
        }
    }
}

/// HTTP/2 by prior knowledge on a connection whose connector was told
/// `http2_only_by_alpn`: the layer cannot find its streams' connection. Said once per
/// process, as a `tracing` warning (feature `tracing`), since the hooks' silence would not.
fn warn_prior_knowledge_without_handle() {
    #[cfg(feature = "tracing")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            tracing::warn!(
                target: "httptrace",
                "a TraceConnector told http2_only_by_alpn carries HTTP/2 by prior knowledge \
                 (a client built with http2_only): unless the client spawns through a \
                 TraceExecutor, its streams' GotConn, WroteHeaderField, WroteHeaders and \
                 WroteRequest do not fire; do not tell it http2_only_by_alpn"
            );
        });
    }
}

fn feed_h2(h2: &mut Http2Frames, shared: &ConnShared, direction: Direction, bytes: &[u8]) {
    let changes = h2.feed(direction, bytes, || shared.stream_opened());
    if changes.opened > 0 || changes.closed > 0 {
        shared.set_oldest_open(h2.oldest_open());
        shared.count_streams(h2.open_streams());
    }
    if let Some(max) = changes.max_concurrent_streams {
        shared.set_peer_max_streams(max);
    }
    if let Some(goaway) = changes.goaway {
        shared.goaway_received(goaway);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Instant;

    use super::*;
    use crate::state::connection::tests::watched;

    const HEADERS_FRAME: u8 = 0x1;

    /// An HTTP/2 frame with a 5-byte payload.
    fn frame(kind: u8, flags: u8, stream: u32) -> Vec<u8> {
        crate::wire::http2_frames::tests::frame(kind, flags, stream, b"hpack")
    }

    /// A vectored write the socket took only part of: the frames of the part not written
    /// are read when it is, once.
    #[test]
    fn a_partial_http2_write_reads_only_what_was_written() {
        let (conn, _reasons, _connector) = watched();
        let mut wire = Wire::Http2(Http2Frames::after_preface());
        let (one, three) = (frame(HEADERS_FRAME, 4, 1), frame(HEADERS_FRAME, 4, 3));
        wire.after_write(&conn, [&one[..], &three[..]], one.len());
        assert_eq!(conn.served.load(Ordering::Relaxed), 1);
        assert!(conn.open_from_before(u64::MAX), "a stream is open");
        wire.after_write(&conn, [&three[..]], three.len());
        assert_eq!(conn.served.load(Ordering::Relaxed), 2);
        let Wire::Http2(h2) = &wire else {
            unreachable!()
        };
        assert_eq!(h2.open_streams(), 2);
    }

    /// A frame that opens or closes no stream (a PING, SETTINGS) leaves an idle
    /// connection's idle time running from its last stream's end.
    #[test]
    fn frames_on_an_idle_http2_connection_leave_its_idle_time_alone() {
        let (conn, _reasons, _connector) = watched();
        let mut wire = Wire::Http2(Http2Frames::after_preface());
        let whole = frame(HEADERS_FRAME, 4 | 1, 1); // END_HEADERS | END_STREAM
        wire.after_write(&conn, [&whole[..]], whole.len());
        wire.after_read(&conn, &whole);
        assert!(!conn.open_from_before(u64::MAX), "its one stream ended");
        let idle = conn.idle_since();
        while Instant::now() <= idle {
            std::hint::spin_loop(); // until an instant after it can be told apart
        }
        let (ping, settings) = (frame(0x6, 0, 0), frame(0x4, 0, 0));
        wire.after_read(&conn, &ping);
        wire.after_read(&conn, &settings);
        assert_eq!(conn.idle_since(), idle);
    }
}
