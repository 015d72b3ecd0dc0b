//! The `on_*` setters of [`ClientTrace`], in the order of Go's struct, then the hooks Go lacks.

use std::sync::Arc;

use super::client_trace::ClientTrace;
use crate::error::BoxError;
use crate::hook::Hook;
use crate::info::go::{
    ConnectDoneInfo, ConnectStartInfo, DnsDoneInfo, DnsStartInfo, GetConnInfo, Got1xxResponseInfo,
    GotConnInfo, PutIdleConnInfo, TlsHandshakeDoneInfo, WroteHeaderFieldInfo, WroteRequestInfo,
};
use crate::info::http2::{Http2GoAwayInfo, Http2StreamOpenedInfo, Http2StreamResetInfo};
use crate::info::ours::{
    AttemptStartInfo, BodyDoneInfo, CallDoneInfo, CallStartInfo, ConnClosedInfo,
};

fn arc1<A, F: Fn(&A) + Send + Sync + 'static>(f: F) -> Hook<A> {
    Some(Arc::new(f))
}

fn arc0<F: Fn() + Send + Sync + 'static>(f: F) -> Hook<()> {
    Some(Arc::new(move |_: &()| f()))
}

impl ClientTrace {
    /// `GetConn`: before a connection is created or taken from the idle pool, even when an
    /// idle one is waiting.
    pub fn on_get_conn(mut self, f: impl Fn(&GetConnInfo<'_>) + Send + Sync + 'static) -> Self {
        self.hooks_mut().get_conn = Some(Arc::new(f));
        self
    }

    /// `GotConn`: the request has a connection, before any of its header is written. There is
    /// no hook for failing to get one: the request's error says why.
    pub fn on_got_conn(mut self, f: impl Fn(&GotConnInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().got_conn = arc1(f);
        self
    }

    /// `PutIdleConn`: the connection went back to the idle pool (`err` is `None`) or, with an
    /// error, why it did not. Called before the response body reports its end to the caller.
    /// Not called for HTTP/2, nor when either side said `Connection: close`.
    pub fn on_put_idle_conn(
        mut self,
        f: impl Fn(&PutIdleConnInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().put_idle_conn = arc1(f);
        self
    }

    /// `GotFirstResponseByte`: the first byte of the response arrived (of any response, a 1xx
    /// included); once per request.
    pub fn on_got_first_response_byte(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks_mut().got_first_response_byte = arc0(f);
        self
    }

    /// `Got100Continue`: the server answered `100 Continue`.
    pub fn on_got_100_continue(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks_mut().got_100_continue = arc0(f);
        self
    }

    /// `Got1xxResponse`: an informational response (100 to 199, but not 101) arrived before
    /// the final one. Returning an error aborts the request with it.
    pub fn on_got_1xx_response(
        mut self,
        f: impl Fn(&Got1xxResponseInfo) -> Result<(), BoxError> + Send + Sync + 'static,
    ) -> Self {
        let hooks = self.hooks_mut();
        hooks.got_1xx_response = Some(Arc::new(f));
        hooks.got_1xx_may_veto = true;
        self
    }

    /// `Got1xxResponse`, for a hook that only looks and never aborts the request. Not in Go;
    /// the instrumentation then need not keep the request's connection at hand to close it
    /// after a veto, which costs an HTTP/1 request several allocations.
    pub fn on_got_1xx_response_seen(
        mut self,
        f: impl Fn(&Got1xxResponseInfo) + Send + Sync + 'static,
    ) -> Self {
        let hooks = self.hooks_mut();
        hooks.got_1xx_response = Some(Arc::new(move |info: &Got1xxResponseInfo| {
            f(info);
            Ok(())
        }));
        hooks.got_1xx_may_veto = false;
        self
    }

    /// Whether the `Got1xxResponse` hook may abort the request (see
    /// [`on_got_1xx_response_seen`](ClientTrace::on_got_1xx_response_seen)).
    pub fn may_veto_1xx(&self) -> bool {
        self.hooks().got_1xx_may_veto
    }

    /// `DNSStart`: a lookup begins.
    pub fn on_dns_start(mut self, f: impl Fn(&DnsStartInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().dns_start = arc1(f);
        self
    }

    /// `DNSDone`: a lookup ended.
    pub fn on_dns_done(mut self, f: impl Fn(&DnsDoneInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().dns_done = arc1(f);
        self
    }

    /// `ConnectStart`: a dial attempt begins; several with Happy Eyeballs.
    pub fn on_connect_start(
        mut self,
        f: impl Fn(&ConnectStartInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().connect_start = arc1(f);
        self
    }

    /// `ConnectDone`: a dial attempt ended, with its error if it failed.
    pub fn on_connect_done(mut self, f: impl Fn(&ConnectDoneInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().connect_done = arc1(f);
        self
    }

    /// `TLSHandshakeStart`: a TLS handshake begins.
    pub fn on_tls_handshake_start(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks_mut().tls_handshake_start = arc0(f);
        self
    }

    /// `TLSHandshakeDone`: a TLS handshake ended, with the state or the error.
    pub fn on_tls_handshake_done(
        mut self,
        f: impl Fn(&TlsHandshakeDoneInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().tls_handshake_done = arc1(f);
        self
    }

    /// `WroteHeaderField`: a header field was written, all values of one name in one call.
    pub fn on_wrote_header_field(
        mut self,
        f: impl Fn(&WroteHeaderFieldInfo<'_>) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().wrote_header_field = Some(Arc::new(f));
        self
    }

    /// `WroteHeaders`: the request head was written to the connection.
    pub fn on_wrote_headers(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks_mut().wrote_headers = arc0(f);
        self
    }

    /// `Wait100Continue`: the request said `Expect: 100-continue`; its head is written and
    /// its body held back until the server answers.
    pub fn on_wait_100_continue(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.hooks_mut().wait_100_continue = arc0(f);
        self
    }

    /// `WroteRequest`: the request and its body were written, or writing failed. May be
    /// called again when the request is retried.
    pub fn on_wrote_request(
        mut self,
        f: impl Fn(&WroteRequestInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().wrote_request = arc1(f);
        self
    }

    // ----- the hooks Go lacks -----

    /// `RequestBodyDone` (not in Go): the request body ended, with the data bytes handed to
    /// the connection, or the error that cut it short (it failed, it was dropped unsent, or
    /// it was held back for `Expect: 100-continue` and never sent). Fires before
    /// `WroteRequest`, which waits for the end to be on the wire.
    pub fn on_request_body_done(
        mut self,
        f: impl Fn(&BodyDoneInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().request_body_done = arc1(f);
        self
    }

    /// `ResponseBodyDone` (not in Go): the response body ended, with the data bytes read,
    /// or the error that cut it short (it failed, or it was dropped before its end). Fires
    /// right after `PutIdleConn`, when that fires; once per response.
    pub fn on_response_body_done(
        mut self,
        f: impl Fn(&BodyDoneInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().response_body_done = arc1(f);
        self
    }

    /// `ConnClosed` (not in Go): a connection closed, why, and how many requests it carried.
    ///
    /// It is told to the trace of the request whose connector call opened the connection
    /// (so to a layer's trace for all its connections), usually long after that request
    /// ended, from the connection's own task. The connection keeps this hook alone
    /// ([`only_connection_hooks`](Self::only_connection_hooks)), and with it whatever the closure
    /// captured, for as long as it lives (on HTTP/2, hours): capture nothing of the request
    /// (its span, its buffers) here.
    pub fn on_conn_closed(mut self, f: impl Fn(&ConnClosedInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().conn_closed = arc1(f);
        self
    }

    /// This trace's connection hooks alone (`ConnClosed` and `Http2GoAway`): what a
    /// connection keeps of the trace of the request that dialled it, so that a pooled
    /// connection holds nothing else of that request (its other hooks, what they captured,
    /// its timings) past the request's end. A connector of yours that reports `ConnClosed`
    /// keeps this, not the whole trace.
    ///
    /// ```
    /// use httptrace::{ClientTrace, HookKind};
    ///
    /// let trace = ClientTrace::new().on_conn_closed(|_| {}).on_got_conn(|_| {});
    /// let kept = trace.only_connection_hooks();
    /// assert!(kept.is_set(HookKind::ConnClosed));
    /// assert!(!kept.is_set(HookKind::GotConn));
    /// assert!(ClientTrace::new().on_got_conn(|_| {}).only_connection_hooks().is_empty());
    /// ```
    pub fn only_connection_hooks(&self) -> ClientTrace {
        let Some(hooks) = self.hooks.as_ref() else {
            return ClientTrace::new();
        };
        if hooks.conn_closed.is_none() && hooks.http2_goaway.is_none() {
            return ClientTrace::new();
        }
        let mut kept = ClientTrace::new();
        let kept_hooks = kept.hooks_mut();
        kept_hooks.conn_closed = hooks.conn_closed.clone();
        kept_hooks.http2_goaway = hooks.http2_goaway.clone();
        kept
    }

    /// The old name of [`only_connection_hooks`](Self::only_connection_hooks), which keeps
    /// `Http2GoAway` too.
    #[deprecated(since = "0.2.0", note = "use `only_connection_hooks`")]
    pub fn only_conn_closed(&self) -> ClientTrace {
        self.only_connection_hooks()
    }

    /// `Http2StreamOpened` (not in Go): the request's HTTP/2 stream got its place on the
    /// connection; its header fields and `WroteHeaders` follow. Between `GotConn` and this,
    /// the request waited for a free stream (the server's `SETTINGS_MAX_CONCURRENT_STREAMS`),
    /// as Go's HTTP/2 transport does between the same two points. Not called for HTTP/1.
    pub fn on_http2_stream_opened(
        mut self,
        f: impl Fn(&Http2StreamOpenedInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().http2_stream_opened = arc1(f);
        self
    }

    /// `Http2StreamReset` (not in Go): the request's HTTP/2 stream was ended early by a
    /// `RST_STREAM` (from the server, or from the client's HTTP/2 library) or cut by the
    /// server's `GOAWAY`, with the frame's error code; once, before the error reaches the
    /// caller. A stream the caller cancels (the request or its body dropped) is not told:
    /// nobody is listening any more.
    pub fn on_http2_stream_reset(
        mut self,
        f: impl Fn(&Http2StreamResetInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().http2_stream_reset = arc1(f);
        self
    }

    /// `Http2GoAway` (not in Go): the server sent `GOAWAY` on an HTTP/2 connection, with its
    /// last-stream-id, error code, debug data and the streams it cut. Told as `ConnClosed`
    /// is, to the trace of the request that dialled the connection, from the connection's
    /// task; the same care applies (capture nothing of the request here).
    pub fn on_http2_goaway(mut self, f: impl Fn(&Http2GoAwayInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().http2_goaway = arc1(f);
        self
    }

    /// `CallStart` (not in Go): a whole call begins, before its first attempt. Fired by a
    /// call-tracing layer placed outside redirect and retry layers.
    pub fn on_call_start(mut self, f: impl Fn(&CallStartInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().call_start = arc1(f);
        self
    }

    /// `AttemptStart` (not in Go): one request of a call goes out, numbered from 1, before
    /// its `GetConn`.
    pub fn on_attempt_start(
        mut self,
        f: impl Fn(&AttemptStartInfo) + Send + Sync + 'static,
    ) -> Self {
        self.hooks_mut().attempt_start = arc1(f);
        self
    }

    /// `CallDone` (not in Go): a whole call has its final response or its error.
    pub fn on_call_done(mut self, f: impl Fn(&CallDoneInfo) + Send + Sync + 'static) -> Self {
        self.hooks_mut().call_done = arc1(f);
        self
    }
}
