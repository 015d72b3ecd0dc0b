//! What the layer and the pool know about one traced connection, for its whole life.
//!
//! The traced I/O keeps the counters from what it sees on the wire, so they hold whether or
//! not the requests were traced (a service that traces a sample of its requests still gets
//! exact reuse).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use httptrace::{
    ClientTrace, CloseReason, ConnClosedInfo, ConnectionInfo, HookKind, Http2ErrorCode,
    Http2GoAwayInfo, TraceError,
};

use crate::state::exchange_end::ExchangeEnd;
use crate::state::ids::RequestId;
use crate::state::stats::{ConnectionStats, Counters};
use crate::wire::http2_frames::GoAway;

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Orders HTTP/2 stream openings across all connections, so that a request can tell the
/// streams opened before it was handed to a connection from its own (`h2_stream.rs`).
static STREAM_SEQ: AtomicU64 = AtomicU64::new(1);

/// No stream: the largest sequence number.
const NONE: u64 = u64::MAX;

/// How many traced connections' states are alive in this process: a connection's state is
/// freed when the connection is closed and dropped from the pool. Tests use it to prove that
/// nothing leaks; it is also the number of open traced connections.
pub fn live_connection_states() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The sequence number the next HTTP/2 stream to open, on any connection, will get.
pub(crate) fn next_stream_seq() -> u64 {
    STREAM_SEQ.load(Ordering::Acquire)
}

/// Who hears of the connection's close, and how to tell that the client is gone.
pub(crate) struct CloseWatch {
    /// The `ConnClosed` and `Http2GoAway` hooks of the trace in effect when the connection
    /// was dialled, alone ([`ClientTrace::only_connection_hooks`]): nothing else of that
    /// request.
    pub(crate) trace: Option<ClientTrace>,
    /// Dead once every clone of the connector that made the connection is dropped.
    pub(crate) connector: Weak<ConnectionStats>,
}

impl CloseWatch {
    /// Nobody to tell.
    #[cfg(test)]
    pub(crate) fn none() -> Self {
        CloseWatch {
            trace: None,
            connector: Weak::new(),
        }
    }
}

pub(crate) struct ConnShared {
    pub(crate) info: ConnectionInfo,
    /// `host:port` as `GetConn` names the connector's destination (empty if unknown).
    pub(crate) destination: String,
    /// The request whose connector call made this connection.
    pub(crate) dialed_by: Option<RequestId>,
    pub(crate) established: Instant,
    /// Requests (HTTP/1 exchanges, HTTP/2 streams) carried so far, as seen on the wire.
    pub(crate) served: AtomicU64,
    /// The connection speaks HTTP/2 (ALPN, or the client preface was written).
    pub(crate) http2: AtomicBool,
    /// Traced requests handed to this HTTP/2 connection so far.
    pub(crate) h2_handoffs: AtomicU64,
    /// Traced HTTP/2 streams whose response has not ended yet.
    pub(crate) h2_traced_open: AtomicUsize,
    /// Sequence number of the first HTTP/2 stream opened, or `NONE`.
    first_stream_seq: AtomicU64,
    /// Sequence number of the oldest HTTP/2 stream still open, or `NONE`.
    oldest_open_seq: AtomicU64,
    /// When the connection last went idle (its last open stream ended), in nanoseconds since
    /// `established`.
    idle_since_nanos: AtomicU64,
    /// The latest exchange's end (`ExchangeEnd`), for `ConnClosed`.
    exchange: AtomicU8,
    /// A 1xx hook vetoed the request on it: the I/O reads as closed from now on.
    vetoed: AtomicBool,
    /// HTTP/2: the server sent GOAWAY (a stream handed to the connection may then be sent
    /// again elsewhere by hyper-util).
    goaway: AtomicBool,
    /// HTTP/2: the server's `SETTINGS_MAX_CONCURRENT_STREAMS`, or `NONE` before it sent one.
    peer_max_streams: AtomicU64,
    /// `close` has a `ConnClosed` hook.
    reports_close: bool,
    close: CloseWatch,
    /// The I/O closed while a traced exchange was in flight, without an error: whether it
    /// read the server's end of stream, and the connection's lifetime then. The exchange's
    /// end (or this state's drop) reports it.
    close_pending: Mutex<Option<(bool, Duration)>>,
    /// The connector's counters for the connection's destination.
    pub(crate) stats: Option<StatsEntry>,
    /// HTTP/2 streams open, as the frames say.
    h2_streams_open: AtomicUsize,
}

/// Where a connection counts itself: its client's stats, its destination's counters.
pub(crate) struct StatsEntry {
    pub(crate) stats: ConnectionStats,
    pub(crate) counters: Arc<Counters>,
}

impl ConnShared {
    pub(crate) fn new(
        info: ConnectionInfo,
        dialed_by: Option<RequestId>,
        close: CloseWatch,
    ) -> Arc<Self> {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Arc::new(ConnShared {
            info,
            destination: String::new(),
            dialed_by,
            established: Instant::now(),
            served: AtomicU64::new(0),
            http2: AtomicBool::new(false),
            h2_handoffs: AtomicU64::new(0),
            h2_traced_open: AtomicUsize::new(0),
            first_stream_seq: AtomicU64::new(NONE),
            oldest_open_seq: AtomicU64::new(NONE),
            idle_since_nanos: AtomicU64::new(0),
            exchange: AtomicU8::new(ExchangeEnd::Unknown as u8),
            vetoed: AtomicBool::new(false),
            goaway: AtomicBool::new(false),
            peer_max_streams: AtomicU64::new(NONE),
            reports_close: close
                .trace
                .as_ref()
                .is_some_and(|t| t.is_set(HookKind::ConnClosed)),
            close,
            close_pending: Mutex::new(None),
            stats: None,
            h2_streams_open: AtomicUsize::new(0),
        })
    }

    /// Whether anyone hears of this connection's close.
    pub(crate) fn reports_close(&self) -> bool {
        self.reports_close
    }

    /// Records how the latest exchange stands; an exchange that ended reports a close that
    /// was waiting for it.
    pub(crate) fn set_exchange(&self, end: ExchangeEnd) {
        if !self.reports_close() {
            self.exchange.store(end as u8, Ordering::Relaxed);
            return;
        }
        let pending = {
            let mut pending = self.close_pending.lock().unwrap_or_else(|e| e.into_inner());
            self.exchange.store(end as u8, Ordering::Relaxed);
            match end {
                ExchangeEnd::Unknown | ExchangeEnd::InFlight => None,
                _ => pending.take(),
            }
        };
        if let Some((read_eof, lifetime)) = pending {
            self.report_close(self.close_reason(read_eof, end), lifetime);
        }
    }

    /// A 1xx hook vetoed the request on this HTTP/1 connection (from the connection's task,
    /// inside the read that brought the 1xx): its I/O reads end of stream from now on, so
    /// hyper closes it before it can go back to the pool or carry another request.
    pub(crate) fn close_after_veto(&self) {
        self.set_exchange(ExchangeEnd::NotReusable);
        self.vetoed.store(true, Ordering::Release);
    }

    /// The server sent GOAWAY on this HTTP/2 connection: `Http2GoAway` to whoever hears of
    /// the connection's close.
    pub(crate) fn goaway_received(&self, goaway: GoAway) {
        self.goaway.store(true, Ordering::Release);
        if let Some(trace) = self.close.trace.as_ref() {
            if trace.is_set(HookKind::Http2GoAway) {
                let info = Http2GoAwayInfo::new(
                    self.info.clone(),
                    goaway.last_stream_id,
                    Http2ErrorCode(goaway.code),
                )
                .with_debug_data(&goaway.debug_data)
                .with_cut_streams(goaway.cut);
                trace.http2_goaway(&info);
            }
        }
    }

    /// The server's SETTINGS allow `max` streams at once on this HTTP/2 connection.
    pub(crate) fn set_peer_max_streams(&self, max: u32) {
        self.peer_max_streams
            .store(u64::from(max), Ordering::Relaxed);
    }

    /// Whether a stream handed to the connection now, with `traced_open` traced streams
    /// already held on it, has to wait for a place: the streams open (by the frames, or
    /// traced ones handed before it, whichever is more) are as many as the server allows.
    pub(crate) fn at_stream_limit(&self, traced_open: usize) -> bool {
        let open = self
            .h2_streams_open
            .load(Ordering::Relaxed)
            .max(traced_open);
        self.peer_max_streams()
            .is_some_and(|max| open as u64 >= u64::from(max))
    }

    /// The server's `SETTINGS_MAX_CONCURRENT_STREAMS`, once it sent one.
    pub(crate) fn peer_max_streams(&self) -> Option<u32> {
        u32::try_from(self.peer_max_streams.load(Ordering::Relaxed)).ok()
    }

    /// Every clone of the connector that made this connection is gone: its client, and the
    /// pool it would go back to, with them.
    pub(crate) fn client_gone(&self) -> bool {
        self.close.connector.strong_count() == 0
    }

    /// Whether the server sent GOAWAY on this HTTP/2 connection.
    pub(crate) fn going_away(&self) -> bool {
        self.goaway.load(Ordering::Acquire)
    }

    /// Whether the I/O must read as closed (see [`close_after_veto`](Self::close_after_veto)).
    #[inline]
    pub(crate) fn vetoed(&self) -> bool {
        self.vetoed.load(Ordering::Acquire)
    }

    /// The connection's I/O is dropped: tell `ConnClosed` why, from what was seen on it.
    ///
    /// hyper may close an HTTP/1 connection (after `Connection: close`, or a body dropped
    /// unread) before the layer has seen how the exchange ended; such a close waits for the
    /// exchange's end to say why.
    pub(crate) fn closed(&self, read_eof: bool, error: Option<TraceError>) {
        if !self.reports_close() {
            if self.stats.is_some() {
                // The layer does not track this connection's exchanges.
                let reason = match error {
                    Some(err) => Some(CloseReason::Error(err)),
                    None => self.close_evidence(read_eof, None),
                };
                self.count_close(reason.as_ref());
            }
            return;
        }
        let reason = if let Some(err) = error {
            CloseReason::Error(err)
        } else {
            let mut pending = self.close_pending.lock().unwrap_or_else(|e| e.into_inner());
            let exchange = ExchangeEnd::from_u8(self.exchange.load(Ordering::Relaxed));
            if exchange == ExchangeEnd::InFlight {
                *pending = Some((read_eof, self.established.elapsed()));
                return;
            }
            self.close_reason(read_eof, exchange)
        };
        self.report_close(reason, self.established.elapsed());
    }

    /// A decision of the layer's (not reusable, body dropped) explains a close the server may
    /// have joined in; then the server's end of stream; then a client that went away; then a
    /// request still in flight; else the pool dropped it while idle.
    fn close_reason(&self, read_eof: bool, exchange: ExchangeEnd) -> CloseReason {
        self.close_evidence(read_eof, Some(exchange))
            .unwrap_or(CloseReason::IdleTimeout)
    }

    /// What explains the close, in [`close_reason`](Self::close_reason)'s order: from the
    /// exchange when the layer tracks it (`None`: it does not), then what the I/O and the
    /// connector show. `None`: nothing does.
    fn close_evidence(&self, read_eof: bool, exchange: Option<ExchangeEnd>) -> Option<CloseReason> {
        match exchange {
            Some(ExchangeEnd::NotReusable) => return Some(CloseReason::NotReusable),
            Some(ExchangeEnd::DroppedUnread) => return Some(CloseReason::DroppedUnreadBody),
            _ => {}
        }
        let streams_open = self.oldest_open_seq.load(Ordering::Acquire) != NONE;
        if read_eof {
            Some(CloseReason::ServerClosed)
        } else if self.client_gone() {
            Some(CloseReason::PoolShutdown)
        } else if exchange == Some(ExchangeEnd::InFlight) || streams_open {
            Some(CloseReason::Abandoned)
        } else {
            None
        }
    }

    fn report_close(&self, reason: CloseReason, lifetime: Duration) {
        self.count_close(Some(&reason));
        if let Some(trace) = &self.close.trace {
            trace.conn_closed(&ConnClosedInfo::new(
                self.info.clone(),
                reason,
                self.served.load(Ordering::Relaxed),
                lifetime,
            ));
        }
    }

    pub(crate) fn is_http2(&self) -> bool {
        self.http2.load(Ordering::Relaxed)
    }

    /// The connection speaks HTTP/2 (ALPN chose it, or the client wrote the preface): said
    /// once.
    pub(crate) fn speaks_http2(&self) {
        self.http2.store(true, Ordering::Relaxed);
        if let Some(entry) = &self.stats {
            entry.counters.speaks_http2();
        }
    }

    /// The connection carries a request; `reused` if it carried one before.
    pub(crate) fn count_request(&self, reused: bool) {
        if let Some(entry) = &self.stats {
            entry.counters.request(reused);
        }
    }

    /// The frames say `open` HTTP/2 streams are open now.
    pub(crate) fn count_streams(&self, open: usize) {
        let before = self.h2_streams_open.swap(open, Ordering::Relaxed);
        if let Some(entry) = &self.stats {
            if before != open {
                entry.counters.streams(before, open);
            }
        }
    }

    /// A traced request's stream starts (`true`) or stops (`false`) waiting for its place
    /// on this connection.
    pub(crate) fn stream_waiting(&self, waiting: bool) {
        if let Some(entry) = &self.stats {
            entry.counters.stream_waiting(waiting);
        }
    }

    /// The connection's I/O was unwrapped: no longer counted open.
    pub(crate) fn released(&self) {
        self.leave_stats(None);
    }

    /// The connection closed, for `reason` if known: its destination's counters say so.
    fn count_close(&self, reason: Option<&CloseReason>) {
        self.leave_stats(Some(reason));
    }

    /// The connection is no longer counted open (nor its HTTP/2 streams); `closed`: it
    /// closed, for the reason if known (else its I/O was unwrapped, its end unknown).
    fn leave_stats(&self, closed: Option<Option<&CloseReason>>) {
        let Some(entry) = &self.stats else { return };
        if self.is_http2() {
            let streams = self.h2_streams_open.swap(0, Ordering::Relaxed);
            entry.counters.http2_closed(streams);
        }
        match closed {
            Some(reason) => entry
                .stats
                .closed(&self.destination, &entry.counters, reason),
            None => entry.stats.released(&self.destination, &entry.counters),
        }
    }

    /// A stream opened on the wire; returns its sequence number.
    pub(crate) fn stream_opened(&self) -> u64 {
        let seq = STREAM_SEQ.fetch_add(1, Ordering::AcqRel);
        let before = self.served.fetch_add(1, Ordering::Relaxed);
        self.count_request(before > 0);
        let _ =
            self.first_stream_seq
                .compare_exchange(NONE, seq, Ordering::AcqRel, Ordering::Acquire);
        seq
    }

    /// The oldest open stream is now `oldest` (`None`: the connection went idle now).
    pub(crate) fn set_oldest_open(&self, oldest: Option<u64>) {
        if oldest.is_none() {
            let nanos = self
                .established
                .elapsed()
                .as_nanos()
                .min(u128::from(u64::MAX)) as u64;
            self.idle_since_nanos.store(nanos, Ordering::Relaxed);
        }
        self.oldest_open_seq
            .store(oldest.unwrap_or(NONE), Ordering::Release);
    }

    /// Whether a stream opened before sequence number `seq`.
    pub(crate) fn opened_before(&self, seq: u64) -> bool {
        self.first_stream_seq.load(Ordering::Acquire) < seq
    }

    /// Whether a stream opened before `seq` is still open.
    pub(crate) fn open_from_before(&self, seq: u64) -> bool {
        self.oldest_open_seq.load(Ordering::Acquire) < seq
    }

    /// Since when the connection has carried nothing (its last stream's end, or its start).
    pub(crate) fn idle_since(&self) -> Instant {
        self.established + Duration::from_nanos(self.idle_since_nanos.load(Ordering::Relaxed))
    }
}

impl Drop for ConnShared {
    fn drop(&mut self) {
        // Closed in flight, and the exchange never ended (its request was dropped).
        let pending = self.close_pending.get_mut().map_or(None, Option::take);
        if let Some((read_eof, lifetime)) = pending {
            self.report_close(self.close_reason(read_eof, ExchangeEnd::InFlight), lifetime);
        }
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use httptrace::ConnectionId;

    use super::*;

    /// A connection whose close is told to the returned list (as `CloseReason`'s
    /// `Display`), its connector alive while the returned `Arc<ConnectionStats>` is.
    pub(crate) fn watched() -> (
        Arc<ConnShared>,
        Arc<Mutex<Vec<String>>>,
        Arc<ConnectionStats>,
    ) {
        let reasons = Arc::new(Mutex::new(Vec::new()));
        let seen = reasons.clone();
        let connector = Arc::new(ConnectionStats::default());
        let close = CloseWatch {
            trace: Some(
                ClientTrace::new()
                    .on_conn_closed(move |c| seen.lock().unwrap().push(c.reason.to_string())),
            ),
            connector: Arc::downgrade(&connector),
        };
        let info = ConnectionInfo::new(ConnectionId::next(), None, None);
        (ConnShared::new(info, None, close), reasons, connector)
    }

    /// An HTTP/2 connection dropped by the client with a stream still open, without an
    /// error or the server's end: that stream was abandoned. With none open: idle.
    #[test]
    fn an_http2_close_with_a_stream_open_is_abandoned_and_without_is_idle() {
        for (open, expected) in [(true, "abandoned"), (false, "idle timeout")] {
            let (conn, reasons, _connector) = watched();
            let seq = conn.stream_opened();
            conn.set_oldest_open(Some(seq));
            if !open {
                conn.set_oldest_open(None);
            }
            conn.closed(false, None);
            assert_eq!(*reasons.lock().unwrap(), [expected]);
        }
    }

    /// A request handed to a connection when sequence number `seq` was next counts only
    /// streams numbered below `seq` as others' (`h2_stream::stream_started`): one numbered
    /// `seq` may be its own.
    #[test]
    fn a_stream_numbered_at_the_hand_off_is_not_open_from_before_it() {
        let (conn, _reasons, _connector) = watched();
        let seq = conn.stream_opened();
        conn.set_oldest_open(Some(seq));
        assert!(!conn.open_from_before(seq));
        assert!(conn.open_from_before(seq + 1));
        assert!(!conn.opened_before(seq));
        assert!(conn.opened_before(seq + 1));
    }
}
