//! [`start`]: what the layer does with a request before the inner client sees it, in three
//! steps: combine the traces, decide what to watch, build the request's state.

use std::sync::Arc;

use http::uri::Scheme;
use http::{Request, Version};
use httptrace::{
    current_trace, extensions_client_trace, ClientTrace, HookKind, RequestTraces, TimingsRecorder,
};

use super::extensions::{watch_without_replacing, Watch};
use super::future::{ResponseFuture, Traced};
use super::get_conn::HostPort;
use super::request_body::{traced_outside, TracedRequestBody};
use super::settings::Settings;
use crate::state::call::{current_call, CallState};
use crate::state::expect_gate::{expects_continue, ExpectGate};
use crate::state::learned::Learned;
use crate::state::request::{OnTheWire, OneXx, RequestSetup, RequestState};
use crate::state::timings_sink::{current_sink, TimingsSink};
use crate::wire::h2_head::H2Head;
use httptrace::wire::connection_has;

/// Prepares `req` for the inner service and, if it is traced, fires `GetConn`; `send` hands
/// it on. Shared by `HttpTrace`'s `Service::call` and the `request` of a traced client.
///
/// Small, to be inlined where it is called: a request with nothing to trace is handed on
/// from here, and what the rest of the layer does is out of line.
#[inline]
pub(crate) fn start<B: http_body::Body, F: std::future::Future>(
    settings: &Settings,
    req: Request<B>,
    send: impl FnOnce(Request<TracedRequestBody<B>>) -> F,
) -> ResponseFuture<F> {
    // A request an outer `HttpTrace` traces is not traced twice (its body says so).
    let (body_ended, traced_outside) = traced_outside(req.body());
    if traced_outside {
        return ResponseFuture::untraced(send(req.map(TracedRequestBody::untraced)));
    }
    // `Expect: 100-continue` with a body to hold back: the layer holds it, traced or not.
    let gated = !body_ended && expects_continue(req.headers());
    let (trace, sink) = (current_trace(), current_sink());
    if !gated
        && settings.traces_nothing()
        && trace.is_none()
        && sink.is_none()
        && extensions_client_trace(req.extensions()).is_none()
    {
        return ResponseFuture::untraced(send(req.map(TracedRequestBody::untraced)));
    }
    start_watched(settings, req, send, gated, Outside { trace, sink })
}

/// What applies to a request from where it is sent: the trace in effect, and the
/// `ServerTiming` sink collecting its timings.
struct Outside {
    trace: Option<ClientTrace>,
    sink: Option<Arc<TimingsSink>>,
}

/// [`start`] for a request that may be traced or gated.
fn start_watched<B: http_body::Body, F: std::future::Future>(
    settings: &Settings,
    mut req: Request<B>,
    send: impl FnOnce(Request<TracedRequestBody<B>>) -> F,
    gated: bool,
    outside: Outside,
) -> ResponseFuture<F> {
    // The layer holds a gated body back, traced or not.
    let gate = gated.then(|| Arc::new(ExpectGate::new(settings.expect_continue_timeout)));
    let Some(combined) = combine_traces(settings, &req, gate.is_some(), outside) else {
        return ResponseFuture::untraced(send(req.map(TracedRequestBody::untraced)));
    };
    if combined.trace.is_empty() {
        let Some(gate) = gate else {
            return ResponseFuture::untraced(send(req.map(TracedRequestBody::untraced)));
        };
        let watch = Watch {
            state: None,
            informational_hooks: false,
            gate: Some(&gate),
            connection: true,
        };
        let capture = watch_without_replacing(&mut req, watch).expect("a gated request is watched");
        let req = req.map(|body| TracedRequestBody::new(body, None, Some(gate.clone())));
        return ResponseFuture::gated(send(req), gate, capture);
    }
    let watching = decide_watch(settings, &req, &combined, gate.is_some());
    let Combined {
        trace,
        timings,
        host_port,
        call,
        ..
    } = combined;
    let state = build_state(&req, trace, timings, call, &watching, gate.is_some());
    if let Some(host_port) = &host_port {
        host_port.get_conn(&state.trace);
    }
    let capture = watch_without_replacing(
        &mut req,
        Watch {
            state: Some(&state),
            informational_hooks: watching.hyper_reads_1xx,
            gate: gate.as_ref(),
            connection: watching.capture_connection,
        },
    );
    let req = req.map(|body| TracedRequestBody::new(body, Some(state.clone()), gate.clone()));
    let mut lent = Some(state);
    let fut = RequestState::in_effect(&mut lent, || send(req));
    let traced = Traced {
        state: lent.expect("given back after the call"),
        request_close: watching.request_close,
        gate,
        capture,
        learn_http2: watching.learn_http2,
    };
    ResponseFuture::traced(fut, traced)
}

/// What step 1 gives the others.
struct Combined {
    trace: ClientTrace,
    timings: Option<TimingsRecorder>,
    /// `GetConn`'s `host:port`, if anyone reads it.
    host_port: Option<HostPort>,
    /// The traced call (`CallTraceLayer`) in effect, if any.
    call: Option<Arc<CallState>>,
    /// The request may go out as an HTTP/2 stream (see `may_be_http2`).
    may_be_http2: bool,
}

/// Step 1: the request's trace (its own, over the one in effect, over a per-request one,
/// over the layer's; the timings recorder last) and where `GetConn` goes, if anyone reads
/// it. `None`: nothing to trace, or a request the client will refuse.
fn combine_traces<B>(
    settings: &Settings,
    req: &Request<B>,
    gated: bool,
    outside: Outside,
) -> Option<Combined> {
    let Outside {
        trace: ambient,
        sink,
    } = outside;
    let own = extensions_client_trace(req.extensions());
    // A request the layer does not sample skips the layer's own traces and timings.
    let sampled = settings.sampling.as_ref().is_none_or(|s| s.keeps(req));
    let layer_trace = (sampled && !settings.trace.is_empty()).then_some(&settings.trace);
    let per_request = settings.per_request.as_ref().filter(|_| sampled);
    let record_timings = settings.record_timings && sampled;
    // Nothing to trace (the layer's trace is empty and nothing else applies): no clone of the
    // layer's trace, whose reference count every request would otherwise bounce between cores,
    // and nothing of the request is looked at.
    let untraced = layer_trace.is_none()
        && per_request.is_none()
        && ambient.is_none()
        && own.is_none()
        && !record_timings
        && sink.is_none();
    if untraced && !gated {
        return None;
    }
    let mut trace = RequestTraces::new()
        .own(own)
        .ambient(ambient)
        .per_request(per_request.map(|make| (make.0)()))
        .layer(layer_trace)
        .compose();
    // `GetConn`'s `host:port` is read by a hook (a timings recorder aside: it was made at the
    // request's start), a `Server-Timing` sink, or a traced call's attempt; only then is the
    // request checked and the text written (and always for a gated request, which a refused
    // one must not get). Unread, a request the client refuses goes through untold: no hook
    // would hear of it.
    let call = current_call();
    let may_be_http2 = may_be_http2(settings, req);
    let host_port = if gated || call.is_some() || trace.is_set(HookKind::GetConn) || sink.is_some()
    {
        Some(HostPort::of(req)?)
    } else {
        None
    };
    // The recorder's hooks run after every other's.
    let timings = (record_timings || sink.is_some()).then(TimingsRecorder::new);
    if let Some(timings) = &timings {
        // What the user reads the timings for; a Server-Timing sink alone needs neither.
        if record_timings {
            timings.request(req.method().clone(), req.uri().clone());
        }
        trace = RequestTraces::timed(trace, timings);
        if let (Some(sink), Some(host_port)) = (&sink, &host_port) {
            sink.collect(req.method().clone(), host_port.as_str(), timings.clone());
        }
    }
    Some(Combined {
        trace,
        timings,
        host_port,
        call,
        may_be_http2,
    })
}

/// Only a request that may go out as an HTTP/2 stream needs watching for the hand-off, and
/// its head kept for the HEADERS fields: HTTPS (ALPN may pick h2), an HTTP/2 request, or
/// plain HTTP once this layer has seen cleartext HTTP/2. (A plain HTTP request is an HTTP/1
/// exchange until then: keeping its head would copy its method, URI and fields for nothing.)
fn may_be_http2<B>(settings: &Settings, req: &Request<B>) -> bool {
    req.version() == Version::HTTP_2
        || req.uri().scheme() == Some(&Scheme::HTTPS)
        || settings.cleartext_http2.seen()
}

/// What a traced request is watched for, and how.
struct Watching<'a> {
    request_close: bool,
    /// The request may go out as an HTTP/2 stream.
    may_be_http2: bool,
    /// Not watched for an HTTP/2 hand-off: the layer's flag to set if it went out as one.
    learn_http2: Option<Learned>,
    one_xx: OneXx<'a>,
    /// The request has 1xx hooks that hyper's callback serves (not read off the wire).
    hyper_reads_1xx: bool,
    /// Keep hyper-util's `capture_connection` of the request.
    capture_connection: bool,
    /// The layer's flag to set if a `TraceExecutor`'s task names the request's connection.
    learn_linked: Option<Learned>,
}

/// Step 2: what to watch the request for, given its combined traces.
fn decide_watch<'a, B>(
    settings: &'a Settings,
    req: &Request<B>,
    combined: &Combined,
    gated: bool,
) -> Watching<'a> {
    let (trace, may_be_http2) = (&combined.trace, combined.may_be_http2);
    let hooks_1xx =
        trace.is_set(HookKind::Got1xxResponse) || trace.is_set(HookKind::Got100Continue);
    let handoffs = &settings.http1_handoffs;
    // A request that watches 1xx responses fails past the limit, as one a hook vetoes.
    let may_abort = hooks_1xx;
    // The client's connection tasks run under a `TraceExecutor`: the HTTP/2 task that takes
    // the request names its connection (`state/serving.rs`), a retry after GOAWAY included;
    // no capture. Until the layer knows (a custom stack's first request), a request that may
    // be a stream is captured. Only connections `TraceConnector` made name themselves there,
    // so a linked layer's connections are traced, as one that has seen a hand-off.
    let linked = settings.linked.seen();
    let traced_connections = handoffs.seen() || linked;
    // Once the layer knows its requests go to traced connections, those read the 1xx
    // responses off the wire: no hyper callback (two allocations) per request. A gated
    // request keeps the callback, which opens its gate.
    let read_off_the_wire = hooks_1xx && !gated && traced_connections;
    // An HTTP/1 request keeps its connection at hand to keep it out of the pool after a 1xx
    // hook's veto (until the layer knows its connections are traced, which close themselves
    // then), or after a withheld `Expect: 100-continue` body.
    let keep = gated || (may_abort && !traced_connections);
    Watching {
        request_close: connection_has(req.headers(), "close"),
        may_be_http2,
        learn_http2: (!may_be_http2).then(|| settings.cleartext_http2.clone()),
        one_xx: OneXx {
            read_off_the_wire,
            may_abort,
            handed_over: hooks_1xx.then_some(handoffs),
        },
        hyper_reads_1xx: hooks_1xx && !read_off_the_wire,
        capture_connection: (may_be_http2 && !linked) || keep,
        learn_linked: (!linked).then(|| settings.linked.clone()),
    }
}

/// Step 3: the request's state, an attempt of the traced call in effect if any.
fn build_state<B: http_body::Body>(
    req: &Request<B>,
    trace: ClientTrace,
    timings: Option<TimingsRecorder>,
    call: Option<Arc<CallState>>,
    watching: &Watching<'_>,
    gated: bool,
) -> Arc<RequestState> {
    let h2_head = (watching.may_be_http2 && trace.is_set(HookKind::WroteHeaderField))
        .then(|| H2Head::of(req));
    // Inside a traced call (`CallTraceLayer`), this request is its next attempt.
    if let Some(call) = &call {
        call.attempt_started(&trace, req);
    }
    Arc::new(RequestState::new(RequestSetup {
        trace,
        h2_head,
        expects_continue: gated,
        timings,
        call,
        on_the_wire: OnTheWire::new(&watching.one_xx),
        may_be_http2: watching.may_be_http2,
        learn_linked: watching.learn_linked.clone(),
    }))
}
