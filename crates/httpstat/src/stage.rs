//! [`Stage`]: where a request stands after the events its hooks recorded so far — what the
//! progress line says while it runs, and the error line says when it fails.

use std::net::SocketAddr;

use httptrace::{Event, EventKind};

/// The stage a request is in: the last one begun and not ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    BeforeSending,
    WaitingForConnection,
    Dns,
    Connecting,
    Connected,
    Tls,
    Sending,
    WaitingForResponse,
    Reading,
}

impl Stage {
    /// The stage after `events`, and the address being dialled or used, once one is known.
    pub(crate) fn of(events: &[Event]) -> (Stage, Option<SocketAddr>) {
        let mut stage = Stage::BeforeSending;
        let mut with = None;
        for e in events {
            stage = match &e.kind {
                EventKind::GetConn(_) => Stage::WaitingForConnection,
                EventKind::DnsStart(_) => Stage::Dns,
                EventKind::DnsDone(_) => Stage::Connecting,
                EventKind::ConnectStart(i) => {
                    with = Some(i.addr);
                    Stage::Connecting
                }
                EventKind::ConnectDone(i) if i.err.is_some() => Stage::Connecting,
                EventKind::ConnectDone(_) => Stage::Connected,
                EventKind::TlsHandshakeStart => Stage::Tls,
                EventKind::TlsHandshakeDone(i) if i.err.is_some() => Stage::Tls,
                EventKind::TlsHandshakeDone(_) => Stage::Sending,
                EventKind::GotConn(i) => {
                    with = i.conn.remote_addr.or(with);
                    Stage::Sending
                }
                EventKind::WroteRequest(_) => Stage::WaitingForResponse,
                EventKind::GotFirstResponseByte => Stage::Reading,
                _ => continue,
            };
        }
        (stage, with)
    }

    /// The stage as the error line names it: `(28) ... (during the TLS handshake)`.
    pub(crate) fn during(self) -> &'static str {
        match self {
            Stage::BeforeSending => "before sending",
            Stage::WaitingForConnection => "while waiting for a connection",
            Stage::Dns => "during the DNS lookup",
            Stage::Connecting => "while connecting",
            Stage::Connected => "after connecting",
            Stage::Tls => "during the TLS handshake",
            Stage::Sending => "while sending the request",
            Stage::WaitingForResponse => "while waiting for the response",
            Stage::Reading => "while reading the response",
        }
    }

    /// The stage as the progress line names it: `TLS handshake with 127.0.0.1:443 … 2.4 s`.
    pub(crate) fn doing(self) -> &'static str {
        match self {
            Stage::BeforeSending | Stage::WaitingForConnection => "Waiting for a connection",
            Stage::Dns => "DNS lookup",
            Stage::Connecting | Stage::Connected => "Connecting",
            Stage::Tls => "TLS handshake",
            Stage::Sending => "Sending the request",
            Stage::WaitingForResponse => "Waiting for the response",
            Stage::Reading => "Reading the response",
        }
    }
}
