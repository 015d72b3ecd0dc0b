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

use httptrace::{GotConnInfo, HookKind, TraceError, WroteRequestInfo};

use super::conn_state::ConnShared;
use crate::handoff;
use crate::head_scanner::{HeadEvent, HeadScanner};
use crate::request_state::{Once, RequestState};

pub(crate) struct Http1Tracker {
    owner: Option<Weak<RequestState>>,
    scanner: HeadScanner,
    /// When a response byte last arrived: the end of the previous exchange.
    last_read: Option<Instant>,
    /// Response bytes arrived since the last write: the next write starts a new exchange.
    read_since_write: bool,
    /// Exchanges the connection carried before the current one.
    exchanges_before: u64,
}

impl Http1Tracker {
    pub(crate) fn new() -> Self {
        Http1Tracker {
            owner: None,
            scanner: HeadScanner::new(false),
            last_read: None,
            read_since_write: true,
            exchanges_before: 0,
        }
    }

    /// Before bytes are written: count a new exchange; take the traced request whose head is
    /// about to go out, if hyper just encoded one on this task.
    ///
    /// A response that arrives before its request is fully written (a server refusing an
    /// upload early) makes the rest of that request count as one more exchange: the count can
    /// run high then, never low, so `reused` stays right.
    pub(crate) fn before_write(&mut self, conn: &ConnShared) {
        if self.read_since_write {
            self.read_since_write = false;
            self.exchanges_before = conn.served.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(req) = handoff::take_offered() {
            self.bind(conn, req);
        }
    }

    fn bind(&mut self, conn: &ConnShared, req: Arc<RequestState>) {
        if !req.first(Once::GotConn) {
            return;
        }
        let now = Instant::now();
        let reused = self.exchanges_before > 0;
        let was_idle = reused || conn.dialed_by != Some(req.id);
        let idle_since = if reused {
            self.last_read.unwrap_or(conn.established)
        } else {
            conn.established
        };
        let idle_time = if was_idle {
            now.saturating_duration_since(idle_since)
        } else {
            Duration::ZERO
        };
        req.trace.got_conn(&GotConnInfo::new(
            conn.info.clone(),
            reused,
            was_idle,
            idle_time,
        ));
        self.scanner = HeadScanner::new(req.trace.is_set(HookKind::WroteHeaderField));
        self.owner = Some(Arc::downgrade(&req));
    }

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
                HeadEvent::End => {
                    if req.first(Once::WroteHeaders) {
                        req.trace.wrote_headers()
                    }
                    if req.expects_continue && req.first(Once::Wait100Continue) {
                        req.trace.wait_100_continue()
                    }
                }
            });
        }
    }

    /// hyper flushes the I/O only once its own buffer is empty: if the body has ended too,
    /// the whole request is on the wire.
    pub(crate) fn after_flush(&mut self) {
        let Some(req) = self.owner() else { return };
        if self.scanner.is_done() && req.has(Once::BodyDone) && req.first(Once::WroteRequest) {
            req.trace.wrote_request(&WroteRequestInfo::new(None));
            self.release_if_finished(&req);
        }
    }

    pub(crate) fn write_failed(&mut self, err: &std::io::Error) {
        let Some(req) = self.owner() else { return };
        if req.has(Once::GotConn) && req.first(Once::WroteRequest) {
            req.trace
                .wrote_request(&WroteRequestInfo::new(Some(TraceError::describe(err))));
        }
    }

    /// `n` bytes arrived (0 is end of stream).
    pub(crate) fn after_read(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        self.last_read = Some(Instant::now());
        self.read_since_write = true;
        let Some(req) = self.owner() else { return };
        if req.first(Once::FirstByte) {
            req.trace.got_first_response_byte();
            self.release_if_finished(&req);
        }
    }

    /// Once the connection has nothing left to report for its owner, it stops holding it.
    fn release_if_finished(&mut self, req: &RequestState) {
        if req.has(Once::WroteRequest) && req.has(Once::FirstByte) {
            self.owner = None;
        }
    }
}
