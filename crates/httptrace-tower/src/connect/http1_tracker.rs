//! The per-connection state machine that turns I/O on an HTTP/1 connection into the hooks of
//! the request it carries: `GotConn`, `WroteHeaderField`, `WroteHeaders`, `WroteRequest`,
//! `GotFirstResponseByte`.
//!
//! HTTP/1 carries one request at a time: the client writes a request, reads its response,
//! and only then writes the next. So the first write after response bytes were read starts a
//! new exchange, traced or not (that is how reuse is counted), and the connection has at most
//! one owner: the traced request whose head it is writing or whose response it is reading. A
//! request becomes the owner when the connection first writes after hyper encoded that
//! request's head (see `handoff`).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use httptrace::{GotConnInfo, HookKind, TraceError};

use crate::state::connection::ConnShared;
use crate::state::exchange_end::ExchangeEnd;
use crate::state::handoff;
use crate::state::informational::informational;
use crate::state::lifecycle::Written;
use crate::state::request::RequestState;
use crate::wire::head::{HeadEvent, HeadScanner};
use crate::wire::interim::InterimScanner;

pub(crate) struct Http1Tracker {
    owner: Option<Weak<RequestState>>,
    scanner: HeadScanner,
    /// When a response byte last arrived: the end of the previous exchange.
    last_read: Option<Instant>,
    /// Response bytes arrived since the last write: the next write starts a new exchange.
    read_since_write: bool,
    /// Exchanges the connection carried before the current one.
    exchanges_before: u64,
    /// A traced request is bound to the current exchange.
    exchange_bound: bool,
    /// The owner's 1xx responses, read off the wire until the final response's status line
    /// (`watching_1xx`), when its hooks are not fed by hyper's informational callback.
    interim: InterimScanner,
    watching_1xx: bool,
}

impl Http1Tracker {
    pub(crate) fn new() -> Self {
        Http1Tracker {
            owner: None,
            scanner: HeadScanner::default(),
            last_read: None,
            read_since_write: true,
            exchanges_before: 0,
            exchange_bound: false,
            interim: InterimScanner::default(),
            watching_1xx: false,
        }
    }

    /// Before bytes are written: count a new exchange; take the traced request whose head is
    /// about to go out, if hyper just encoded one on this task.
    ///
    /// A response that arrives before its request is fully written (a server refusing an
    /// upload early) makes the rest of that request count as one more exchange: the count can
    /// run high then, never low, so `reused` stays right.
    pub(crate) fn before_write(&mut self, conn: &Arc<ConnShared>) {
        // hyper offers a request again while it streams its body: not a new hand-off.
        let offered = handoff::take_offered().filter(|req| !req.lifecycle.has_conn());
        // A second request handed over before any answer (pipelining, which hyper's client
        // does not do) is a new exchange too.
        if self.read_since_write || (offered.is_some() && self.exchange_bound) {
            self.read_since_write = false;
            self.exchange_bound = false;
            self.exchanges_before = conn.served.fetch_add(1, Ordering::Relaxed);
            conn.count_request(self.exchanges_before > 0);
            conn.set_exchange(ExchangeEnd::Unknown);
            self.watching_1xx = false;
        }
        if let Some(req) = offered {
            self.bind(conn, req);
        }
    }

    fn bind(&mut self, conn: &Arc<ConnShared>, req: Arc<RequestState>) {
        let reused = self.exchanges_before > 0;
        let was_idle = reused || conn.dialed_by != Some(req.id);
        let idle_since = if reused {
            self.last_read.unwrap_or(conn.established)
        } else {
            conn.established
        };
        let reuse = Reuse {
            reused,
            idle_since: was_idle.then_some(idle_since),
        };
        if !got_conn(&req, conn, reuse) {
            return;
        }
        req.handed_to(conn);
        self.exchange_bound = true;
        conn.set_exchange(ExchangeEnd::InFlight);
        // The head is read only for the hooks that report its fields or its end. Either way
        // the whole request is on the wire at the flush after its body's end: hyper flushes
        // the I/O only once its own buffer is empty.
        let fields = req.trace.is_set(HookKind::WroteHeaderField);
        if fields || req.expects_continue || req.trace.is_set(HookKind::WroteHeaders) {
            self.scanner.restart(fields);
        } else {
            self.scanner.skip_head();
        }
        self.watching_1xx = req.reads_1xx();
        if self.watching_1xx {
            self.interim.restart();
        }
        self.owner = Some(Arc::downgrade(&req));
    }

    #[inline]
    fn owner(&mut self) -> Option<Arc<RequestState>> {
        let req = self.owner.as_ref()?.upgrade();
        if req.is_none() {
            self.owner = None;
        }
        req
    }

    /// `written` bytes (of the slices offered) were accepted by the connection.
    pub(crate) fn after_write<'a>(
        &mut self,
        slices: impl IntoIterator<Item = &'a [u8]>,
        mut written: usize,
    ) {
        if self.scanner.is_done() {
            return;
        }
        let Some(req) = self.owner() else { return };
        for slice in slices {
            if written == 0 || self.scanner.is_done() {
                break;
            }
            let part = &slice[..slice.len().min(written)];
            written -= part.len();
            self.scanner.feed(part, |event| match event {
                HeadEvent::Field(field) => req.trace.wrote_header_field(&field),
                HeadEvent::End => req
                    .lifecycle
                    .wrote_headers(&req.trace, req.expects_continue),
            });
        }
    }

    /// hyper flushes the I/O only once its own buffer is empty: if the body has ended too,
    /// the whole request is on the wire.
    #[inline]
    pub(crate) fn after_flush(&mut self) {
        // Most flushes carry no traced request: checked before any call.
        if self.owner.is_some() {
            self.owner_flushed();
        }
    }

    fn owner_flushed(&mut self) {
        let Some(req) = self.owner() else { return };
        if self.scanner.is_done() && req.wrote_request(Written::Complete) {
            self.release_if_finished(&req);
        }
    }

    pub(crate) fn write_failed(&mut self, err: &std::io::Error) {
        let Some(req) = self.owner() else { return };
        req.wrote_request(Written::Failed(TraceError::describe(err)));
    }

    /// `bytes` arrived (none: end of stream).
    pub(crate) fn after_read(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.last_read = Some(Instant::now());
        self.read_since_write = true;
        let Some(req) = self.owner() else { return };
        let first = req.lifecycle.first_byte(&req.trace);
        if self.watching_1xx {
            let done = self.interim.feed(bytes, |status, headers| {
                informational(&req, status, headers);
            });
            self.watching_1xx = !done;
        }
        if first || !self.watching_1xx {
            self.release_if_finished(&req);
        }
    }

    /// Once the connection has nothing left to report for its owner, it stops holding it.
    fn release_if_finished(&mut self, req: &RequestState) {
        if req.lifecycle.has_written() && req.lifecycle.has_first_byte() && !self.watching_1xx {
            self.owner = None;
        }
    }
}

/// How an HTTP/1 request's connection was reused, for its `GotConn`.
pub(crate) struct Reuse {
    /// The connection carried exchanges before this one.
    pub(crate) reused: bool,
    /// Since when it had been idle, if it was (`None`: dialed for this request).
    pub(crate) idle_since: Option<Instant>,
}

/// `GotConn` for `req`, handed to HTTP/1 connection `conn`: the one place an HTTP/1 request
/// gets it (from the connection's I/O, or from its response when the I/O did not see the
/// hand-off). Whether it fired.
pub(crate) fn got_conn(req: &RequestState, conn: &Arc<ConnShared>, reuse: Reuse) -> bool {
    req.lifecycle.got_conn(&req.trace, || {
        let idle_time = reuse.idle_since.map_or(Duration::ZERO, |since| {
            Instant::now().saturating_duration_since(since)
        });
        GotConnInfo::new(
            conn.info.clone(),
            reuse.reused,
            reuse.idle_since.is_some(),
            idle_time,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::connection::CloseWatch;
    use crate::state::request::{OnTheWire, OneXx, RequestSetup};
    use httptrace::{ConnectionId, ConnectionInfo, EventLog};
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        /// hyper encoded request `i`'s head (its marker is dropped) and, in the same poll,
        /// the connection writes it (`true`) or the poll ends first (`false`).
        Encode(usize, bool),
        /// The connection writes a head no marker announced.
        WriteHead(usize),
        WriteBody,
        Flush,
        BodyEnds(usize),
        Read(usize),
        WriteFails,
        /// The caller dropped request `i`.
        DropRequest(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0..4usize, any::<bool>()).prop_map(|(i, w)| Op::Encode(i, w)),
            (0..4usize).prop_map(Op::WriteHead),
            Just(Op::WriteBody),
            Just(Op::Flush),
            (0..4usize).prop_map(Op::BodyEnds),
            (0..3usize).prop_map(Op::Read),
            Just(Op::WriteFails),
            (0..4usize).prop_map(Op::DropRequest),
        ]
    }

    fn write_head(tracker: &mut Http1Tracker, conn: &Arc<ConnShared>, i: usize) {
        let head = format!("GET /{i} HTTP/1.1\r\nhost: h\r\n\r\n");
        tracker.before_write(conn);
        tracker.after_write([head.as_bytes()], head.len());
    }

    fn fresh_conn() -> Arc<ConnShared> {
        ConnShared::new(
            ConnectionInfo::new(ConnectionId::next(), None, None),
            None,
            CloseWatch::none(),
        )
    }

    fn traced(log: &EventLog, reads_1xx: bool) -> Arc<RequestState> {
        state_of(log.trace(), reads_1xx)
    }

    fn state_of(trace: httptrace::ClientTrace, reads_1xx: bool) -> Arc<RequestState> {
        let one_xx = OneXx {
            read_off_the_wire: reads_1xx,
            may_abort: false,
            handed_over: None,
        };
        Arc::new(RequestState::new(RequestSetup {
            trace,
            h2_head: None,
            expects_continue: false,
            timings: None,
            call: None,
            on_the_wire: OnTheWire::new(&one_xx),
            may_be_http2: false,
            learn_linked: None,
        }))
    }

    /// A vectored write the socket took only part of: the fields of the part not written
    /// are reported when it is, once.
    #[test]
    fn a_partial_write_reports_only_what_was_written() {
        let (conn, log) = (fresh_conn(), EventLog::new());
        let req = traced(&log, false);
        let mut tracker = Http1Tracker::new();
        handoff::offer(&req);
        tracker.before_write(&conn);
        let (line, host, rest) = (
            &b"GET / HTTP/1.1\r\n"[..],
            &b"host: h\r\n"[..],
            &b"x-a: 1\r\n\r\n"[..],
        );
        tracker.after_write([line, host, rest], line.len() + host.len());
        // `host` is reported once the next line shows that no value of it follows.
        assert_eq!(log.names(), ["GotConn"]);
        tracker.before_write(&conn);
        tracker.after_write([rest], rest.len());
        assert_eq!(
            log.names(),
            [
                "GotConn",
                "WroteHeaderField",
                "WroteHeaderField",
                "WroteHeaders"
            ]
        );
    }

    /// The writes of one request's body, after its head, are that exchange's, not new ones.
    #[test]
    fn body_writes_after_the_head_are_the_same_exchange() {
        let (conn, log) = (fresh_conn(), EventLog::new());
        let req = traced(&log, false);
        let mut tracker = Http1Tracker::new();
        handoff::offer(&req);
        write_head(&mut tracker, &conn, 0);
        for _ in 0..3 {
            tracker.before_write(&conn);
            tracker.after_write([&b"body"[..]], 4);
        }
        assert_eq!(conn.served.load(Ordering::Relaxed), 1);
    }

    /// A trace with no hook on the head's fields or end (a timings recorder's, say) has the
    /// head left unread, and still hears `WroteRequest` at the flush after its body's end.
    #[test]
    fn a_head_nobody_reads_is_not_scanned_and_the_flush_still_ends_the_request() {
        let conn = fresh_conn();
        let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (got, wrote) = (heard.clone(), heard.clone());
        let trace = httptrace::ClientTrace::new()
            .on_got_conn(move |_| got.lock().unwrap().push("GotConn"))
            .on_wrote_request(move |_| wrote.lock().unwrap().push("WroteRequest"));
        let req = state_of(trace, false);
        let mut tracker = Http1Tracker::new();
        handoff::offer(&req);
        write_head(&mut tracker, &conn, 0);
        assert!(tracker.scanner.is_done(), "nothing of the head was wanted");
        tracker.after_flush();
        assert_eq!(
            *heard.lock().unwrap(),
            ["GotConn"],
            "the body has not ended"
        );
        req.lifecycle.body_ended();
        tracker.after_flush();
        assert_eq!(*heard.lock().unwrap(), ["GotConn", "WroteRequest"]);
    }

    /// A request's 1xx responses are read across reads: the first byte does not end the
    /// watch while an interim head may follow.
    #[test]
    fn informational_responses_are_read_across_reads() {
        let (conn, log) = (fresh_conn(), EventLog::new());
        let req = traced(&log, true);
        let mut tracker = Http1Tracker::new();
        handoff::offer(&req);
        write_head(&mut tracker, &conn, 0);
        req.lifecycle.body_ended();
        tracker.after_flush();
        tracker.after_read(b"HTTP/1.1 100 Continue\r\n\r\n");
        tracker.after_read(b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n");
        tracker.after_read(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        let names = log.names();
        let tail: Vec<_> = names
            .iter()
            .skip_while(|n| **n != "GotFirstResponseByte")
            .collect();
        assert_eq!(
            tail,
            [
                &"GotFirstResponseByte",
                &"Got100Continue",
                &"Got1xxResponse",
                &"Got1xxResponse"
            ]
        );
    }

    proptest! {
        /// Whatever the order of hand-offs, writes, reads, body ends, failures and dropped
        /// requests, each request's hooks are well formed, a request that was never handed
        /// over hears nothing, and reuse never runs ahead of the exchanges counted.
        #[test]
        fn any_interleaving_keeps_every_request_well_formed(ops in prop::collection::vec(op(), 0..60)) {
            let conn = ConnShared::new(
                ConnectionInfo::new(ConnectionId::next(), None, None),
                None,
                CloseWatch::none(),
            );
            let mut tracker = Http1Tracker::new();
            let logs: Vec<EventLog> = (0..4).map(|_| EventLog::new()).collect();
            let mut requests: Vec<Option<Arc<RequestState>>> =
                logs.iter().map(|l| Some(traced(l, false))).collect();
            let mut encoded = [false; 4];
            for op in ops {
                match op {
                    Op::Encode(i, write) => {
                        if let Some(r) = &requests[i] {
                            encoded[i] = true;
                            handoff::offer(r);
                        }
                        if write {
                            write_head(&mut tracker, &conn, i);
                        }
                    }
                    Op::WriteHead(i) => write_head(&mut tracker, &conn, i),
                    Op::WriteBody => {
                        tracker.before_write(&conn);
                        tracker.after_write([&b"body"[..]], 4);
                    }
                    Op::Flush => tracker.after_flush(),
                    Op::BodyEnds(i) => {
                        if let Some(r) = &requests[i] {
                            r.lifecycle.body_ended();
                        }
                    }
                    Op::Read(n) => tracker.after_read(&b"HTTP/1.1 200 OK\r\n"[..n]),
                    Op::WriteFails => tracker.write_failed(&std::io::Error::other("reset")),
                    Op::DropRequest(i) => requests[i] = None,
                }
                handoff::discard_offered(); // an offer never outlives its task's poll
            }
            let mut got_conns = 0;
            for (i, log) in logs.iter().enumerate() {
                let names = log.names();
                let count = |n: &str| names.iter().filter(|m| **m == n).count();
                if !encoded[i] {
                    prop_assert!(names.is_empty(), "request {} was never handed over: {:?}", i, names);
                }
                prop_assert!(count("GotConn") <= 1);
                got_conns += count("GotConn");
                for once in ["WroteHeaders", "WroteRequest", "GotFirstResponseByte"] {
                    prop_assert!(count(once) <= 1, "{} twice: {:?}", once, names);
                    if count(once) == 1 {
                        let at = names.iter().position(|n| *n == once).unwrap();
                        prop_assert_eq!(names[0], "GotConn", "{:?}", names);
                        prop_assert!(at > 0);
                    }
                }
            }
            prop_assert!(got_conns as u64 <= conn.served.load(Ordering::Relaxed));
        }
    }
}
