//! [`Timings`]: one request's phases, as curl and the browser's Resource Timing name them,
//! recorded from the hooks by a [`TimingsRecorder`].

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::info::go::{ConnectDoneInfo, GotConnInfo, TlsHandshakeDoneInfo};
use crate::record::phase::Phase;

/// The instants of one request's phases, and what it went over.
///
/// The instants follow the browser's Resource Timing; the durations from
/// [`fetch_start`](Timings::fetch_start) are curl's (`namelookup`, `connect`, ...). A phase
/// that did not happen is `None`, not zero: a request on a reused connection has no DNS,
/// connect or TLS instants.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timings {
    /// The request's method, once the instrumentation told it.
    pub method: Option<http::Method>,
    /// The request's URL, once the instrumentation told it (serialized redacted: no
    /// userinfo, no signed query values).
    pub url: Option<http::Uri>,
    /// The final response's status, once its head arrived.
    pub status: Option<http::StatusCode>,
    /// The request started (`GetConn`): every duration counts from here. For a retry's
    /// attempt recorded [`after_backoff`](TimingsRecorder::after_backoff), the end of the
    /// attempt before: its backoff counts too.
    pub fetch_start: Instant,
    /// A retry's attempt: when its backoff ended and the attempt began
    /// ([`Phase::Backoff`] runs from [`fetch_start`](Timings::fetch_start) to here).
    pub backoff_end: Option<Instant>,
    /// The first lookup for the request's own connection began.
    pub domain_lookup_start: Option<Instant>,
    /// That lookup ended.
    pub domain_lookup_end: Option<Instant>,
    /// The first connect attempt began.
    pub connect_start: Option<Instant>,
    /// The TCP connection was established (the attempt that won).
    pub connect_end: Option<Instant>,
    /// The TLS handshake began.
    pub secure_connection_start: Option<Instant>,
    /// The TLS handshake ended (curl's `appconnect`).
    pub secure_connection_end: Option<Instant>,
    /// The request had its connection and began writing (`GotConn`).
    pub request_start: Option<Instant>,
    /// HTTP/2: the request's stream got its place on the connection (`Http2StreamOpened`);
    /// the wait for it since `request_start` counts as [`Phase::Queue`].
    pub http2_stream_start: Option<Instant>,
    /// The request, body included, was written.
    pub request_end: Option<Instant>,
    /// The first 1xx response arrived.
    pub first_interim_response_start: Option<Instant>,
    /// The final response's first byte arrived.
    pub response_start: Option<Instant>,
    /// The response body ended (or was cut short or dropped: see `response_error`).
    pub response_end: Option<Instant>,
    /// The connection had carried an earlier request.
    pub reused: bool,
    /// The connection came from the idle pool.
    pub was_idle: bool,
    /// How long it sat idle there.
    pub idle_time: Duration,
    /// The server's (or proxy's) address.
    pub remote_addr: Option<SocketAddr>,
    /// The protocol spoken: `"HTTP/1.1"`, `"HTTP/2"`, ...
    pub protocol: Option<Cow<'static, str>>,
    /// Request body bytes written, once the body ended.
    pub request_body_bytes: Option<u64>,
    /// Response body bytes read, once the body ended.
    pub response_body_bytes: Option<u64>,
    /// Why the response body did not reach its end, if it did not.
    pub response_error: Option<String>,
}

/// `Debug` shows the URL redacted, as every output this crate ships does.
impl std::fmt::Debug for Timings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self
            .url
            .as_ref()
            .map(|u| crate::redact_url(&u.to_string()).into_owned());
        f.debug_struct("Timings")
            .field("method", &self.method)
            .field("url", &url)
            .field("status", &self.status)
            .field("fetch_start", &self.fetch_start)
            .field("domain_lookup_start", &self.domain_lookup_start)
            .field("domain_lookup_end", &self.domain_lookup_end)
            .field("connect_start", &self.connect_start)
            .field("connect_end", &self.connect_end)
            .field("secure_connection_start", &self.secure_connection_start)
            .field("secure_connection_end", &self.secure_connection_end)
            .field("request_start", &self.request_start)
            .field("http2_stream_start", &self.http2_stream_start)
            .field("request_end", &self.request_end)
            .field(
                "first_interim_response_start",
                &self.first_interim_response_start,
            )
            .field("response_start", &self.response_start)
            .field("response_end", &self.response_end)
            .field("reused", &self.reused)
            .field("was_idle", &self.was_idle)
            .field("idle_time", &self.idle_time)
            .field("remote_addr", &self.remote_addr)
            .field("protocol", &self.protocol)
            .field("request_body_bytes", &self.request_body_bytes)
            .field("response_body_bytes", &self.response_body_bytes)
            .field("response_error", &self.response_error)
            .finish()
    }
}

impl Timings {
    fn since_start(&self, at: Option<Instant>) -> Option<Duration> {
        at.map(|t| t.saturating_duration_since(self.fetch_start))
    }

    /// curl's `time_namelookup`: until the lookup ended.
    pub fn namelookup(&self) -> Option<Duration> {
        self.since_start(self.domain_lookup_end)
    }

    /// curl's `time_connect`: until the TCP connection was established.
    pub fn connect(&self) -> Option<Duration> {
        self.since_start(self.connect_end)
    }

    /// curl's `time_appconnect`: until the TLS handshake ended.
    pub fn appconnect(&self) -> Option<Duration> {
        self.since_start(self.secure_connection_end)
    }

    /// curl's `time_pretransfer`: until the request could be sent.
    pub fn pretransfer(&self) -> Option<Duration> {
        self.since_start(self.request_start)
    }

    /// curl's `time_starttransfer`: until the first response byte.
    pub fn starttransfer(&self) -> Option<Duration> {
        self.since_start(self.response_start)
    }

    /// curl's `time_total`: until the response body ended.
    pub fn total(&self) -> Option<Duration> {
        self.since_start(self.response_end)
    }

    /// Time spent waiting for a connection (see [`Phase::Queue`]).
    pub fn queue(&self) -> Option<Duration> {
        self.phases()
            .into_iter()
            .find(|(p, _)| *p == Phase::Queue)
            .map(|(_, d)| d)
    }

    /// Where the queue ends on a connection the request did not dial: when it had the
    /// connection, or later, when its HTTP/2 stream got its place.
    fn queue_end(&self) -> Option<Instant> {
        match (self.request_start, self.http2_stream_start) {
            (Some(got), Some(stream)) => Some(got.max(stream)),
            (got, stream) => got.or(stream),
        }
    }

    /// Whether the response body has ended (the timings are complete).
    pub fn is_complete(&self) -> bool {
        self.response_end.is_some()
    }

    /// The phases that happened, in order, back to back from
    /// [`fetch_start`](Timings::fetch_start): their durations add up to the time to the last
    /// instant recorded ([`total`](Timings::total) once complete). Short gaps between two
    /// phases (a lookup's end and the dial's start, say) count in the later one.
    pub fn phases(&self) -> Vec<(Phase, Duration)> {
        let own_dial = self.domain_lookup_start.or(self.connect_start);
        let marks = [
            (Phase::Queue, own_dial.or(self.queue_end())),
            (Phase::Dns, self.domain_lookup_end),
            (Phase::Connect, self.connect_end),
            (Phase::Tls, self.secure_connection_end),
            (Phase::Send, self.request_end),
            (Phase::Wait, self.response_start),
            (Phase::Receive, self.response_end),
        ];
        let mut out = Vec::new();
        let mut from = self.fetch_start;
        if let Some(until) = self.backoff_end {
            let until = until.max(from);
            out.push((Phase::Backoff, until - from));
            from = until;
        }
        for (phase, until) in marks {
            if let Some(until) = until {
                let until = until.max(from);
                out.push((phase, until - from));
                from = until;
            }
        }
        out
    }
}

/// Records one request's [`Timings`] from the hooks of its [`trace`](TimingsRecorder::trace).
///
/// A clone refers to the same record. `httptrace-tower` makes one per request when asked
/// (`HttpTrace::record_timings`), feeds it the body ends, and puts it in the response's
/// extensions; it can also be attached to a request by hand, like any trace:
///
/// ```
/// use httptrace::{GetConnInfo, GotConnInfo, ConnectionId, ConnectionInfo, TimingsRecorder};
///
/// let recorder = TimingsRecorder::new();
/// let trace = recorder.trace();
/// trace.get_conn(&GetConnInfo::new("example.com:80"));
/// let conn = ConnectionInfo::new(ConnectionId::next(), None, None);
/// trace.got_conn(&GotConnInfo::new(conn, true, true, Default::default()));
/// trace.got_first_response_byte();
/// recorder.response_ended(2, None);
///
/// let timings = recorder.timings();
/// assert!(timings.reused && timings.is_complete());
/// assert_eq!(timings.connect(), None, "no connection was made for this request");
/// ```
#[derive(Clone, Debug)]
pub struct TimingsRecorder {
    record: Arc<Mutex<Timings>>,
}

impl Default for TimingsRecorder {
    fn default() -> Self {
        Self::new()
    }
}

fn first(slot: &mut Option<Instant>) {
    slot.get_or_insert_with(Instant::now);
}

impl TimingsRecorder {
    /// A record starting now.
    pub fn new() -> Self {
        TimingsRecorder {
            record: Arc::new(Mutex::new(Timings {
                method: None,
                url: None,
                status: None,
                fetch_start: Instant::now(),
                backoff_end: None,
                domain_lookup_start: None,
                domain_lookup_end: None,
                connect_start: None,
                connect_end: None,
                secure_connection_start: None,
                secure_connection_end: None,
                request_start: None,
                http2_stream_start: None,
                request_end: None,
                first_interim_response_start: None,
                response_start: None,
                response_end: None,
                reused: false,
                was_idle: false,
                idle_time: Duration::ZERO,
                remote_addr: None,
                protocol: None,
                request_body_bytes: None,
                response_body_bytes: None,
                response_error: None,
            })),
        }
    }

    fn record(&self) -> MutexGuard<'_, Timings> {
        self.record.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The timings so far (complete once the response body has ended).
    pub fn timings(&self) -> Timings {
        self.record().clone()
    }

    // ----- what each hook records (called by `ClientTrace`'s callers) -----

    pub(crate) fn get_conn(&self) {
        let t = &mut *self.record();
        // After a backoff, the attempt's durations count from the attempt before.
        if t.backoff_end.is_none() {
            t.fetch_start = Instant::now();
        }
    }

    /// This request is a retry's attempt whose backoff ran from `since` (the end of the
    /// attempt before) until now: [`Phase::Backoff`] comes first in its phases, and its
    /// total counts from `since`. Told before its `GetConn`.
    pub fn after_backoff(&self, since: Instant) {
        let t = &mut *self.record();
        let now = Instant::now();
        t.fetch_start = since.min(now);
        t.backoff_end = Some(now);
    }

    /// Edits the record with a connection phase, while the request is still getting its
    /// connection (afterwards, a background dial's phases are not this request's).
    fn while_dialing(&self, edit: impl FnOnce(&mut Timings)) {
        let t = &mut *self.record();
        if t.request_start.is_none() {
            edit(t);
        }
    }

    pub(crate) fn dns_start(&self) {
        self.while_dialing(|t| first(&mut t.domain_lookup_start));
    }

    pub(crate) fn dns_done(&self) {
        self.while_dialing(|t| t.domain_lookup_end = Some(Instant::now()));
    }

    pub(crate) fn connect_start(&self) {
        self.while_dialing(|t| first(&mut t.connect_start));
    }

    pub(crate) fn connect_done(&self, info: &ConnectDoneInfo) {
        if info.err.is_none() {
            self.while_dialing(|t| t.connect_end = Some(Instant::now()));
        }
    }

    pub(crate) fn tls_handshake_start(&self) {
        self.while_dialing(|t| first(&mut t.secure_connection_start));
    }

    pub(crate) fn tls_handshake_done(&self, info: &TlsHandshakeDoneInfo) {
        if info.err.is_none() {
            self.while_dialing(|t| t.secure_connection_end = Some(Instant::now()));
        }
    }

    pub(crate) fn got_conn(&self, info: &GotConnInfo) {
        let t = &mut *self.record();
        t.request_start = Some(Instant::now());
        Self::connection(t, info);
    }

    /// The request's connection, learned only with the response head (reqwest keeps the
    /// moment a request gets its connection to itself): its facts are recorded, with no
    /// `request_start`, so the time before the first byte is not mistaken for queueing
    /// (called by the instrumentation, in place of the `GotConn` hook).
    pub fn connection_learned_late(&self, info: &GotConnInfo) {
        Self::connection(&mut self.record(), info);
    }

    fn connection(t: &mut Timings, info: &GotConnInfo) {
        t.reused = info.reused;
        t.was_idle = info.was_idle;
        t.idle_time = info.idle_time;
        t.remote_addr = info.conn.remote_addr;
        if info.was_idle {
            // Not this request's dial: none of its connection phases.
            t.domain_lookup_start = None;
            t.domain_lookup_end = None;
            t.connect_start = None;
            t.connect_end = None;
            t.secure_connection_start = None;
            t.secure_connection_end = None;
        }
    }

    pub(crate) fn http2_stream_opened(&self) {
        first(&mut self.record().http2_stream_start);
    }

    pub(crate) fn wrote_request(&self) {
        first(&mut self.record().request_end);
    }

    /// A 1xx response (`Got1xxResponse`, `Got100Continue`).
    pub(crate) fn interim_response(&self) {
        first(&mut self.record().first_interim_response_start);
    }

    pub(crate) fn got_first_response_byte(&self) {
        first(&mut self.record().response_start);
    }

    /// The request is `method` to `url` (called by the instrumentation).
    pub fn request(&self, method: http::Method, url: http::Uri) {
        let mut t = self.record();
        t.method = Some(method);
        t.url = Some(url);
    }

    /// The final response's head arrived with `status` over `protocol` (`"HTTP/1.1"`,
    /// `"HTTP/2"`; called by the instrumentation; a `&'static str` is kept without a copy).
    pub fn response(&self, status: http::StatusCode, protocol: impl Into<Cow<'static, str>>) {
        let mut t = self.record();
        t.status = Some(status);
        t.protocol = Some(protocol.into());
    }

    /// The request body ended after `bytes` bytes (called by the instrumentation).
    pub fn request_body_ended(&self, bytes: u64) {
        self.record().request_body_bytes = Some(bytes);
    }

    /// The response body ended after `bytes` bytes, or was cut short by `err` (called by the
    /// instrumentation; only the first end counts).
    pub fn response_ended(&self, bytes: u64, err: Option<&str>) {
        let mut t = self.record();
        if t.response_end.is_none() {
            t.response_end = Some(Instant::now());
            t.response_body_bytes = Some(bytes);
            t.response_error = err.map(str::to_owned);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnectDoneInfo, ConnectStartInfo, ConnectionId, ConnectionInfo, GotConnInfo};

    fn conn() -> ConnectionInfo {
        ConnectionInfo::new(ConnectionId::next(), None, None)
    }

    #[test]
    fn phases_add_up_and_reuse_drops_the_connection_phases() {
        let recorder = TimingsRecorder::new();
        let trace = recorder.trace();
        let addr: SocketAddr = "127.0.0.1:80".parse().unwrap();
        trace.connect_start(&ConnectStartInfo::new("tcp", addr));
        trace.connect_done(&ConnectDoneInfo::new("tcp", addr, None));
        let t = recorder.timings();
        assert!(t.connect_start.is_some() && t.connect_end.is_some());
        trace.got_conn(&GotConnInfo::new(conn(), false, false, Duration::ZERO));
        trace.wrote_request(&crate::WroteRequestInfo::new(None));
        trace.got_first_response_byte();
        recorder.response_ended(5, None);
        let t = recorder.timings();
        let names: Vec<Phase> = t.phases().iter().map(|(p, _)| *p).collect();
        assert_eq!(
            names,
            [
                Phase::Queue,
                Phase::Connect,
                Phase::Send,
                Phase::Wait,
                Phase::Receive
            ]
        );
        let sum: Duration = t.phases().iter().map(|(_, d)| *d).sum();
        assert_eq!(Some(sum), t.total());

        // A dial this request started but an idle connection served it: no connect phase.
        let recorder = TimingsRecorder::new();
        let trace = recorder.trace();
        trace.connect_start(&ConnectStartInfo::new("tcp", addr));
        trace.got_conn(&GotConnInfo::new(conn(), false, true, Duration::ZERO));
        trace.connect_done(&ConnectDoneInfo::new("tcp", addr, None));
        let t = recorder.timings();
        assert_eq!((t.connect_start, t.connect_end), (None, None));
        assert_eq!(t.connect(), None);
    }
}
