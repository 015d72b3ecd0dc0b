//! [`Error`]: the error of a traced request: the inner service's, untouched, a hook's veto,
//! or the limit on 1xx responses.

use std::fmt;

use httptrace::BoxError;

/// Why a traced request failed.
///
/// `Service(e)` is the inner service's own error, boxed as tower's middleware box theirs
/// (so the layer goes over any stack whose error is `Into<BoxError>`: `Timeout`,
/// `BoxCloneService`, ...), and is transparent: its `Display` and `source()` are `e`'s, so an
/// error chain reads exactly as without the layer. [`service_error_as`](Error::service_error_as)
/// gets the client's own type back (hyper-util's `Error`, say). `Aborted` is
/// the error a `Got1xxResponse` hook returned to abort the request (Go's semantics), shown
/// and sourced the same way. `TooManyInformational`: the server sent more 1xx responses than
/// a request accepts.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The inner service failed.
    Service(BoxError),
    /// A `Got1xxResponse` hook aborted the request with this error.
    Aborted(BoxError),
    /// The server sent more informational (1xx) responses than Go's limit; the connection is
    /// not reused.
    TooManyInformational(TooManyInformational),
}

/// The most informational (1xx) responses a traced request with 1xx hooks accepts before
/// its final response, as Go's transport: the next one fails the request.
pub const MAX_INFORMATIONAL: u8 = 5;

/// A server sent more than [`MAX_INFORMATIONAL`] informational (1xx) responses to one request
/// (a server that streams `100 Continue` forever, say). Counted for requests whose trace has
/// a 1xx hook (`Got100Continue`, `Got1xxResponse`): the others do not look at 1xx
/// responses, which hyper reads and drops.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TooManyInformational {
    /// The status of the response past the limit.
    pub status: http::StatusCode,
}

impl TooManyInformational {
    pub(crate) fn new(status: http::StatusCode) -> Self {
        TooManyInformational { status }
    }
}

impl fmt::Display for TooManyInformational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "too many 1xx informational responses (more than {MAX_INFORMATIONAL}; the next was {})",
            self.status.as_u16()
        )
    }
}

impl std::error::Error for TooManyInformational {}

impl Error {
    /// The inner service's error, if that is what this is.
    pub fn into_service_error(self) -> Option<BoxError> {
        match self {
            Error::Service(e) => Some(e),
            _ => None,
        }
    }

    /// The inner service's error, if that is what this is.
    pub fn service_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            Error::Service(e) => Some(&**e),
            _ => None,
        }
    }

    /// The inner service's error as the type it had, if that is what this is:
    ///
    /// ```
    /// # fn f(err: httptrace_tower::Error) {
    /// let refused = err
    ///     .service_error_as::<hyper_util::client::legacy::Error>()
    ///     .is_some_and(|e| e.is_connect());
    /// # }
    /// ```
    pub fn service_error_as<T: std::error::Error + 'static>(&self) -> Option<&T> {
        self.service_error()?.downcast_ref()
    }

    /// Whether the server sent too many informational responses.
    pub fn is_too_many_informational(&self) -> bool {
        matches!(self, Error::TooManyInformational(_))
    }

    /// Whether a hook aborted the request.
    pub fn is_aborted(&self) -> bool {
        matches!(self, Error::Aborted(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Service(e) => fmt::Display::fmt(e, f),
            Error::Aborted(e) => fmt::Display::fmt(e, f),
            Error::TooManyInformational(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Service(e) => e.source(),
            Error::Aborted(e) => e.source(),
            Error::TooManyInformational(_) => None,
        }
    }
}
