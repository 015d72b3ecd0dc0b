//! What the request side (`http_trace`) and the connection side (`connect`) share: a
//! request's state, a connection's state, the hand-off between them, the 1xx watch and the
//! `Expect: 100-continue` gate. Imports nothing from either side.

pub(crate) mod call;
pub(crate) mod connection;
pub(crate) mod exchange_end;
pub(crate) mod expect_gate;
pub(crate) mod handle;
pub(crate) mod handoff;
pub(crate) mod ids;
pub(crate) mod in_effect;
pub(crate) mod informational;
pub(crate) mod learned;
pub(crate) mod lifecycle;
pub(crate) mod request;
pub(crate) mod serving;
pub(crate) mod stats;
pub(crate) mod timings_sink;
