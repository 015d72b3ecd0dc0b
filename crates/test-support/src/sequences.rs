//! The event sequences the tests expect: Go's sixteen hooks (`EventLog::trace`) and ours
//! (`EventLog::trace_beyond_go`) for the common exchanges.

/// A GET by host name over a fresh plain HTTP/1.1 connection, as Go's sixteen hooks
/// (`EventLog::trace`) record it.
pub const GO_FRESH_HTTP1_GET: [&str; 11] = [
    "GetConn",
    "DNSStart",
    "DNSDone",
    "ConnectStart",
    "ConnectDone",
    "GotConn",
    "WroteHeaderField(host)",
    "WroteHeaders",
    "WroteRequest",
    "GotFirstResponseByte",
    "PutIdleConn",
];

/// [`GO_FRESH_HTTP1_GET`] to an IP literal: no lookup.
pub fn go_fresh_http1_get_by_ip() -> Vec<&'static str> {
    GO_FRESH_HTTP1_GET
        .into_iter()
        .filter(|n| !n.starts_with("DNS"))
        .collect()
}

/// [`GO_FRESH_HTTP1_GET`] on a connection taken from the pool.
pub const GO_REUSED_HTTP1_GET: [&str; 7] = [
    "GetConn",
    "GotConn",
    "WroteHeaderField(host)",
    "WroteHeaders",
    "WroteRequest",
    "GotFirstResponseByte",
    "PutIdleConn",
];

/// An HTTP/1.1 exchange with an IP literal (no lookup) as Go's sixteen hooks record it: on a
/// `fresh` connection (dialled first) or one taken from the pool, with the head's `fields`
/// in wire order. [`go_fresh_http1_get_by_ip`] and [`GO_REUSED_HTTP1_GET`] are its GETs.
pub fn go_http1_by_ip(fresh: bool, fields: &[&str]) -> Vec<String> {
    let mut events = vec!["GetConn".to_owned()];
    if fresh {
        events.extend(["ConnectStart", "ConnectDone"].map(String::from));
    }
    events.push("GotConn".to_owned());
    events.extend(fields.iter().map(|f| format!("WroteHeaderField({f})")));
    events.extend(
        [
            "WroteHeaders",
            "WroteRequest",
            "GotFirstResponseByte",
            "PutIdleConn",
        ]
        .map(String::from),
    );
    events
}

/// The pseudo-header fields that open an HTTP/2 request's HEADERS frame, as `EventLog` names
/// their `WroteHeaderField` events, in the order the h2 crate writes them.
pub const GO_HTTP2_PSEUDO_FIELDS: [&str; 4] = [
    "WroteHeaderField(:method)",
    "WroteHeaderField(:scheme)",
    "WroteHeaderField(:authority)",
    "WroteHeaderField(:path)",
];

/// A stream on an HTTP/2 connection already open, as Go's sixteen hooks (`EventLog::trace`)
/// record it: the regular header `fields` after the pseudo ones, and no `PutIdleConn`.
pub fn go_http2_stream_on_open_connection(fields: &[&str]) -> Vec<String> {
    let mut events = vec!["GetConn".to_owned(), "GotConn".to_owned()];
    events.extend(GO_HTTP2_PSEUDO_FIELDS.map(String::from));
    events.extend(fields.iter().map(|f| format!("WroteHeaderField({f})")));
    events.extend(["WroteHeaders", "WroteRequest", "GotFirstResponseByte"].map(String::from));
    events
}

/// A GET over a fresh plain HTTP/1.1 connection (an IP literal: no lookup), as a trace with
/// every hook (`EventLog::trace_beyond_go`) records it, without its header fields.
pub const FRESH_HTTP1_GET: [&str; 10] = [
    "GetConn",
    "ConnectStart",
    "ConnectDone",
    "GotConn",
    "WroteHeaders",
    "RequestBodyDone",
    "WroteRequest",
    "GotFirstResponseByte",
    "PutIdleConn",
    "ResponseBodyDone",
];

/// [`FRESH_HTTP1_GET`] on a connection taken from the pool.
pub const REUSED_HTTP1_GET: [&str; 8] = [
    "GetConn",
    "GotConn",
    "WroteHeaders",
    "RequestBodyDone",
    "WroteRequest",
    "GotFirstResponseByte",
    "PutIdleConn",
    "ResponseBodyDone",
];
