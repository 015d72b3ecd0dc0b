//! The methods that fire [`ClientTrace`]'s hooks (and feed its timings recorders).

use super::client_trace::ClientTrace;
use crate::error::BoxError;
use crate::hook::{call, call_fallible, call_field, call_get_conn};
use crate::info::go::{
    ConnectDoneInfo, ConnectStartInfo, DnsDoneInfo, DnsStartInfo, GetConnInfo, Got1xxResponseInfo,
    GotConnInfo, PutIdleConnInfo, TlsHandshakeDoneInfo, WroteHeaderFieldInfo, WroteRequestInfo,
};
use crate::info::http2::{Http2GoAwayInfo, Http2StreamOpenedInfo, Http2StreamResetInfo};
use crate::info::ours::{
    AttemptStartInfo, BodyDoneInfo, CallDoneInfo, CallStartInfo, ConnClosedInfo,
};
use crate::record::timings::TimingsRecorder;

impl ClientTrace {
    /// Calls the `GetConn` hook.
    pub fn get_conn(&self, info: &GetConnInfo<'_>) {
        call_get_conn(&self.hooks().get_conn, info);
        self.record(TimingsRecorder::get_conn)
    }
    /// Calls the `GotConn` hook.
    pub fn got_conn(&self, info: &GotConnInfo) {
        call("GotConn", &self.hooks().got_conn, info);
        self.record(|r| r.got_conn(info))
    }
    /// Calls the `PutIdleConn` hook.
    pub fn put_idle_conn(&self, info: &PutIdleConnInfo) {
        call("PutIdleConn", &self.hooks().put_idle_conn, info)
    }
    /// Calls the `GotFirstResponseByte` hook.
    pub fn got_first_response_byte(&self) {
        call(
            "GotFirstResponseByte",
            &self.hooks().got_first_response_byte,
            &(),
        );
        self.record(TimingsRecorder::got_first_response_byte)
    }
    /// Calls the `Got100Continue` hook.
    pub fn got_100_continue(&self) {
        call("Got100Continue", &self.hooks().got_100_continue, &());
        self.record(TimingsRecorder::interim_response)
    }
    /// Calls the `Got1xxResponse` hook; an error means: abort the request with it.
    pub fn got_1xx_response(&self, info: &Got1xxResponseInfo) -> Result<(), BoxError> {
        let result = call_fallible("Got1xxResponse", &self.hooks().got_1xx_response, info);
        self.record(TimingsRecorder::interim_response);
        result
    }
    /// Calls the `DNSStart` hook.
    pub fn dns_start(&self, info: &DnsStartInfo) {
        call("DNSStart", &self.hooks().dns_start, info);
        self.record(TimingsRecorder::dns_start)
    }
    /// Calls the `DNSDone` hook.
    pub fn dns_done(&self, info: &DnsDoneInfo) {
        call("DNSDone", &self.hooks().dns_done, info);
        self.record(TimingsRecorder::dns_done)
    }
    /// Calls the `ConnectStart` hook.
    pub fn connect_start(&self, info: &ConnectStartInfo) {
        call("ConnectStart", &self.hooks().connect_start, info);
        self.record(TimingsRecorder::connect_start)
    }
    /// Calls the `ConnectDone` hook.
    pub fn connect_done(&self, info: &ConnectDoneInfo) {
        call("ConnectDone", &self.hooks().connect_done, info);
        self.record(|r| r.connect_done(info))
    }
    /// Calls the `TLSHandshakeStart` hook.
    pub fn tls_handshake_start(&self) {
        call("TLSHandshakeStart", &self.hooks().tls_handshake_start, &());
        self.record(TimingsRecorder::tls_handshake_start)
    }
    /// Calls the `TLSHandshakeDone` hook.
    pub fn tls_handshake_done(&self, info: &TlsHandshakeDoneInfo) {
        call("TLSHandshakeDone", &self.hooks().tls_handshake_done, info);
        self.record(|r| r.tls_handshake_done(info))
    }
    /// Calls the `WroteHeaderField` hook.
    pub fn wrote_header_field(&self, info: &WroteHeaderFieldInfo<'_>) {
        call_field(&self.hooks().wrote_header_field, info)
    }
    /// Calls the `WroteHeaders` hook.
    pub fn wrote_headers(&self) {
        call("WroteHeaders", &self.hooks().wrote_headers, &())
    }
    /// Calls the `Wait100Continue` hook.
    pub fn wait_100_continue(&self) {
        call("Wait100Continue", &self.hooks().wait_100_continue, &())
    }
    /// Calls the `WroteRequest` hook.
    pub fn wrote_request(&self, info: &WroteRequestInfo) {
        call("WroteRequest", &self.hooks().wrote_request, info);
        self.record(TimingsRecorder::wrote_request)
    }
    /// Calls the `RequestBodyDone` hook.
    pub fn request_body_done(&self, info: &BodyDoneInfo) {
        call("RequestBodyDone", &self.hooks().request_body_done, info)
    }
    /// Calls the `ResponseBodyDone` hook.
    pub fn response_body_done(&self, info: &BodyDoneInfo) {
        call("ResponseBodyDone", &self.hooks().response_body_done, info)
    }
    /// Calls the `ConnClosed` hook.
    pub fn conn_closed(&self, info: &ConnClosedInfo) {
        call("ConnClosed", &self.hooks().conn_closed, info)
    }
    /// Calls the `CallStart` hook.
    pub fn call_start(&self, info: &CallStartInfo) {
        call("CallStart", &self.hooks().call_start, info)
    }
    /// Calls the `AttemptStart` hook.
    pub fn attempt_start(&self, info: &AttemptStartInfo) {
        call("AttemptStart", &self.hooks().attempt_start, info)
    }
    /// Calls the `CallDone` hook.
    pub fn call_done(&self, info: &CallDoneInfo) {
        call("CallDone", &self.hooks().call_done, info)
    }
    /// Calls the `Http2StreamOpened` hook.
    pub fn http2_stream_opened(&self, info: &Http2StreamOpenedInfo) {
        call("Http2StreamOpened", &self.hooks().http2_stream_opened, info);
        self.record(TimingsRecorder::http2_stream_opened)
    }
    /// Calls the `Http2StreamReset` hook.
    pub fn http2_stream_reset(&self, info: &Http2StreamResetInfo) {
        call("Http2StreamReset", &self.hooks().http2_stream_reset, info)
    }
    /// Calls the `Http2GoAway` hook.
    pub fn http2_goaway(&self, info: &Http2GoAwayInfo) {
        call("Http2GoAway", &self.hooks().http2_goaway, info)
    }
}
