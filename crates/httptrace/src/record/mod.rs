//! What the hooks can be recorded as: a request's [`Timings`], an [`EventLog`] of every
//! hook, their JSON (`Serialize`, feature `serde`), and the [`Redaction`] every recorded
//! output applies.

pub(crate) mod event_log;
pub(crate) mod phase;
pub(crate) mod redact;
#[cfg(feature = "serde")]
pub(crate) mod serialize;
pub(crate) mod timings;

pub use event_log::{Event, EventKind, EventLog};
pub use phase::Phase;
pub use redact::{
    is_sensitive_header, redact_authority, redact_url, Redaction, REDACTED, SENSITIVE_HEADERS,
    SIGNED_QUERY_PARAMETERS, URL_REDACTED,
};
pub use timings::{Timings, TimingsRecorder};
