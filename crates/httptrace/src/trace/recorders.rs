//! The timings recorders a trace carries, and the hooks they listen to.

use super::kind::HookKind;
use crate::record::timings::TimingsRecorder;

/// The hooks a [`TimingsRecorder`] in a trace listens to.
pub(super) const RECORDED: [HookKind; 13] = [
    HookKind::GetConn,
    HookKind::DnsStart,
    HookKind::DnsDone,
    HookKind::ConnectStart,
    HookKind::ConnectDone,
    HookKind::TlsHandshakeStart,
    HookKind::TlsHandshakeDone,
    HookKind::GotConn,
    HookKind::Http2StreamOpened,
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

    /// Just `recorder`.
    pub(super) fn one(recorder: TimingsRecorder) -> Self {
        Recorders {
            first: Some(recorder),
            more: Vec::new(),
        }
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
