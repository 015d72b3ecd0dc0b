//! The arguments handed to the hooks, one type per hook.
//!
//! Every type is `#[non_exhaustive]`: fields may be added without breaking hooks that read
//! them. Instrumentation that fires hooks itself (a third-party connector, say) builds them
//! with their `new` constructors.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::{HeaderName, HeaderValue, StatusCode};

use crate::error::TraceError;
use crate::record::redact::Redaction;
use crate::tls::TlsConnectionState;

/// Identifies one connection for as long as it lives; never reused within a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    /// A fresh identifier, distinct from every other one made in this process.
    pub fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        ConnectionId(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The identifier as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl std::fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What a connection is: Go's `GotConnInfo.Conn`, minus the socket itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// Stable for the connection's whole life.
    pub id: ConnectionId,
    /// Our end of the connection, when the transport has one.
    pub local_addr: Option<SocketAddr>,
    /// The server's end (or the proxy's), when the transport has one.
    pub remote_addr: Option<SocketAddr>,
}

impl ConnectionInfo {
    /// Describes connection `id` between the two addresses.
    pub fn new(
        id: ConnectionId,
        local_addr: Option<SocketAddr>,
        remote_addr: Option<SocketAddr>,
    ) -> Self {
        ConnectionInfo {
            id,
            local_addr,
            remote_addr,
        }
    }
}

/// `GetConn`: a connection is about to be obtained for the request.
///
/// It may borrow its text from the caller (the layer formats it into a reused buffer, so
/// firing `GetConn` allocates nothing); keep it with [`into_owned`](GetConnInfo::into_owned).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetConnInfo<'a> {
    /// `host:port` of the target (or proxy); the port is filled in from the scheme when the
    /// URL has none, IPv6 literals are bracketed: `[::1]:8080`.
    pub host_port: Cow<'a, str>,
}

impl<'a> GetConnInfo<'a> {
    /// `GetConn` for `host_port`.
    pub fn new(host_port: impl Into<Cow<'a, str>>) -> Self {
        GetConnInfo {
            host_port: host_port.into(),
        }
    }

    /// A copy that owns its text.
    pub fn into_owned(self) -> GetConnInfo<'static> {
        GetConnInfo {
            host_port: Cow::Owned(self.host_port.into_owned()),
        }
    }
}

/// `GotConn`: the request has a connection, before any of its header is written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GotConnInfo {
    /// The connection obtained.
    pub conn: ConnectionInfo,
    /// The connection carried an earlier request.
    pub reused: bool,
    /// The connection sat in the idle pool before this request took it.
    pub was_idle: bool,
    /// How long it sat idle, when `was_idle`; zero otherwise.
    pub idle_time: Duration,
}

impl GotConnInfo {
    /// `GotConn` for `conn`.
    pub fn new(conn: ConnectionInfo, reused: bool, was_idle: bool, idle_time: Duration) -> Self {
        GotConnInfo {
            conn,
            reused,
            was_idle,
            idle_time,
        }
    }
}

/// `PutIdleConn`: the connection went back to the idle pool, or (with an error) why not.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PutIdleConnInfo {
    /// `None` when the connection was returned to the pool.
    pub err: Option<TraceError>,
}

impl PutIdleConnInfo {
    /// `PutIdleConn` with `err`.
    pub fn new(err: Option<TraceError>) -> Self {
        PutIdleConnInfo { err }
    }
}

/// `DNSStart`: a lookup begins.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnsStartInfo {
    /// The name being looked up.
    pub host: String,
}

impl DnsStartInfo {
    /// `DNSStart` for `host`.
    pub fn new(host: impl Into<String>) -> Self {
        DnsStartInfo { host: host.into() }
    }
}

/// `DNSDone`: a lookup ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DnsDoneInfo {
    /// The addresses found, in the resolver's order; empty on failure.
    pub addrs: Vec<IpAddr>,
    /// Why the lookup failed.
    pub err: Option<TraceError>,
    /// The result was shared with a concurrent lookup of the same name.
    pub coalesced: bool,
}

impl DnsDoneInfo {
    /// `DNSDone` with its result.
    pub fn new(addrs: Vec<IpAddr>, err: Option<TraceError>, coalesced: bool) -> Self {
        DnsDoneInfo {
            addrs,
            err,
            coalesced,
        }
    }
}

/// `ConnectStart`: one dial attempt begins.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectStartInfo {
    /// `"tcp"`, as Go names it for both address families.
    pub network: &'static str,
    /// The address dialled.
    pub addr: SocketAddr,
}

impl ConnectStartInfo {
    /// `ConnectStart` for `addr`.
    pub fn new(network: &'static str, addr: SocketAddr) -> Self {
        ConnectStartInfo { network, addr }
    }
}

/// `ConnectDone`: one dial attempt ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectDoneInfo {
    /// As in the matching [`ConnectStartInfo`].
    pub network: &'static str,
    /// As in the matching [`ConnectStartInfo`].
    pub addr: SocketAddr,
    /// Why the attempt failed (refused, timed out, or cancelled because another won).
    pub err: Option<TraceError>,
    /// The connection's own address, for an attempt that connected (not in Go's hook): known
    /// here even when the connection never becomes a request's (a TLS handshake that fails).
    pub local_addr: Option<SocketAddr>,
}

impl ConnectDoneInfo {
    /// `ConnectDone` for `addr`.
    pub fn new(network: &'static str, addr: SocketAddr, err: Option<TraceError>) -> Self {
        ConnectDoneInfo {
            network,
            addr,
            err,
            local_addr: None,
        }
    }

    /// The same, for an attempt that connected from `local`.
    pub fn with_local_addr(mut self, local: SocketAddr) -> Self {
        self.local_addr = Some(local);
        self
    }
}

/// `TLSHandshakeDone`: a handshake ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TlsHandshakeDoneInfo {
    /// What was negotiated; as far as it got when the handshake failed.
    pub state: TlsConnectionState,
    /// Why the handshake failed.
    pub err: Option<TraceError>,
}

impl TlsHandshakeDoneInfo {
    /// `TLSHandshakeDone` with its result.
    pub fn new(state: TlsConnectionState, err: Option<TraceError>) -> Self {
        TlsHandshakeDoneInfo { state, err }
    }
}

/// `WroteHeaderField`: one header field was written; all the values of consecutive lines
/// with the same name come in one call, as in Go.
///
/// It borrows the bytes being written, so reporting a field costs no allocation; keep it
/// with [`to_owned_field`](WroteHeaderFieldInfo::to_owned_field).
///
/// ```
/// let value: &[u8] = b"example.com";
/// let info = httptrace::WroteHeaderFieldInfo::new("host", std::slice::from_ref(&value));
/// assert_eq!(info.value_strs().collect::<Vec<_>>(), ["example.com"]);
/// assert_eq!(info.to_owned_field().values[0], "example.com");
/// ```
///
/// Its `Debug` hides what the ready-made outputs hide ([`Redaction`]); the fields are as
/// written.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WroteHeaderFieldInfo<'a> {
    /// The field name, lowercased (HTTP/2 pseudo-headers keep their colon: `:authority`).
    pub name: &'a str,
    /// The values, in the order written, as the bytes sent.
    pub values: &'a [&'a [u8]],
}

impl<'a> WroteHeaderFieldInfo<'a> {
    /// `WroteHeaderField` for `name`.
    pub fn new(name: &'a str, values: &'a [&'a [u8]]) -> Self {
        WroteHeaderFieldInfo { name, values }
    }

    /// The name as an [`HeaderName`], `None` for pseudo-headers.
    pub fn header_name(&self) -> Option<HeaderName> {
        HeaderName::from_bytes(self.name.as_bytes()).ok()
    }

    /// The values as text (bytes that are not UTF-8 are replaced, as in
    /// [`String::from_utf8_lossy`]).
    pub fn value_strs(&self) -> impl Iterator<Item = Cow<'a, str>> + 'a {
        self.values.iter().map(|v| String::from_utf8_lossy(v))
    }

    /// An owned copy, to keep past the hook call. Values that are not valid header values
    /// are left out.
    pub fn to_owned_field(&self) -> HeaderField {
        HeaderField {
            name: self.name.to_owned(),
            values: self
                .values
                .iter()
                .filter_map(|v| HeaderValue::from_bytes(v).ok())
                .collect(),
        }
    }
}

/// A header field as written, owned: what [`WroteHeaderFieldInfo::to_owned_field`] makes.
/// Its `Debug` hides what the ready-made outputs hide ([`Redaction`]).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeaderField {
    /// The field name, lowercased (HTTP/2 pseudo-headers keep their colon: `:authority`).
    pub name: String,
    /// The values, in the order written.
    pub values: Vec<HeaderValue>,
}

impl HeaderField {
    /// The name as an [`HeaderName`], `None` for pseudo-headers.
    pub fn header_name(&self) -> Option<HeaderName> {
        HeaderName::from_bytes(self.name.as_bytes()).ok()
    }
}

/// `WroteRequest`: the request and its body were written, or writing failed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WroteRequestInfo {
    /// Why writing failed.
    pub err: Option<TraceError>,
}

impl WroteRequestInfo {
    /// `WroteRequest` with `err`.
    pub fn new(err: Option<TraceError>) -> Self {
        WroteRequestInfo { err }
    }
}

/// `Got1xxResponse`: an informational response arrived before the final one. Its `Debug`
/// hides the values of sensitive headers ([`Redaction`]).
#[derive(Clone)]
#[non_exhaustive]
pub struct Got1xxResponseInfo {
    /// 100 to 199 (101 is a final response and never reported here).
    pub status: StatusCode,
    /// Its header fields.
    pub headers: http::HeaderMap,
}

impl Got1xxResponseInfo {
    /// `Got1xxResponse` for `status`.
    pub fn new(status: StatusCode, headers: http::HeaderMap) -> Self {
        Got1xxResponseInfo { status, headers }
    }
}

/// The values of one header field as `Debug` shows them: each as [`Redaction::new`] would.
struct ShownValues<'a, V> {
    name: &'a str,
    values: &'a [V],
    text: fn(&V) -> Cow<'_, str>,
}

impl<V> fmt::Debug for ShownValues<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redaction = Redaction::new();
        f.debug_list()
            .entries(self.values.iter().map(|v| {
                redaction
                    .header_value(self.name, &(self.text)(v))
                    .into_owned()
            }))
            .finish()
    }
}

impl fmt::Debug for WroteHeaderFieldInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = ShownValues {
            name: self.name,
            values: self.values,
            text: |v: &&[u8]| String::from_utf8_lossy(v),
        };
        f.debug_struct("WroteHeaderFieldInfo")
            .field("name", &self.name)
            .field("values", &values)
            .finish()
    }
}

impl fmt::Debug for HeaderField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = ShownValues {
            name: &self.name,
            values: &self.values,
            text: |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()),
        };
        f.debug_struct("HeaderField")
            .field("name", &self.name)
            .field("values", &values)
            .finish()
    }
}

impl fmt::Debug for Got1xxResponseInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redaction = Redaction::new();
        let headers: Vec<(&str, String)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let text = String::from_utf8_lossy(value.as_bytes());
                (
                    name.as_str(),
                    redaction.header_value(name.as_str(), &text).into_owned(),
                )
            })
            .collect();
        f.debug_struct("Got1xxResponseInfo")
            .field("status", &self.status)
            .field("headers", &headers)
            .finish()
    }
}
