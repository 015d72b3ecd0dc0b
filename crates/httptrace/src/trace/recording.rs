//! The timings recorders a trace carries: run after its hooks, without a hook of their own.

use std::sync::Arc;

use super::{ClientTrace, HookKind, Hooks};
use crate::record::timings::TimingsRecorder;

/// The hooks a [`TimingsRecorder`] in a trace listens to.
pub(super) const RECORDED: [HookKind; 12] = [
    HookKind::GetConn,
    HookKind::DnsStart,
    HookKind::DnsDone,
    HookKind::ConnectStart,
    HookKind::ConnectDone,
    HookKind::TlsHandshakeStart,
    HookKind::TlsHandshakeDone,
    HookKind::GotConn,
    HookKind::WroteRequest,
    HookKind::Got1xxResponse,
    HookKind::Got100Continue,
    HookKind::GotFirstResponseByte,
];

/// The timings recorders of a trace, in the order of composition. The first is kept in
/// place: a trace that records one request's timings allocates no list.
#[derive(Clone, Default)]
pub(super) struct Recorders {
    first: Option<TimingsRecorder>,
    more: Vec<TimingsRecorder>,
}

impl Recorders {
    pub(super) const NONE: Self = Recorders {
        first: None,
        more: Vec::new(),
    };

    pub(super) fn iter(&self) -> impl Iterator<Item = &TimingsRecorder> {
        self.first.iter().chain(&self.more)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// These, then `older`'s.
    pub(super) fn then(&self, older: &Recorders) -> Recorders {
        let mut all = self.iter().chain(older.iter()).cloned();
        Recorders {
            first: all.next(),
            more: all.collect(),
        }
    }
}

impl ClientTrace {
    /// A trace whose only hooks are `recorder`'s (`TimingsRecorder::trace`).
    pub(crate) fn recording(recorder: TimingsRecorder) -> Self {
        ClientTrace {
            hooks: Some(Arc::new(Hooks {
                recorders: Recorders {
                    first: Some(recorder),
                    more: Vec::new(),
                },
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
