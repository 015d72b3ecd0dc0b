//! The timings sink in effect on this thread: where a [`ServerTiming`](crate::ServerTiming)
//! service collects the timings of the outbound requests its handler sends, and the metrics
//! the handler adds itself.

use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use httptrace::TimingsRecorder;

use crate::state::in_effect::{self, Entered};

/// One outbound request seen while the sink was in effect.
pub(crate) struct Collected {
    pub(crate) method: Method,
    /// As `GetConn` names it: no userinfo, no path.
    pub(crate) host_port: String,
    pub(crate) recorder: TimingsRecorder,
}

/// A metric the handler added: a checked token name, its duration and description.
pub(crate) struct OwnMetric {
    pub(crate) name: String,
    pub(crate) duration: Option<Duration>,
    /// Printable ASCII only, not yet quoted.
    pub(crate) description: Option<String>,
}

/// The most outbound requests one answer reports, and the most metrics a handler adds:
/// past it they are counted, not kept, so a handler that makes thousands of calls neither
/// grows the sink nor the header without bound.
pub(crate) const MAX_CALLS: usize = 32;

/// What a sink collected.
#[derive(Default)]
pub(crate) struct Calls {
    /// The first [`MAX_CALLS`] outbound requests, in the order they started.
    pub(crate) kept: Vec<Collected>,
    /// How many more there were.
    pub(crate) more: usize,
    /// The first [`MAX_CALLS`] metrics the handler added, in order.
    pub(crate) own: Vec<OwnMetric>,
    /// How many more the handler added.
    pub(crate) more_own: usize,
}

/// The outbound requests of one inbound request.
#[derive(Default)]
pub(crate) struct TimingsSink {
    calls: Mutex<Calls>,
}

impl TimingsSink {
    fn calls(&self) -> std::sync::MutexGuard<'_, Calls> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn collect(&self, method: Method, host_port: &str, recorder: TimingsRecorder) {
        let mut calls = self.calls();
        if calls.kept.len() == MAX_CALLS {
            calls.more += 1;
            return;
        }
        calls.kept.push(Collected {
            method,
            host_port: host_port.to_owned(),
            recorder,
        });
    }

    /// Keeps a metric of the handler's own.
    pub(crate) fn add_own(&self, metric: OwnMetric) {
        let mut calls = self.calls();
        if calls.own.len() == MAX_CALLS {
            calls.more_own += 1;
            return;
        }
        calls.own.push(metric);
    }

    /// What was collected; the sink keeps nothing.
    pub(crate) fn take(&self) -> Calls {
        std::mem::take(&mut *self.calls())
    }

    /// The sink is in effect on this thread until the drop.
    pub(crate) fn enter(self: &Arc<Self>) -> Entered<TimingsSink> {
        in_effect::enter(&CURRENT_SINK, self)
    }
}

thread_local! {
    static CURRENT_SINK: RefCell<Option<Arc<TimingsSink>>> = const { RefCell::new(None) };
}

/// The sink in effect on this thread, if any (none while a hook runs: a request a hook sends
/// is not the handler's).
#[inline]
pub(crate) fn current_sink() -> Option<Arc<TimingsSink>> {
    in_effect::current(&CURRENT_SINK)
}
