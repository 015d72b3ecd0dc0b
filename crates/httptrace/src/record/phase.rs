//! [`Phase`]: the stretches a request's [`Timings`](crate::Timings) are cut into.

/// A stretch of a request's life, as [`Timings::phases`](crate::Timings::phases) cuts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// A retry's wait before this attempt (a retry middleware's backoff), from the end of
    /// the attempt before: only in the timings of an attempt after the first
    /// ([`TimingsRecorder::after_backoff`](crate::TimingsRecorder::after_backoff)).
    Backoff,
    /// Waiting for a connection: until the request's own lookup or dial began, or until it
    /// got an idle one; on HTTP/2, until its stream got a place on it (the server's
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`).
    Queue,
    /// DNS lookup.
    Dns,
    /// TCP connect.
    Connect,
    /// TLS handshake.
    Tls,
    /// Writing the request (from having the connection).
    Send,
    /// Waiting for the first byte of the response (the server's processing).
    Wait,
    /// Reading the response body.
    Receive,
}

impl Phase {
    /// The phase's key in [`Timings::to_json`](crate::Timings::to_json): `backoff`, `queue`,
    /// `dns`, `connect`, `tls`, `send`, `wait`, `receive`.
    pub fn key(self) -> &'static str {
        match self {
            Phase::Backoff => "backoff",
            Phase::Queue => "queue",
            Phase::Dns => "dns",
            Phase::Connect => "connect",
            Phase::Tls => "tls",
            Phase::Send => "send",
            Phase::Wait => "wait",
            Phase::Receive => "receive",
        }
    }

    /// The phase's name as httpstat prints it.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Backoff => "Backoff",
            Phase::Queue => "Queue",
            Phase::Dns => "DNS Lookup",
            Phase::Connect => "TCP Connection",
            Phase::Tls => "TLS Handshake",
            Phase::Send => "Request Sent",
            Phase::Wait => "Server Processing",
            Phase::Receive => "Content Transfer",
        }
    }
}
