//! The timings recorders a trace carries, and the hooks they listen to.

use super::kind::HookKind;
use crate::record::timings::TimingsRecorder;

/// Whether a [`TimingsRecorder`] in a trace listens to `kind`'s hook: one bit test (asked
/// several times per traced request).
pub(super) fn records(kind: HookKind) -> bool {
    const MASK: u32 = {
        let mut mask = 0u32;
        let mut i = 0;
        while i < RECORDED.len() {
            mask |= 1 << RECORDED[i] as u32;
            i += 1;
        }
        mask
    };
    MASK & (1 << kind as u32) != 0
}

// Every hook has a bit.
const _: () = assert!(HookKind::ALL.len() <= 32);

/// The hooks a [`TimingsRecorder`] in a trace listens to.
const RECORDED: [HookKind; 13] = [
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClientTrace;

    /// A recorder's trace, alone or in the slot under another trace, is set exactly for the
    /// hooks it listens to.
    #[test]
    fn a_recorder_sets_exactly_the_hooks_it_records() {
        let recorder = TimingsRecorder::new();
        let alone = recorder.trace();
        let under = ClientTrace::new().on_put_idle_conn(|_| {}).compose(&alone);
        for kind in HookKind::ALL {
            let listens = RECORDED.contains(&kind);
            assert_eq!(records(kind), listens, "{kind:?}");
            assert_eq!(alone.is_set(kind), listens, "{kind:?}");
            assert_eq!(
                under.is_set(kind),
                listens || kind == HookKind::PutIdleConn,
                "{kind:?}"
            );
        }
    }
}
