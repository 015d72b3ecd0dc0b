//! [`Settings`]: what a layer tells each request it starts.

use std::sync::Arc;
use std::time::Duration;

use httptrace::ClientTrace;

use super::sampling::Sampling;
use crate::state::learned::Learned;
use crate::state::stats::ConnectionStats;

/// What `start` needs of the layer, for every request.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(super) trace: ClientTrace,
    pub(super) expect_continue_timeout: Duration,
    pub(super) cleartext_http2: Learned,
    pub(super) http1_handoffs: Learned,
    /// The client's connection tasks run under a `TraceExecutor`: they name each HTTP/2
    /// stream's connection (`state/serving.rs`), and no request needs a capture for that.
    pub(super) linked: Learned,
    /// The connector's counters, when the layer was built with its client.
    pub(super) stats: Option<ConnectionStats>,
    pub(super) record_timings: bool,
    pub(super) per_request: Option<PerRequest>,
    /// `None`: every request.
    pub(super) sampling: Option<Sampling>,
}

impl Settings {
    /// The layer itself traces nothing: no trace, no per-request trace, no timings.
    #[inline]
    pub(super) fn traces_nothing(&self) -> bool {
        self.trace.is_empty() && self.per_request.is_none() && !self.record_timings
    }
}

/// Makes a trace for each request (`trace_per_request`).
#[derive(Clone)]
pub(crate) struct PerRequest(pub(crate) Arc<dyn Fn() -> ClientTrace + Send + Sync>);

impl std::fmt::Debug for PerRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PerRequest")
    }
}
