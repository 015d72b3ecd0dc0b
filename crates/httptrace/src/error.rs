//! The error type carried by hook arguments.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// A boxed error, as returned by hooks that may abort a request.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// An error handed to a hook (`DNSDone`, `ConnectDone`, `WroteRequest`, ...).
///
/// Hook arguments are shared by every composed trace and may outlive the operation that
/// failed, so the error is reference counted and cheap to clone. Where the operation's own
/// error can be moved in, it is kept as the [`source`](Error::source) so that
/// [`downcast_ref`](TraceError::downcast_ref) finds it; where the original must be returned to
/// the caller unchanged (the request's error), the hook gets a copy of its message and its
/// cause chain instead.
#[derive(Clone)]
pub struct TraceError {
    inner: Arc<Inner>,
}

enum Inner {
    Wrapped(BoxError),
    Message {
        message: String,
        kind: Option<std::io::ErrorKind>,
    },
}

impl TraceError {
    /// Wraps an error that the hook may inspect and downcast.
    pub fn new(err: impl Into<BoxError>) -> Self {
        TraceError {
            inner: Arc::new(Inner::Wrapped(err.into())),
        }
    }

    /// An error that is only a message.
    pub fn msg(message: impl Into<String>) -> Self {
        TraceError {
            inner: Arc::new(Inner::Message {
                message: message.into(),
                kind: None,
            }),
        }
    }

    /// A copy of `err` for a hook: its message followed by the messages of its sources,
    /// joined by `": "`, and the I/O error kind when `err` is an [`std::io::Error`].
    ///
    /// Used where the original error must go back to the caller unchanged.
    pub fn describe(err: &(dyn Error + 'static)) -> Self {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.ends_with(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        let kind = err
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind);
        TraceError {
            inner: Arc::new(Inner::Message { message, kind }),
        }
    }

    /// The kind of the I/O error this describes, if it is one.
    pub fn io_error_kind(&self) -> Option<std::io::ErrorKind> {
        match &*self.inner {
            Inner::Wrapped(err) => err
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind),
            Inner::Message { kind, .. } => *kind,
        }
    }

    /// The wrapped error, if it is of type `E` (only for errors made with [`TraceError::new`]).
    pub fn downcast_ref<E: Error + 'static>(&self) -> Option<&E> {
        match &*self.inner {
            Inner::Wrapped(err) => err.downcast_ref::<E>(),
            Inner::Message { .. } => None,
        }
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Inner::Wrapped(err) => fmt::Display::fmt(err, f),
            Inner::Message { message, .. } => f.write_str(message),
        }
    }
}

impl fmt::Debug for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Inner::Wrapped(err) => f.debug_tuple("TraceError").field(err).finish(),
            Inner::Message { message, .. } => f.debug_tuple("TraceError").field(message).finish(),
        }
    }
}

impl Error for TraceError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &*self.inner {
            Inner::Wrapped(err) => err.source(),
            Inner::Message { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("client error (Connect)")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn describe_joins_the_cause_chain() {
        let err = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "refused",
        ));
        let described = TraceError::describe(&err);
        assert_eq!(described.to_string(), "client error (Connect): refused");
        assert_eq!(described.io_error_kind(), None);
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert_eq!(
            TraceError::describe(&io).io_error_kind(),
            Some(std::io::ErrorKind::ConnectionReset)
        );
    }

    #[test]
    fn wrapped_errors_downcast() {
        let err = TraceError::new(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"));
        assert_eq!(
            err.downcast_ref::<std::io::Error>().unwrap().kind(),
            std::io::ErrorKind::TimedOut
        );
        assert_eq!(err.io_error_kind(), Some(std::io::ErrorKind::TimedOut));
        assert_eq!(err.to_string(), "slow");
        assert!(TraceError::msg("x")
            .downcast_ref::<std::io::Error>()
            .is_none());
    }
}
