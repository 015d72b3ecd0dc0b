//! [`Failure`]: why an exchange failed, as curl numbers it (its exit codes, so that
//! `|| case $?` scripts written for curl work unchanged), with curl's wording and the phase
//! the hooks saw it fail in.

use std::error::Error;
use std::time::Duration;

use httptrace::{Event, EventKind};

use crate::stage::Stage;

/// A failed exchange: curl's exit code, its message, and where it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// curl's exit code for it.
    pub(crate) code: u8,
    /// curl's message for that code (details of ours where curl has none).
    pub(crate) message: String,
    /// The phase in progress when it failed, from the hooks ("while connecting", "during the TLS handshake").
    pub(crate) phase: &'static str,
    /// OpenSSL's verify result for a certificate the peer presented and that failed, as
    /// curl's `ssl_verify_result` gives it; 0 otherwise.
    pub(crate) verify_result: u64,
}

/// curl's exit codes used here.
pub(crate) mod code {
    pub(crate) const BAD_URL: u8 = 3;
    pub(crate) const RESOLVE: u8 = 6;
    pub(crate) const CONNECT: u8 = 7;
    pub(crate) const HTTP_ERROR: u8 = 22;
    pub(crate) const TIMEOUT: u8 = 28;
    pub(crate) const TLS: u8 = 35;
    pub(crate) const TOO_MANY_REDIRECTS: u8 = 47;
    pub(crate) const EMPTY_REPLY: u8 = 52;
    pub(crate) const RECV: u8 = 56;
    pub(crate) const PEER_CERTIFICATE: u8 = 60;
    /// Anything else: curl's "failed initialization" is the nearest.
    pub(crate) const OTHER: u8 = 2;
}

impl Failure {
    fn new(code: u8, message: impl Into<String>, phase: &'static str) -> Self {
        Failure {
            code,
            message: message.into(),
            phase,
            verify_result: 0,
        }
    }

    /// The URL could not be used, for `why` (curl's message, then ours).
    pub(crate) fn bad_url(why: &str) -> Self {
        let message = format!("URL using bad/illegal format or missing URL: {why}");
        Failure::new(code::BAD_URL, message, "before sending")
    }

    /// `-f`: the server answered `status` (400 or more).
    pub(crate) fn http_error(status: http::StatusCode) -> Self {
        let message = format!("The requested URL returned error: {}", status.as_u16());
        Failure::new(code::HTTP_ERROR, message, "at the response")
    }

    /// Writing a body out (`-o`, stdout) failed.
    pub(crate) fn write_failed(err: &std::io::Error) -> Self {
        Failure::new(
            23,
            format!("Failure writing output to destination: {err}"),
            "while writing the body",
        )
    }

    /// `-L` met one more redirect than `max` allows.
    pub(crate) fn too_many_redirects(max: u32) -> Self {
        let message = format!("Maximum ({max}) redirects followed");
        Failure::new(code::TOO_MANY_REDIRECTS, message, "at the response")
    }

    /// `-m`: the whole exchange took longer than `limit`; `received` body bytes so far.
    pub(crate) fn max_time(limit: Duration, received: u64, events: &[Event]) -> Self {
        let stage = Stage::of(events).0;
        let message = timed_out_message(stage, || {
            format!(
                "Operation timed out after {} milliseconds with {received} bytes received",
                limit.as_millis()
            )
        });
        Failure::new(code::TIMEOUT, message, stage.during())
    }

    /// A request that failed with `err`, after `events`; `host` and `port` of its URL.
    pub(crate) fn of_error(
        err: &(dyn Error + 'static),
        events: &[Event],
        host: &str,
        port: u16,
    ) -> Self {
        let stage = Stage::of(events).0;
        let phase = stage.during();
        let chain = || std::iter::successors(Some(err), |e| (*e).source());
        let timed_out = chain().any(|e| {
            e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        });
        if timed_out {
            let message = timed_out_message(stage, || "Connection timed out".to_owned());
            return Failure::new(code::TIMEOUT, message, phase);
        }
        if let Some(tls) = find::<httptrace_tower::rustls::Error>(err) {
            return match tls {
                httptrace_tower::rustls::Error::InvalidCertificate(why) => {
                    let (verify_result, text) = certificate_problem(why);
                    Failure {
                        verify_result,
                        ..Failure::new(
                            code::PEER_CERTIFICATE,
                            format!("SSL certificate problem: {text}"),
                            phase,
                        )
                    }
                }
                other => Failure::new(code::TLS, format!("SSL connect error: {other}"), phase),
            };
        }
        if let Some(connect) =
            chain().find_map(|e| e.downcast_ref::<httptrace_tower::ConnectError>())
        {
            use httptrace_tower::ConnectError as C;
            return match connect {
                C::Resolve(_) | C::NoAddresses(_) => Failure::new(
                    code::RESOLVE,
                    format!("Could not resolve host: {host}"),
                    phase,
                ),
                C::Connect { source, .. } => Failure::new(
                    code::CONNECT,
                    format!("Failed to connect to {host} port {port}: {source}"),
                    phase,
                ),
                other => Failure::new(code::OTHER, other.to_string(), phase),
            };
        }
        let reset = chain().any(|e| {
            e.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                )
            })
        });
        if reset {
            return Failure::new(code::RECV, "Recv failure: Connection reset by peer", phase);
        }
        let incomplete = chain()
            .find_map(|e| e.downcast_ref::<hyper::Error>())
            .is_some_and(hyper::Error::is_incomplete_message);
        let answered = events
            .iter()
            .any(|e| matches!(e.kind, EventKind::GotFirstResponseByte));
        if incomplete && !answered {
            return Failure::new(code::EMPTY_REPLY, "Empty reply from server", phase);
        }
        if answered || incomplete {
            let message = format!(
                "Failure when receiving data from the peer: {}",
                chain_text(err)
            );
            return Failure::new(code::RECV, message, phase);
        }
        Failure::new(code::OTHER, chain_text(err), phase)
    }

    /// curl's one-line error with the phase: `httpstat: (7) Failed to connect to 127.0.0.1
    /// port 1: Connection refused (while connecting)`.
    pub(crate) fn line(&self) -> String {
        format!(
            "httpstat: ({}) {} ({})",
            self.code, self.message, self.phase
        )
    }

    /// Whether curl's `--retry` tries again after this failure: a timeout.
    pub(crate) fn is_transient(&self) -> bool {
        self.code == code::TIMEOUT
    }
}

/// OpenSSL's verify code for the certificate problem rustls found.
pub(crate) fn verify_code(why: &httptrace_tower::rustls::CertificateError) -> u64 {
    certificate_problem(why).0
}

/// OpenSSL's verify code and text (as curl prints them) for the certificate problem rustls
/// found. rustls says "unknown issuer" for a self-signed certificate too: OpenSSL's 18 and
/// 19 are reported as 20.
fn certificate_problem(why: &httptrace_tower::rustls::CertificateError) -> (u64, String) {
    use httptrace_tower::rustls::CertificateError as E;
    match why {
        E::Expired | E::ExpiredContext { .. } => (10, "certificate has expired".to_owned()),
        E::UnknownIssuer => (20, "unable to get local issuer certificate".to_owned()),
        E::Other(other) => match other.0.downcast_ref::<crate::connect::ChainProblem>() {
            Some(problem) => (problem.code, problem.text.to_owned()),
            None => (1, other.to_string()),
        },
        E::NotValidForName | E::NotValidForNameContext { .. } => {
            (62, "hostname mismatch".to_owned())
        }
        other => (1, format!("{other:?}")),
    }
}

/// The first error of type `T` in `err`'s chain, looking inside `io::Error`s too (whose
/// `source` skips the error they wrap: tokio-rustls wraps rustls's that way).
fn find<'a, T: Error + 'static>(err: &'a (dyn Error + 'static)) -> Option<&'a T> {
    std::iter::successors(Some(err), |e| (*e).source()).find_map(|e| {
        e.downcast_ref::<T>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<T>())
        })
    })
}

/// `err` and its sources, one line (the core's wording, a repeated cause said once).
pub(crate) fn chain_text(err: &(dyn Error + 'static)) -> String {
    httptrace::TraceError::describe(err).to_string()
}

/// curl's message for a timeout in `stage`: its TLS one during a handshake, else
/// `otherwise`.
fn timed_out_message(stage: Stage, otherwise: impl FnOnce() -> String) -> String {
    if stage == Stage::Tls {
        "SSL connection timeout".to_owned()
    } else {
        otherwise()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rustls's certificate errors carry OpenSSL's verify codes, as curl reports them.
    #[test]
    fn certificate_problems_carry_openssl_verify_codes() {
        use httptrace_tower::rustls::CertificateError as E;
        let err = httptrace_tower::rustls::Error::InvalidCertificate(E::UnknownIssuer);
        let failure = Failure::of_error(&err, &[], "a.test", 443);
        assert_eq!((failure.code, failure.verify_result), (60, 20));
        assert_eq!(
            failure.message,
            "SSL certificate problem: unable to get local issuer certificate"
        );
        assert_eq!(certificate_problem(&E::Expired).0, 10);
        assert_eq!(certificate_problem(&E::NotValidForName).0, 62);
        assert_eq!(Failure::bad_url("no host").verify_result, 0);
    }
}
