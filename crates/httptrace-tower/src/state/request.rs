//! What one traced request shares between its future, its bodies and the connection that
//! carries it: the effective trace and which once-only hooks have fired.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Waker;

use bytes::Buf;
use http_body::Frame;
use httptrace::{BoxError, ClientTrace, HookKind, TimingsRecorder};

use crate::state::call::CallState;
use crate::state::connection::ConnShared;
use crate::state::handle::OpenStream;
use crate::state::ids::{next_request_id, EnteredRequest, RequestId};
use crate::state::learned::Learned;
use crate::state::lifecycle::{Lifecycle, Written};
use crate::wire::h2_head::H2Head;

pub(crate) struct RequestState {
    pub(crate) id: RequestId,
    pub(crate) trace: ClientTrace,
    /// Which of the attempt's once-only events happened; the only caller of Go's hooks from
    /// `GotConn` to `GotFirstResponseByte`.
    pub(crate) lifecycle: Lifecycle,
    /// The request said `Expect: 100-continue` and has a body to hold back.
    pub(crate) expects_continue: bool,
    /// For `WroteHeaderField` if the request goes out as an HTTP/2 stream.
    h2_head: Option<H2Head>,
    /// The HTTP/2 stream this request has open, until its response ends.
    stream: Mutex<Option<OpenStream>>,
    /// The request may go out as an HTTP/2 stream: its body tells when the stream got its
    /// place on the connection.
    pub(crate) may_be_http2: bool,
    /// The layer's flag to set once a connection task spawned through a `TraceExecutor`
    /// names this request's connection (`state/serving.rs`); `None` once the layer knows.
    pub(crate) learn_linked: Option<Learned>,
    pub(crate) stream_times: Mutex<StreamTimes>,
    /// The task that polls the request's future (for a request that may be an HTTP/2
    /// stream): a body dropped there was not taken by hyper's connection task.
    pub(crate) owner_task: OnceLock<Option<tokio::task::Id>>,
    /// A `Got1xxResponse` hook's veto, and the request future to wake with it.
    abort: Mutex<Abort>,
    /// A veto is in `abort` (read without locking it on every poll).
    vetoed: AtomicBool,
    /// Informational (1xx) responses received.
    informational: AtomicU8,
    /// Where the request's timings go, when the layer records them.
    pub(crate) timings: Option<TimingsRecorder>,
    /// Whether the body wrappers count bytes (for timings or a `*BodyDone` hook).
    count: bool,
    /// Body bytes, counted by the body wrappers when someone reads them.
    pub(crate) request_bytes: AtomicU64,
    pub(crate) response_bytes: AtomicU64,
    /// The traced call this request is an attempt of (`CallTraceLayer`).
    call: Option<Arc<CallState>>,
    /// What the HTTP/1 connection the request is handed to does for its 1xx hooks.
    on_the_wire: OnTheWire,
}

/// For a request with 1xx hooks: what its traced HTTP/1 connection does for them.
#[derive(Default)]
pub(crate) struct OnTheWire {
    /// The connection reads the request's 1xx responses off the wire and fires the hooks
    /// (hyper's informational callback is not set: the layer has seen its requests handed to
    /// traced connections).
    reads_1xx: bool,
    /// A 1xx response may abort the request: a `Got1xxResponse` hook's veto, or one past
    /// the limit (the connection is kept, to close it then).
    may_abort: bool,
    /// The HTTP/1 connection the request was handed to, kept when a veto may close it or
    /// when it reports its close: it needs to hear how the exchange ended, even when hyper
    /// has dropped the connection by then (`Connection: close`).
    conn: OnceLock<Arc<ConnShared>>,
    /// The layer's flag to set once the request is handed to a traced connection, while the
    /// layer has not learned that yet (cloned only until then: every request would otherwise
    /// touch its shared reference count).
    teach: Option<Learned>,
}

/// What a request's 1xx hooks need of the connection it is handed to.
pub(crate) struct OneXx<'a> {
    /// The connection reads the 1xx responses off the wire and fires the hooks.
    pub(crate) read_off_the_wire: bool,
    /// A 1xx response may abort the request (a hook's veto, or one past the limit).
    pub(crate) may_abort: bool,
    /// The layer's flag to set once a request is handed to a traced connection (`None`: the
    /// request has no 1xx hook, nothing to learn).
    pub(crate) handed_over: Option<&'a Learned>,
}

impl OnTheWire {
    pub(crate) fn new(one_xx: &OneXx<'_>) -> Self {
        OnTheWire {
            reads_1xx: one_xx.read_off_the_wire,
            may_abort: one_xx.may_abort,
            conn: OnceLock::new(),
            teach: one_xx.handed_over.filter(|flag| !flag.seen()).cloned(),
        }
    }
}

#[derive(Default)]
struct Abort {
    veto: Option<BoxError>,
    waker: Option<Waker>,
}

/// When an HTTP/2 stream was handed to its connection (`GotConn`) and got its place there,
/// and who took it (`h2_stream.rs`).
#[derive(Default)]
pub(crate) struct StreamTimes {
    pub(crate) handed: Option<std::time::Instant>,
    pub(crate) slot: Option<std::time::Instant>,
    /// The stream sequence number when a connection's task last asked the body `size_hint`
    /// or `is_end_stream` before its stream got its place.
    pub(crate) asked: Option<u64>,
    /// The request's own task, waiting for the stream's hooks to be done
    /// (`h2_stream::stream_hooks_done`).
    pub(crate) waiting: Option<std::task::Waker>,
    /// The connection was at the server's stream limit when the stream was handed to it: its
    /// wait for a place is reported (otherwise it had room, and waited for nothing).
    pub(crate) at_limit: bool,
    /// The connection whose stats count this stream waiting for its place, until it has it.
    pub(crate) counted_waiting: Option<Arc<ConnShared>>,
}

/// A request dropped while its stream waited (cancelled, say) stops waiting.
impl Drop for StreamTimes {
    fn drop(&mut self) {
        self.stop_waiting();
    }
}

impl StreamTimes {
    /// The stream stops waiting for its place (it has it, it was sent elsewhere, or it is
    /// over): its connection's stats no longer count it.
    pub(crate) fn stop_waiting(&mut self) {
        if let Some(conn) = self.counted_waiting.take() {
            conn.stream_waiting(false);
        }
    }
}

/// What a request's state is made of.
pub(crate) struct RequestSetup {
    pub(crate) trace: ClientTrace,
    /// Kept for `WroteHeaderField` if the request may go out as an HTTP/2 stream.
    pub(crate) h2_head: Option<H2Head>,
    /// The request said `Expect: 100-continue` and has a body to hold back.
    pub(crate) expects_continue: bool,
    pub(crate) timings: Option<TimingsRecorder>,
    /// The traced call this request is an attempt of.
    pub(crate) call: Option<Arc<CallState>>,
    pub(crate) on_the_wire: OnTheWire,
    /// The request may go out as an HTTP/2 stream.
    pub(crate) may_be_http2: bool,
    /// See `RequestState::learn_linked`.
    pub(crate) learn_linked: Option<Learned>,
}

impl RequestState {
    /// The state of a request. Made in one piece: the state is large, and each step of a
    /// builder would copy it.
    pub(crate) fn new(setup: RequestSetup) -> Self {
        let RequestSetup {
            trace,
            h2_head,
            expects_continue,
            timings,
            call,
            on_the_wire,
            may_be_http2,
            learn_linked,
        } = setup;
        let count = timings.is_some()
            || trace.is_set(HookKind::RequestBodyDone)
            || trace.is_set(HookKind::ResponseBodyDone);
        RequestState {
            id: next_request_id(),
            trace,
            lifecycle: Lifecycle::default(),
            expects_continue,
            h2_head,
            stream: Mutex::new(None),
            may_be_http2,
            learn_linked,
            stream_times: Mutex::new(StreamTimes::default()),
            owner_task: OnceLock::new(),
            abort: Mutex::new(Abort::default()),
            vetoed: AtomicBool::new(false),
            informational: AtomicU8::new(0),
            timings,
            count,
            request_bytes: AtomicU64::new(0),
            response_bytes: AtomicU64::new(0),
            call,
            on_the_wire,
        }
    }

    /// Whether the connection reads this request's 1xx responses off the wire.
    pub(crate) fn reads_1xx(&self) -> bool {
        self.on_the_wire.reads_1xx
    }

    /// Whether a 1xx response may abort this request (its trace watches them).
    pub(crate) fn may_abort_1xx(&self) -> bool {
        self.on_the_wire.may_abort
    }

    /// Counts one more informational response; the count so far.
    pub(crate) fn count_informational(&self) -> u8 {
        let before = self.informational.fetch_add(1, Ordering::Relaxed);
        if before == u8::MAX {
            self.informational.store(u8::MAX, Ordering::Relaxed); // stays past the limit
        }
        before.saturating_add(1)
    }

    /// Whether the request was aborted (a hook's veto, or too many 1xx responses).
    pub(crate) fn is_aborted(&self) -> bool {
        self.vetoed.load(Ordering::Acquire)
    }

    /// The traced HTTP/1 connection `conn` carries this request: a veto will close it, the
    /// response body's end will be told to it if it reports its close, and the layer learns
    /// that its requests go to traced connections.
    pub(crate) fn handed_to(&self, conn: &Arc<ConnShared>) {
        if self.on_the_wire.may_abort
            || conn.reports_close()
            || self.trace.is_set(HookKind::PutIdleConn)
        {
            let _ = self.on_the_wire.conn.set(conn.clone());
        }
        if let Some(flag) = &self.on_the_wire.teach {
            flag.see();
        }
    }

    /// The attempt has its answer: `status`, or `None` for an error. The call's next attempt
    /// says what it follows.
    pub(crate) fn answered(&self, status: Option<http::StatusCode>) {
        if let Some(call) = &self.call {
            call.attempt_answered(status);
        }
    }

    /// Adds a polled body frame's data to `counter` (one of the byte counts), when timings
    /// or a `*BodyDone` hook read them.
    pub(crate) fn count_bytes<D: Buf, E>(
        &self,
        counter: &AtomicU64,
        frame: &Option<Result<Frame<D>, E>>,
    ) {
        if !self.count {
            return;
        }
        if let Some(data) = frame.as_ref().and_then(|f| f.as_ref().ok()?.data_ref()) {
            counter.fetch_add(data.remaining() as u64, Ordering::Relaxed);
        }
    }

    /// `RequestBodyDone`, once: `cut_short` says why the body did not reach its end. A body
    /// that reached its end reports with `WroteRequest`, when its end is on the wire.
    pub(crate) fn request_body_done(&self, cut_short: Option<&'static str>) {
        let bytes = self.request_bytes.load(Ordering::Relaxed);
        self.lifecycle
            .request_body_done(&self.trace, bytes, cut_short);
    }

    /// `WroteRequest`, if the attempt's lifecycle allows it now (see `Lifecycle`).
    pub(crate) fn wrote_request(&self, written: Written) -> bool {
        let bytes = self.request_bytes.load(Ordering::Relaxed);
        self.lifecycle.wrote_request(&self.trace, written, bytes)
    }

    /// A hook vetoed the request: its future fails with `veto` (the first veto wins).
    pub(crate) fn abort(&self, veto: BoxError) {
        let mut abort = self.abort.lock().unwrap_or_else(|e| e.into_inner());
        if abort.veto.is_none() {
            abort.veto = Some(veto);
            self.vetoed.store(true, Ordering::Release);
            // As Go, the connection is not reused: whatever the server sends next belongs
            // to the abandoned exchange.
            if let Some(conn) = self.http1_connection() {
                conn.close_after_veto();
            }
            if let Some(waker) = abort.waker.take() {
                waker.wake();
            }
        }
    }

    /// The HTTP/1 connection the request was handed to, if it was kept (see `handed_to`).
    pub(crate) fn http1_connection(&self) -> Option<&Arc<ConnShared>> {
        self.on_the_wire.conn.get()
    }

    /// The veto, if any; otherwise remembers who to wake when one comes.
    pub(crate) fn take_veto(&self, waker: &Waker) -> Option<BoxError> {
        if self.on_the_wire.reads_1xx && !self.vetoed.load(Ordering::Acquire) {
            // Read off the wire, a veto closes the connection, which fails (and so wakes)
            // the request's future: no waker to keep.
            return None;
        }
        let mut abort = self.abort.lock().unwrap_or_else(|e| e.into_inner());
        let veto = abort.veto.take();
        if veto.is_none() && !abort.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            abort.waker = Some(waker.clone());
        }
        veto
    }

    pub(crate) fn h2_head(&self) -> Option<&H2Head> {
        self.h2_head.as_ref()
    }

    pub(crate) fn hold_stream(&self, stream: OpenStream) {
        *self.stream.lock().unwrap_or_else(|e| e.into_inner()) = Some(stream);
    }

    /// The connection the request's HTTP/2 stream is held on.
    pub(crate) fn stream_connection(&self) -> Option<Arc<ConnShared>> {
        let stream = self.stream.lock().unwrap_or_else(|e| e.into_inner());
        stream.as_ref().map(OpenStream::shared)
    }

    pub(crate) fn stream_times(&self) -> std::sync::MutexGuard<'_, StreamTimes> {
        self.stream_times.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The request's HTTP/2 stream is over (its response ended, failed or was dropped).
    pub(crate) fn end_stream(&self) {
        if !self.lifecycle.is_stream() {
            return; // only an HTTP/2 stream is held
        }
        self.stream_times().stop_waiting();
        let stream = self.stream.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(stream);
    }

    /// Runs the request's synchronous work (a `poll` of the inner client) with its trace and
    /// identity in effect, so that a connector called from inside sees them. The state is
    /// lent to the thread for the while (moved out of `state` and back): entering touches no
    /// reference count (cloning the trace would, and a layer's trace is shared by every
    /// request: its count would bounce between cores on every poll).
    pub(crate) fn in_effect<R>(state: &mut Option<Arc<Self>>, f: impl FnOnce() -> R) -> R {
        let id = state.as_ref().map(|s| s.id);
        let _request = EnteredRequest::enter(id);
        httptrace::instrument::lend_holder_while(state, f)
    }
}

impl httptrace::instrument::HoldsTrace for RequestState {
    fn held_trace(&self) -> &ClientTrace {
        &self.trace
    }
}

impl Drop for RequestState {
    fn drop(&mut self) {
        // A body that ended, on a request that never reported `WroteRequest`.
        if self.lifecycle.has_body_ended() {
            self.request_body_done(None);
        }
    }
}
