//! `error.type`: low-cardinality names for why a request, a lookup or a phase failed, as the
//! semantic conventions ask (their own examples where one fits: `timeout`,
//! `server_certificate_invalid`, getaddrinfo's `host_not_found`; otherwise the names .NET's
//! HttpClient reports, which the conventions list for it), `_OTHER` when none fits, and the
//! status code for a response that is an error.

use std::any::Any;
use std::error::Error as StdError;
use std::io::ErrorKind;

use httptrace::{BoxError, TraceError};

/// None of the names below fits.
pub(super) const OTHER: &str = "_OTHER";
/// The request or phase took longer than its limit.
pub(super) const TIMEOUT: &str = "timeout";
/// The name was not resolved (for the request; the lookup itself says why).
pub(super) const NAME_RESOLUTION: &str = "name_resolution_error";
/// No TCP connection: refused, unreachable, reset while connecting.
pub(super) const CONNECTION: &str = "connection_error";
/// The TLS handshake failed for another reason than the certificate.
pub(super) const SECURE_CONNECTION: &str = "secure_connection_error";
/// The server's certificate was not accepted.
pub(super) const CERTIFICATE: &str = "server_certificate_invalid";
/// The connection ended before the whole response arrived.
pub(super) const RESPONSE_ENDED: &str = "response_ended";
/// The response could not be parsed, or broke a limit (too many 1xx).
pub(super) const INVALID_RESPONSE: &str = "invalid_response";
/// Any other failure of the HTTP exchange itself.
pub(super) const PROTOCOL: &str = "http_protocol_error";
/// A hook vetoed the request (`Got1xxResponse` returned an error).
pub(super) const ABORTED: &str = "aborted";
/// The caller dropped the request before its response.
pub(super) const CANCELED: &str = "canceled";

fn timed_out(err: &TraceError) -> bool {
    err.io_error_kind() == Some(ErrorKind::TimedOut) || err.to_string().contains("timed out")
}

/// A failed lookup, for `dns.lookup.duration` and the lookup's span: getaddrinfo's error,
/// read off its message, when it says which.
pub(super) fn of_lookup(err: &TraceError) -> &'static str {
    let message = err.to_string();
    let said = |any: &[&str]| any.iter().any(|m| message.contains(m));
    if said(&[
        "Name or service not known",
        "nodename nor servname",
        "No such host",
    ]) {
        "host_not_found"
    } else if said(&["Temporary failure in name resolution", "try again"]) {
        "try_again"
    } else if said(&["Non-recoverable failure", "non-recoverable"]) {
        "no_recovery"
    } else if timed_out(err) {
        TIMEOUT
    } else {
        OTHER
    }
}

/// A failed connect attempt.
pub(super) fn of_connect(err: &TraceError) -> &'static str {
    if timed_out(err) {
        TIMEOUT
    } else {
        CONNECTION
    }
}

/// A failed TLS handshake.
pub(super) fn of_tls(err: &TraceError) -> &'static str {
    if timed_out(err) {
        TIMEOUT
    } else if err.to_string().contains("certificate") {
        CERTIFICATE
    } else {
        SECURE_CONNECTION
    }
}

/// A request that failed with `err` and no failure of getting its connection to tell why:
/// the error's chain, when its type lets us walk it (this crate's `Error`, a `BoxError`,
/// hyper's or hyper-util's), else its message.
pub(super) fn of_request<E: std::fmt::Display + 'static>(err: &E) -> &'static str {
    let any: &dyn Any = err;
    if let Some(ours) = any.downcast_ref::<httptrace_tower::Error>() {
        return match ours {
            httptrace_tower::Error::Aborted(_) => ABORTED,
            httptrace_tower::Error::TooManyInformational(_) => INVALID_RESPONSE,
            // Transparent: its `source()` skips the inner error itself.
            httptrace_tower::Error::Service(inner) => of_chain(&**inner),
            _ => OTHER,
        };
    }
    if let Some(boxed) = any.downcast_ref::<BoxError>() {
        return of_chain(&**boxed);
    }
    if let Some(client) = any.downcast_ref::<hyper_util::client::legacy::Error>() {
        return of_chain(client);
    }
    if err.to_string().contains("timed out") {
        TIMEOUT
    } else {
        OTHER
    }
}

fn of_chain(err: &(dyn StdError + 'static)) -> &'static str {
    let mut next = Some(err);
    while let Some(err) = next {
        if let Some(hyper) = err.downcast_ref::<hyper::Error>() {
            if hyper.is_timeout() {
                return TIMEOUT;
            }
            if hyper.is_incomplete_message() {
                return RESPONSE_ENDED;
            }
            if hyper.is_parse() || hyper.is_parse_status() {
                return INVALID_RESPONSE;
            }
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                ErrorKind::TimedOut => return TIMEOUT,
                ErrorKind::UnexpectedEof => return RESPONSE_ENDED,
                ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
                | ErrorKind::BrokenPipe => return CONNECTION,
                _ => {}
            }
        }
        if err.to_string().contains("timed out") {
            return TIMEOUT;
        }
        next = err.source();
    }
    if err.downcast_ref::<hyper::Error>().is_some() || has_hyper(err) {
        PROTOCOL
    } else {
        OTHER
    }
}

/// Whether a `hyper::Error` is among `err`'s causes (not `err` itself).
fn has_hyper(err: &(dyn StdError + 'static)) -> bool {
    std::iter::successors(err.source(), |&e| e.source()).any(|e| e.is::<hyper::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_connects_and_handshakes_name_their_failures() {
        let msg = |m: &str| TraceError::msg(m);
        assert_eq!(
            of_lookup(&msg(
                "failed to lookup address information: Name or service not known"
            )),
            "host_not_found"
        );
        assert_eq!(
            of_lookup(&msg("Temporary failure in name resolution")),
            "try_again"
        );
        assert_eq!(of_lookup(&msg("no answer from the test resolver")), OTHER);
        let refused = TraceError::new(std::io::Error::from(ErrorKind::ConnectionRefused));
        assert_eq!(of_connect(&refused), CONNECTION);
        assert_eq!(of_connect(&msg("connect timed out")), TIMEOUT);
        assert_eq!(
            of_tls(&msg("invalid peer certificate: UnknownIssuer")),
            CERTIFICATE
        );
        assert_eq!(of_tls(&msg("TLS handshake timed out after 10s")), TIMEOUT);
        assert_eq!(of_tls(&msg("peer closed connection")), SECURE_CONNECTION);
    }

    #[test]
    fn a_request_error_is_named_from_its_chain() {
        let boxed: BoxError = Box::new(std::io::Error::from(ErrorKind::UnexpectedEof));
        assert_eq!(
            of_request(&httptrace_tower::Error::Service(boxed)),
            RESPONSE_ENDED
        );
        let boxed: BoxError = "request timed out".into();
        assert_eq!(of_request(&boxed), TIMEOUT);
        let aborted = httptrace_tower::Error::Aborted("vetoed".into());
        assert_eq!(of_request(&aborted), ABORTED);
        assert_eq!(of_request(&"something else"), OTHER);
    }
}
