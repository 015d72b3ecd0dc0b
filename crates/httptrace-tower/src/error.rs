//! [`Error`]: the error of a traced request: the inner service's, untouched, or a hook's veto.

use std::fmt;

use httptrace::BoxError;

/// Why a traced request failed.
///
/// `Service(e)` is the inner service's own error, and is transparent: its `Display` and
/// `source()` are `e`'s, so an error chain reads exactly as without the layer. `Aborted` is
/// the error a `Got1xxResponse` hook returned to abort the request (Go's semantics), shown
/// and sourced the same way.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// The inner service failed.
    Service(E),
    /// A `Got1xxResponse` hook aborted the request with this error.
    Aborted(BoxError),
}

impl<E> Error<E> {
    /// The inner service's error, if that is what this is.
    pub fn into_service_error(self) -> Option<E> {
        match self {
            Error::Service(e) => Some(e),
            Error::Aborted(_) => None,
        }
    }

    /// The inner service's error, if that is what this is.
    pub fn service_error(&self) -> Option<&E> {
        match self {
            Error::Service(e) => Some(e),
            Error::Aborted(_) => None,
        }
    }

    /// Whether a hook aborted the request.
    pub fn is_aborted(&self) -> bool {
        matches!(self, Error::Aborted(_))
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Service(e) => fmt::Display::fmt(e, f),
            Error::Aborted(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Service(e) => e.source(),
            Error::Aborted(e) => e.source(),
        }
    }
}
