//! What httpstat prints: the waterfall, the timeline, `-w`, the Server-Timing lines and the
//! summary of a long run.

pub(crate) mod certs;
pub(crate) mod progress;
pub(crate) mod server_timing;
pub(crate) mod summary;
pub(crate) mod timeline;
pub(crate) mod waterfall;
pub(crate) mod why;
pub(crate) mod write_out;
