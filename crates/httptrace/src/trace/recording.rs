//! How a trace records into its timings recorders: after its hooks, without a hook of their own.

use super::client_trace::ClientTrace;
use super::recorders::Recorders;
use crate::record::timings::TimingsRecorder;

impl ClientTrace {
    /// A trace whose only hooks are `recorder`'s (`TimingsRecorder::trace`): no `Hooks`.
    pub(crate) fn recording(recorder: TimingsRecorder) -> Self {
        ClientTrace {
            hooks: None,
            last: Some(recorder),
        }
    }

    /// Runs `record` on each timings recorder of the trace, in order.
    pub(super) fn record(&self, record: impl Fn(&TimingsRecorder)) {
        for recorder in self.hooks().recorders.iter() {
            record(recorder);
        }
        if let Some(recorder) = &self.last {
            record(recorder);
        }
    }

    /// Every recorder of the trace, in order.
    pub(super) fn all_recorders(&self) -> Recorders {
        let own = &self.hooks().recorders;
        match &self.last {
            None => own.clone(),
            Some(last) => own.then(&Recorders::one(last.clone())),
        }
    }
}

impl TimingsRecorder {
    /// A trace that records into this recorder. Connection phases are only kept while the
    /// request has no connection yet, and dropped if it got one it did not dial (a dial that
    /// loses to an idle connection still reports to the request that started it).
    ///
    /// The recorder is not a set of closures but a slot of its own in the trace (composed
    /// under a shared trace it allocates nothing more, where a closure per hook made
    /// thirteen allocations); its hooks run after the trace's other hooks.
    pub fn trace(&self) -> ClientTrace {
        ClientTrace::recording(self.clone())
    }
}
