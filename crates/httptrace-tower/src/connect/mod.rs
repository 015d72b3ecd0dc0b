//! The traced connector stack for hyper-util's `Client`.
//!
//! ```text
//! TraceConnector ........ per-connection state and traced I/O (GotConn, Wrote*, first byte)
//!  └─ (TLS, issue #3)
//!      └─ TraceHttpConnector ... ConnectStart / ConnectDone per attempt, Happy Eyeballs
//!          └─ TraceResolver .... DNSStart / DNSDone, coalesced lookups
//! ```

mod conn_state;
mod connect_error;
mod connector;
mod dialer;
mod http1_tracker;
mod resolver;
mod traced_io;

pub use conn_state::{live_connection_states, ConnectionHandle};
pub use connect_error::ConnectError;
pub use connector::{TraceConnecting, TraceConnector, TracedConnection};
pub use dialer::{Dialing, TraceHttpConnector};
pub use resolver::{Resolving, TraceResolver};
pub use traced_io::TracedIo;
