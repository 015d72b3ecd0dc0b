//! [`Hits`]: the counter the benchmarks' hooks bump.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// How many slots a [`Hits`] has; threads beyond that share them.
const SLOTS: usize = 16;

/// A count that hooks on many threads bump with one relaxed atomic increment each, every
/// thread on a cache line of its own. One shared counter would measure the cores fighting
/// over its cache line (on two cores, about as much CPU as the whole traced path), which a
/// service counting in its hooks would avoid the same way.
pub struct Hits {
    slots: [Slot; SLOTS],
}

/// One thread's share, alone on its cache line.
#[repr(align(128))]
struct Slot(AtomicU64);

thread_local! {
    /// This thread's slot, given out in turn at its first hit.
    static SLOT: Cell<Option<usize>> = const { Cell::new(None) };
}

impl Hits {
    /// A count of zero.
    pub const fn new() -> Self {
        Hits {
            slots: [const { Slot(AtomicU64::new(0)) }; SLOTS],
        }
    }

    /// Counts one hit.
    pub fn hit(&self) {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let slot = SLOT.with(|s| {
            *s.get()
                .get_or_insert_with(|| NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS)
        });
        self.slots[slot].0.fetch_add(1, Ordering::Relaxed);
    }

    /// The hits so far, over every thread.
    pub fn total(&self) -> u64 {
        self.slots.iter().map(|s| s.0.load(Ordering::Relaxed)).sum()
    }
}

impl Default for Hits {
    fn default() -> Self {
        Self::new()
    }
}
