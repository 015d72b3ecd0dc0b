//! The arguments of the hooks Go's `ClientTrace` does not have: the ends of both bodies, the
//! connection's close, and the whole call across redirects and retries.

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode, Uri};

use crate::error::TraceError;
use crate::info::go::ConnectionInfo;
use crate::record::redact::redact_url;

/// `RequestBodyDone` / `ResponseBodyDone`: a body ended, with how many bytes of data went
/// through it, and why it was cut short if it did not reach its end.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BodyDoneInfo {
    /// Data bytes that went through the body (written for a request body, read for a
    /// response body); trailers are not counted.
    pub bytes: u64,
    /// `None` when the body reached its end; otherwise why it did not (it failed, or it was
    /// dropped first).
    pub err: Option<TraceError>,
}

impl BodyDoneInfo {
    /// A body that ended after `bytes`, cut short by `err` if given.
    pub fn new(bytes: u64, err: Option<TraceError>) -> Self {
        BodyDoneInfo { bytes, err }
    }
}

/// Why a connection closed, as told to `ConnClosed`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CloseReason {
    /// The server closed it (the client read the end of the stream).
    ServerClosed,
    /// The pool closed it while it sat idle: its idle timeout passed (or the pool had no room
    /// for one more idle connection).
    IdleTimeout,
    /// Reading or writing failed (a reset, a TLS alert, ...).
    Error(TraceError),
    /// The client went away: every clone of the connector that made the connection (so the
    /// client and its pool) was dropped.
    PoolShutdown,
    /// A response body was dropped before its end, so the connection could not be reused.
    DroppedUnreadBody,
    /// The last exchange said the connection was not to be reused (`Connection: close`, an
    /// HTTP/1.0 response without keep-alive, a failed body, a request body held back).
    NotReusable,
    /// It closed with a request in flight that nobody waited for any more (the caller
    /// dropped the request).
    Abandoned,
}

impl CloseReason {
    /// A short name for logs: `"server closed"`, `"idle timeout"`, ...
    pub fn as_str(&self) -> &'static str {
        match self {
            CloseReason::ServerClosed => "server closed",
            CloseReason::IdleTimeout => "idle timeout",
            CloseReason::Error(_) => "error",
            CloseReason::PoolShutdown => "pool shutdown",
            CloseReason::DroppedUnreadBody => "dropped unread body",
            CloseReason::NotReusable => "not reusable",
            CloseReason::Abandoned => "abandoned",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::Error(err) => write!(f, "error: {err}"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// `ConnClosed`: a connection closed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnClosedInfo {
    /// The connection, as `GotConn` described it.
    pub conn: ConnectionInfo,
    /// Why it closed.
    pub reason: CloseReason,
    /// How many requests (HTTP/1 exchanges, HTTP/2 streams) it carried.
    pub requests_served: u64,
    /// How long it was open.
    pub lifetime: Duration,
}

impl ConnClosedInfo {
    /// Connection `conn` closed for `reason` after `requests_served` requests and `lifetime`.
    pub fn new(
        conn: ConnectionInfo,
        reason: CloseReason,
        requests_served: u64,
        lifetime: Duration,
    ) -> Self {
        ConnClosedInfo {
            conn,
            reason,
            requests_served,
            lifetime,
        }
    }
}

/// `CallStart`: a call begins, before its first attempt. Its `Debug` shows the URI with its
/// secrets redacted ([`redact_url`](crate::redact_url)); the field itself is as sent.
#[derive(Clone)]
#[non_exhaustive]
pub struct CallStartInfo {
    /// The method the call began with.
    pub method: Method,
    /// The URI the call began with.
    pub uri: Uri,
}

impl CallStartInfo {
    /// A call of `method` on `uri`.
    pub fn new(method: Method, uri: Uri) -> Self {
        CallStartInfo { method, uri }
    }
}

/// `AttemptStart`: one request of a call goes out (the first, a redirect's, or a retry). Its
/// `Debug` shows the URI with its secrets redacted; the field itself is as sent.
#[derive(Clone)]
#[non_exhaustive]
pub struct AttemptStartInfo {
    /// 1 for the call's first request, then 2, 3, ...
    pub attempt: u32,
    /// This attempt's method (a `303` turns a `POST` into a `GET`).
    pub method: Method,
    /// This attempt's target: after a redirect, where it pointed.
    pub uri: Uri,
    /// The status of the previous attempt's response, when it had one: a `3xx` means this
    /// attempt follows a redirect; otherwise it is a retry.
    pub previous_status: Option<StatusCode>,
}

impl AttemptStartInfo {
    /// Attempt number `attempt` of `method` on `uri`.
    pub fn new(
        attempt: u32,
        method: Method,
        uri: Uri,
        previous_status: Option<StatusCode>,
    ) -> Self {
        AttemptStartInfo {
            attempt,
            method,
            uri,
            previous_status,
        }
    }

    /// Whether this attempt follows a redirect (the previous response was a `3xx`).
    pub fn is_redirect(&self) -> bool {
        self.previous_status
            .is_some_and(|status| status.is_redirection())
    }
}

/// `CallDone`: a call has its result, the response of its last attempt (its body is then
/// that attempt's `ResponseBodyDone`) or an error.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CallDoneInfo {
    /// How many attempts the call made.
    pub attempts: u32,
    /// The final response's status, when there is one.
    pub status: Option<StatusCode>,
    /// Why the call failed, when it did.
    pub err: Option<TraceError>,
    /// From `CallStart` to now.
    pub elapsed: Duration,
}

impl CallDoneInfo {
    /// A call that made `attempts` attempts in `elapsed` and ended with `status` or `err`.
    pub fn new(
        attempts: u32,
        status: Option<StatusCode>,
        err: Option<TraceError>,
        elapsed: Duration,
    ) -> Self {
        CallDoneInfo {
            attempts,
            status,
            err,
            elapsed,
        }
    }
}

impl fmt::Debug for CallStartInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallStartInfo")
            .field("method", &self.method)
            .field("uri", &redact_url(&self.uri.to_string()))
            .finish()
    }
}

impl fmt::Debug for AttemptStartInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttemptStartInfo")
            .field("attempt", &self.attempt)
            .field("method", &self.method)
            .field("uri", &redact_url(&self.uri.to_string()))
            .field("previous_status", &self.previous_status)
            .finish()
    }
}
