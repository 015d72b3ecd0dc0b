//! What a [`ServerTimingLayer`](super::ServerTimingLayer) was told: which answers carry the
//! header, and whether calls are described.

use std::sync::Arc;

use http::request::Parts;

/// Decides from a request's head whether its answer carries `Server-Timing`.
pub(crate) type Predicate = dyn Fn(&Parts) -> bool + Send + Sync;

/// How much an outbound call's entry says besides its durations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum CallDescriptions {
    /// Numbered names and durations only.
    #[default]
    None,
    /// `desc="GET host:port"` on each call's total.
    MethodAndDestination,
}

/// The layer's options, shared by its services.
#[derive(Clone, Default)]
pub(crate) struct Options {
    pub(crate) descriptions: CallDescriptions,
    pub(crate) predicate: Option<Arc<Predicate>>,
}

impl Options {
    /// Whether the answer to the request with head `parts` carries the header.
    pub(crate) fn reports(&self, parts: &Parts) -> bool {
        self.predicate.as_ref().is_none_or(|p| p(parts))
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("descriptions", &self.descriptions)
            .field(
                "predicate",
                &self.predicate.as_ref().map(|_| "Fn(&Parts) -> bool"),
            )
            .finish()
    }
}
