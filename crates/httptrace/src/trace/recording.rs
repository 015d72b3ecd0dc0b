//! How a trace records into its timings recorders: after its hooks, without a hook of their own.

use std::sync::Arc;

use super::client_trace::{ClientTrace, Hooks};
use super::recorders::Recorders;
use crate::record::timings::TimingsRecorder;

impl ClientTrace {
    /// A trace whose only hooks are `recorder`'s (`TimingsRecorder::trace`).
    pub(crate) fn recording(recorder: TimingsRecorder) -> Self {
        ClientTrace {
            hooks: Some(Arc::new(Hooks {
                recorders: Recorders::one(recorder),
                ..Hooks::default()
            })),
        }
    }

    /// Runs `record` on each timings recorder of the trace.
    pub(super) fn record(&self, record: impl Fn(&TimingsRecorder)) {
        for recorder in self.hooks().recorders.iter() {
            record(recorder);
        }
    }
}

impl TimingsRecorder {
    /// A trace that records into this recorder. Connection phases are only kept while the
    /// request has no connection yet, and dropped if it got one it did not dial (a dial that
    /// loses to an idle connection still reports to the request that started it).
    ///
    /// The recorder is not a set of closures but a slot of its own in the trace (two
    /// allocations per request, where a closure per hook made thirteen); its hooks run after
    /// the trace's other hooks.
    pub fn trace(&self) -> ClientTrace {
        ClientTrace::recording(self.clone())
    }
}
