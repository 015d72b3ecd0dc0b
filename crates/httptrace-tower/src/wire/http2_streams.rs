//! The client streams open on one HTTP/2 connection, as its frames tell them
//! (`http2_frames.rs`): a stream opens with the client's first HEADERS on an id above every
//! earlier one, and closes when both sides have ended it, when either resets it, or when a
//! GOAWAY's last-stream-id is below it.

use std::collections::VecDeque;

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Written by the client.
    Sent,
    /// Read from the server.
    Received,
}

/// The open streams by id, in the order they opened: ids and sequence numbers both increase
/// along it (a stream opens only above the highest id yet), so a stream is found by binary
/// search and the oldest is the first (no hashing per frame).
#[derive(Debug, Default)]
pub(crate) struct OpenStreams {
    highest_opened: u32,
    open: VecDeque<OpenStream>,
}

#[derive(Debug)]
struct OpenStream {
    id: u32,
    /// Its place among all streams opened (see `ConnShared::stream_opened`).
    seq: u64,
    sent_end: bool,
    received_end: bool,
}

impl OpenStreams {
    /// The client sent HEADERS on `id`: the stream opens if its id is above every earlier
    /// one (`seq` numbers it then). Whether it opened.
    pub(crate) fn headers_sent(&mut self, id: u32, seq: impl FnOnce() -> u64) -> bool {
        if id <= self.highest_opened {
            return false;
        }
        self.highest_opened = id;
        self.open.push_back(OpenStream {
            id,
            seq: seq(),
            sent_end: false,
            received_end: false,
        });
        true
    }

    /// Stream `id` was ended by one side (`END_STREAM`), or reset by either (`reset`).
    /// Whether it closed.
    pub(crate) fn ended(&mut self, id: u32, by: Direction, reset: bool) -> bool {
        let Some(at) = self.find(id) else {
            return false;
        };
        let closed = reset || {
            let s = &mut self.open[at];
            match by {
                Direction::Sent => s.sent_end = true,
                Direction::Received => s.received_end = true,
            }
            s.sent_end && s.received_end
        };
        if closed {
            self.open.remove(at);
        }
        closed
    }

    /// A GOAWAY named `last_stream_id`: the streams above it were not processed, and close.
    /// Their ids, lowest first.
    pub(crate) fn cut_above(&mut self, last_stream_id: u32) -> Vec<u32> {
        let kept = self.open.partition_point(|s| s.id <= last_stream_id);
        self.open.drain(kept..).map(|s| s.id).collect()
    }

    /// The sequence number of the oldest stream still open.
    pub(crate) fn oldest_open(&self) -> Option<u64> {
        self.open.front().map(|s| s.seq)
    }

    /// How many are open.
    pub(crate) fn len(&self) -> usize {
        self.open.len()
    }

    /// Where stream `id` is. A stream ends most often at either end of the deque (the one
    /// just opened, a GET's `END_STREAM` on its `HEADERS`; the oldest, answered first): those
    /// are looked at before searching.
    fn find(&self, id: u32) -> Option<usize> {
        let open = &self.open;
        if open.back().is_some_and(|s| s.id == id) {
            return Some(open.len() - 1);
        }
        if open.front().is_some_and(|s| s.id == id) {
            return Some(0);
        }
        open.binary_search_by_key(&id, |s| s.id).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Streams opened by the client and ended in any order, from either side or by a
        /// reset, some of them cut by a GOAWAY: the open streams are exactly a plain
        /// model's, oldest first.
        #[test]
        fn the_open_streams_follow_their_ends_in_any_order(
            steps in prop::collection::vec((0u8..5, 0usize..8, any::<bool>()), 0..60),
        ) {
            let mut streams = OpenStreams::default();
            // The model: id → (the client ended it, the server ended it, its number).
            let mut model = BTreeMap::<u32, (bool, bool, u64)>::new();
            let (mut next_id, mut seq) = (1, 0);
            for (step, pick, client) in steps {
                let open: Vec<u32> = model.keys().copied().collect();
                let by = if client { Direction::Sent } else { Direction::Received };
                match (step, open.get(pick % open.len().max(1))) {
                    // The client opens the next stream (also when none is open).
                    (0, _) | (_, None) => {
                        seq += 1;
                        model.insert(next_id, (false, false, seq));
                        prop_assert!(streams.headers_sent(next_id, || seq));
                        next_id += 2;
                    }
                    // A second HEADERS (trailers) on an open stream opens nothing.
                    (1, Some(&id)) => prop_assert!(!streams.headers_sent(id, || unreachable!())),
                    (2, Some(&id)) => {
                        let ends = model.get_mut(&id).expect("open");
                        if client { ends.0 = true } else { ends.1 = true }
                        let closed = ends.0 && ends.1;
                        if closed {
                            model.remove(&id);
                        }
                        prop_assert_eq!(streams.ended(id, by, false), closed);
                    }
                    (3, Some(&id)) => {
                        model.remove(&id);
                        prop_assert!(streams.ended(id, by, true));
                    }
                    (_, Some(&id)) => {
                        let cut: Vec<u32> = model.range(id..).map(|(id, _)| *id).collect();
                        model.retain(|open, _| *open < id);
                        prop_assert_eq!(streams.cut_above(id - 1), cut);
                    }
                }
                let ids: Vec<u32> = streams.open.iter().map(|s| s.id).collect();
                prop_assert_eq!(ids, model.keys().copied().collect::<Vec<_>>());
                prop_assert_eq!(streams.oldest_open(), model.values().next().map(|m| m.2));
            }
        }
    }
}
