//! `Serialize` (feature `serde`) for the infos, [`Event`] and [`Timings`]: every JSON this
//! crate writes goes through it.
//!
//! One key scheme everywhere: `snake_case`; durations and instants in whole microseconds,
//! their keys ending in `_us` (instants count from the request's start, or for events from
//! the log's); absent values are `null`. An info serializes to the keys its hook has in the
//! Go event logs (`host_port`, `reused`, `idle_us`, `err`, ...), an [`Event`] to `event`,
//! `t_us` and its info's keys. Secrets are redacted as [`Redaction::new`] says: sensitive
//! header values, URL userinfo and signed query values.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::info::go::{
    ConnectDoneInfo, ConnectStartInfo, DnsDoneInfo, DnsStartInfo, GetConnInfo, Got1xxResponseInfo,
    GotConnInfo, HeaderField, PutIdleConnInfo, TlsHandshakeDoneInfo, WroteHeaderFieldInfo,
    WroteRequestInfo,
};
use crate::info::http2::{Http2GoAwayInfo, Http2StreamOpenedInfo, Http2StreamResetInfo};
use crate::info::ours::{
    AttemptStartInfo, BodyDoneInfo, CallDoneInfo, CallStartInfo, CloseReason, ConnClosedInfo,
};
use crate::record::event_log::{Event, EventKind};
use crate::record::redact::Redaction;
use crate::record::timings::Timings;
use crate::TraceError;

/// Writes a value's keys into a map being serialized (so that an event can put its info's
/// keys beside its own).
pub(crate) trait Fields {
    fn fields<M: SerializeMap>(&self, map: &mut M, redaction: &Redaction) -> Result<(), M::Error>;
}

/// `value` as one line of JSON, with `redaction`.
fn json<T: Fields>(value: &T, redaction: &Redaction) -> String {
    serde_json::to_string(&Redacted(value, redaction)).expect("the records always serialize")
}

/// `value` serialized with `redaction` instead of the default.
pub(crate) struct Redacted<'a, T>(pub(crate) &'a T, pub(crate) &'a Redaction);

impl<T: Fields> Serialize for Redacted<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.0.fields(&mut map, self.1)?;
        map.end()
    }
}

impl Event {
    /// One JSON object (feature `serde`): `event`, `t_us`, then the hook's keys as in the
    /// Go event logs, with the secrets a [`Redaction::new`] hides hidden (sensitive header
    /// values, URL userinfo and signed query values, in URIs and in HTTP/2's `:authority`
    /// and `:path`).
    #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
    pub fn to_json(&self) -> String {
        self.to_json_with(&Redaction::new())
    }

    /// [`to_json`](Self::to_json), hiding what `redaction` says
    /// ([`Redaction::reveal_secrets`] shows everything).
    #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
    pub fn to_json_with(&self, redaction: &Redaction) -> String {
        json(self, redaction)
    }
}

/// `Serialize` through [`Fields`], with the default redaction.
macro_rules! serialize_by_fields {
    ($($ty:ty),* $(,)?) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                Redacted(self, &Redaction::new()).serialize(serializer)
            }
        }
    )*};
}

serialize_by_fields!(
    GetConnInfo<'_>,
    GotConnInfo,
    PutIdleConnInfo,
    Got1xxResponseInfo,
    DnsStartInfo,
    DnsDoneInfo,
    ConnectStartInfo,
    ConnectDoneInfo,
    TlsHandshakeDoneInfo,
    WroteHeaderFieldInfo<'_>,
    HeaderField,
    WroteRequestInfo,
    BodyDoneInfo,
    ConnClosedInfo,
    CallStartInfo,
    AttemptStartInfo,
    CallDoneInfo,
    Http2StreamOpenedInfo,
    Http2StreamResetInfo,
    Http2GoAwayInfo,
    Event,
);

fn err<M: SerializeMap>(map: &mut M, err: &Option<TraceError>) -> Result<(), M::Error> {
    map.serialize_entry("err", &err.as_ref().map(ToString::to_string))
}

fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Fields for GetConnInfo<'_> {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("host_port", &*self.host_port)
    }
}

impl Fields for GotConnInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("reused", &self.reused)?;
        map.serialize_entry("was_idle", &self.was_idle)?;
        map.serialize_entry("idle_us", &micros(self.idle_time))
    }
}

impl Fields for PutIdleConnInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        err(map, &self.err)
    }
}

impl Fields for Got1xxResponseInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("code", &self.status.as_u16())
    }
}

impl Fields for DnsStartInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("host", &self.host)
    }
}

impl Fields for DnsDoneInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        let addrs: Vec<String> = self.addrs.iter().map(ToString::to_string).collect();
        map.serialize_entry("addrs", &addrs)?;
        err(map, &self.err)?;
        map.serialize_entry("coalesced", &self.coalesced)
    }
}

impl Fields for ConnectStartInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("network", &self.network)?;
        map.serialize_entry("addr", &self.addr.to_string())
    }
}

impl Fields for ConnectDoneInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("network", &self.network)?;
        map.serialize_entry("addr", &self.addr.to_string())?;
        err(map, &self.err)
    }
}

impl Fields for TlsHandshakeDoneInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        let s = &self.state;
        let alpn = s.alpn_protocol.as_deref().map(String::from_utf8_lossy);
        map.serialize_entry("version", &s.version)?;
        map.serialize_entry("alpn", &alpn)?;
        map.serialize_entry("cipher", &s.cipher_suite)?;
        map.serialize_entry("resumed", &s.resumed)?;
        map.serialize_entry("server_name", &s.server_name)?;
        map.serialize_entry("peer_certs", &s.peer_certificates.len())?;
        err(map, &self.err)
    }
}

/// A header line: its name, and its values redacted as `redaction` says.
fn header<'v, M: SerializeMap>(
    map: &mut M,
    redaction: &Redaction,
    name: &str,
    values: impl Iterator<Item = &'v [u8]>,
) -> Result<(), M::Error> {
    let values: Vec<String> = values
        .map(|v| {
            let text = String::from_utf8_lossy(v);
            redaction.header_value(name, &text).into_owned()
        })
        .collect();
    map.serialize_entry("key", name)?;
    map.serialize_entry("values", &values)
}

impl Fields for WroteHeaderFieldInfo<'_> {
    fn fields<M: SerializeMap>(&self, map: &mut M, r: &Redaction) -> Result<(), M::Error> {
        header(map, r, self.name, self.values.iter().copied())
    }
}

impl Fields for HeaderField {
    fn fields<M: SerializeMap>(&self, map: &mut M, r: &Redaction) -> Result<(), M::Error> {
        header(map, r, &self.name, self.values.iter().map(|v| v.as_bytes()))
    }
}

impl Fields for WroteRequestInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        err(map, &self.err)
    }
}

impl Fields for BodyDoneInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("bytes", &self.bytes)?;
        err(map, &self.err)
    }
}

impl Fields for ConnClosedInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("conn", &self.conn.id.as_u64())?;
        map.serialize_entry("reason", self.reason.as_str())?;
        if let CloseReason::Error(e) = &self.reason {
            map.serialize_entry("err", &e.to_string())?;
        }
        map.serialize_entry("requests_served", &self.requests_served)?;
        map.serialize_entry("lifetime_us", &micros(self.lifetime))
    }
}

impl Fields for CallStartInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, r: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("method", self.method.as_str())?;
        map.serialize_entry("uri", &r.url(&self.uri.to_string()))
    }
}

impl Fields for AttemptStartInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, r: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("attempt", &self.attempt)?;
        map.serialize_entry("method", self.method.as_str())?;
        map.serialize_entry("uri", &r.url(&self.uri.to_string()))?;
        let previous = self.previous_status.map(|s| s.as_u16());
        map.serialize_entry("previous_status", &previous)
    }
}

impl Fields for CallDoneInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("attempts", &self.attempts)?;
        map.serialize_entry("status", &self.status.map(|s| s.as_u16()))?;
        err(map, &self.err)?;
        map.serialize_entry("elapsed_us", &micros(self.elapsed))
    }
}

impl Fields for Http2StreamOpenedInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("waited_us", &micros(self.waited))?;
        map.serialize_entry("max_concurrent_streams", &self.max_concurrent_streams)
    }
}

impl Fields for Http2StreamResetInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("code", &self.code.0)?;
        map.serialize_entry("code_name", &self.code.to_string())?;
        map.serialize_entry("sender", self.sender.as_str())?;
        map.serialize_entry("frame", self.frame.as_str())
    }
}

impl Fields for Http2GoAwayInfo {
    fn fields<M: SerializeMap>(&self, map: &mut M, _: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("conn", &self.conn.id.as_u64())?;
        map.serialize_entry("last_stream_id", &self.last_stream_id)?;
        map.serialize_entry("code", &self.code.0)?;
        map.serialize_entry("code_name", &self.code.to_string())?;
        map.serialize_entry("debug_data", &self.debug_data)?;
        map.serialize_entry("cut_streams", &self.cut_streams)?;
        map.serialize_entry("cut_count", &self.cut_count)
    }
}

impl Fields for Event {
    fn fields<M: SerializeMap>(&self, map: &mut M, r: &Redaction) -> Result<(), M::Error> {
        map.serialize_entry("event", self.name())?;
        map.serialize_entry("t_us", &micros(self.at))?;
        match &self.kind {
            EventKind::GetConn(i) => i.fields(map, r),
            EventKind::GotConn(i) => i.fields(map, r),
            EventKind::PutIdleConn(i) => i.fields(map, r),
            EventKind::Got1xxResponse(i) => i.fields(map, r),
            EventKind::DnsStart(i) => i.fields(map, r),
            EventKind::DnsDone(i) => i.fields(map, r),
            EventKind::ConnectStart(i) => i.fields(map, r),
            EventKind::ConnectDone(i) => i.fields(map, r),
            EventKind::TlsHandshakeDone(i) => i.fields(map, r),
            EventKind::WroteHeaderField(i) => i.fields(map, r),
            EventKind::WroteRequest(i) => i.fields(map, r),
            EventKind::RequestBodyDone(i) | EventKind::ResponseBodyDone(i) => i.fields(map, r),
            EventKind::ConnClosed(i) => i.fields(map, r),
            EventKind::CallStart(i) => i.fields(map, r),
            EventKind::AttemptStart(i) => i.fields(map, r),
            EventKind::CallDone(i) => i.fields(map, r),
            EventKind::Http2StreamOpened(i) => i.fields(map, r),
            EventKind::Http2StreamReset(i) => i.fields(map, r),
            EventKind::Http2GoAway(i) => i.fields(map, r),
            EventKind::Request { n } => map.serialize_entry("n", n),
            EventKind::Response { status, proto } => {
                map.serialize_entry("status", status)?;
                map.serialize_entry("proto", proto)
            }
            EventKind::Error { err } => map.serialize_entry("err", err),
            EventKind::GotFirstResponseByte
            | EventKind::Got100Continue
            | EventKind::TlsHandshakeStart
            | EventKind::WroteHeaders
            | EventKind::Wait100Continue => Ok(()),
        }
    }
}

impl Timings {
    /// The timings as one JSON object (feature `serde`): the request (`method`, `url`
    /// redacted, `status`, `protocol`), its connection (`reused`, `was_idle`, `idle_us`,
    /// `remote_addr`), curl's durations (`namelookup_us`, ...), the Resource Timing instants
    /// under `marks_us` (`backoff_end`, `domain_lookup_start`, ...), the `phases` in order and the bodies'
    /// sizes: every key `snake_case`, every time in microseconds from
    /// [`fetch_start`](Timings::fetch_start), `null` for what did not happen.
    ///
    /// ```
    /// let recorder = httptrace::TimingsRecorder::new();
    /// let json = recorder.timings().to_json();
    /// assert!(json.starts_with(r#"{"method":null,"url":null,"status":null,"#));
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
    pub fn to_json(&self) -> String {
        self.to_json_with(&Redaction::new())
    }

    /// [`to_json`](Self::to_json), hiding what `redaction` says in the URL
    /// ([`Redaction::reveal_secrets`] shows it whole).
    #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
    pub fn to_json_with(&self, redaction: &Redaction) -> String {
        json(self, redaction)
    }
}

impl Serialize for Timings {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Redacted(self, &Redaction::new()).serialize(serializer)
    }
}

/// Resource Timing's instants, from the request's start.
struct Marks<'a>(&'a Timings);

impl Serialize for Marks<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let marks = [
            ("backoff_end", t.backoff_end),
            ("domain_lookup_start", t.domain_lookup_start),
            ("domain_lookup_end", t.domain_lookup_end),
            ("connect_start", t.connect_start),
            ("connect_end", t.connect_end),
            ("secure_connection_start", t.secure_connection_start),
            ("secure_connection_end", t.secure_connection_end),
            ("request_start", t.request_start),
            ("http2_stream_start", t.http2_stream_start),
            ("request_end", t.request_end),
            (
                "first_interim_response_start",
                t.first_interim_response_start,
            ),
            ("response_start", t.response_start),
            ("response_end", t.response_end),
        ];
        let mut map = serializer.serialize_map(Some(marks.len()))?;
        for (name, at) in marks {
            let since = at.map(|at| micros(at.saturating_duration_since(t.fetch_start)));
            map.serialize_entry(name, &since)?;
        }
        map.end()
    }
}

/// The phases in order, each `{"phase": key, "us": duration}`.
struct Phases<'a>(&'a Timings);

impl Serialize for Phases<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let phases = self.0.phases();
        let mut seq = serializer.serialize_seq(Some(phases.len()))?;
        for (phase, d) in phases {
            seq.serialize_element(&PhaseEntry(phase.key(), micros(d)))?;
        }
        seq.end()
    }
}

struct PhaseEntry(&'static str, u64);

impl Serialize for PhaseEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("phase", self.0)?;
        map.serialize_entry("us", &self.1)?;
        map.end()
    }
}

impl Fields for Timings {
    fn fields<M: SerializeMap>(&self, map: &mut M, r: &Redaction) -> Result<(), M::Error> {
        let opt_micros = |d: Option<std::time::Duration>| d.map(micros);
        map.serialize_entry("method", &self.method.as_ref().map(http::Method::as_str))?;
        let url = self
            .url
            .as_ref()
            .map(|u| r.url(&u.to_string()).into_owned());
        map.serialize_entry("url", &url)?;
        map.serialize_entry("status", &self.status.map(|s| s.as_u16()))?;
        map.serialize_entry("protocol", &self.protocol)?;
        map.serialize_entry("reused", &self.reused)?;
        map.serialize_entry("was_idle", &self.was_idle)?;
        map.serialize_entry("idle_us", &micros(self.idle_time))?;
        let remote = self.remote_addr.map(|a| a.to_string());
        map.serialize_entry("remote_addr", &remote)?;
        map.serialize_entry("namelookup_us", &opt_micros(self.namelookup()))?;
        map.serialize_entry("connect_us", &opt_micros(self.connect()))?;
        map.serialize_entry("appconnect_us", &opt_micros(self.appconnect()))?;
        map.serialize_entry("pretransfer_us", &opt_micros(self.pretransfer()))?;
        map.serialize_entry("starttransfer_us", &opt_micros(self.starttransfer()))?;
        map.serialize_entry("total_us", &opt_micros(self.total()))?;
        map.serialize_entry("queue_us", &opt_micros(self.queue()))?;
        map.serialize_entry("marks_us", &Marks(self))?;
        map.serialize_entry("phases", &Phases(self))?;
        map.serialize_entry("request_body_bytes", &self.request_body_bytes)?;
        map.serialize_entry("response_body_bytes", &self.response_body_bytes)?;
        map.serialize_entry("response_error", &self.response_error)
    }
}
