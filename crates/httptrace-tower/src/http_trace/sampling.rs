//! Which requests a layer traces: all of them, a ratio, or those a closure picks.

use std::cell::Cell;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use http::{HeaderMap, Method, Request, Uri, Version};

/// The head of a request about to be sent, for a sampling decision
/// ([`HttpTrace::sample_with`](crate::HttpTrace::sample_with)).
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    method: &'a Method,
    uri: &'a Uri,
    version: Version,
    headers: &'a HeaderMap,
}

impl<'a> RequestHead<'a> {
    pub(crate) fn of<B>(req: &'a Request<B>) -> Self {
        RequestHead {
            method: req.method(),
            uri: req.uri(),
            version: req.version(),
            headers: req.headers(),
        }
    }

    /// The request's method.
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The request's URI.
    pub fn uri(&self) -> &'a Uri {
        self.uri
    }

    /// The request's HTTP version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The request's header fields.
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }
}

/// A layer's sampling rule.
#[derive(Clone)]
pub(crate) enum Sampling {
    /// Each request is kept with this chance: kept when a random `u64` is below it
    /// (`u64::MAX`: always).
    Ratio(u64),
    /// Kept when the closure says so.
    With(Arc<dyn Fn(&RequestHead<'_>) -> bool + Send + Sync>),
}

impl Sampling {
    /// `ratio` of the requests (clamped to 0..=1).
    pub(crate) fn ratio(ratio: f64) -> Self {
        let threshold = if ratio >= 1.0 {
            u64::MAX
        } else if ratio > 0.0 {
            (ratio * u64::MAX as f64) as u64
        } else {
            0
        };
        Sampling::Ratio(threshold)
    }

    /// Whether `req` is traced.
    pub(crate) fn keeps<B>(&self, req: &Request<B>) -> bool {
        match self {
            Sampling::Ratio(u64::MAX) => true,
            Sampling::Ratio(0) => false,
            Sampling::Ratio(threshold) => next_random() < *threshold,
            Sampling::With(decide) => decide(&RequestHead::of(req)),
        }
    }
}

impl std::fmt::Debug for Sampling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sampling::Ratio(t) => write!(f, "Ratio({})", *t as f64 / u64::MAX as f64),
            Sampling::With(_) => f.write_str("With(..)"),
        }
    }
}

thread_local! {
    /// This thread's xorshift state, seeded from the process's random hasher keys.
    static STATE: Cell<u64> = Cell::new(
        std::collections::hash_map::RandomState::new().build_hasher().finish() | 1,
    );
}

/// A fast, non-cryptographic random number (xorshift64*): a sampling decision needs no more.
fn next_random() -> u64 {
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}
