//! [`Learned`]: what a layer learns once from its requests, and keeps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Something a layer (and its clones) learns from the requests it sends, once and for good.
/// Two are learned:
/// - requests have gone out as HTTP/2 over plain TCP (prior knowledge): until one has, a plain
///   `http` HTTP/1.x request is not watched for an HTTP/2 hand-off, which costs several
///   allocations per request (ARCHITECTURE.md, "HTTP/2");
/// - HTTP/1 requests are handed to traced connections (`handoff.rs`): from then on, the
///   connection a 1xx hook vetoed is closed through its traced I/O, and the layer need not
///   keep each request's connection at hand (hyper-util's `capture_connection`, several
///   allocations) to poison it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Learned(Arc<AtomicBool>);

impl Learned {
    pub(crate) fn seen(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// It happened.
    pub(crate) fn see(&self) {
        if !self.seen() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}
