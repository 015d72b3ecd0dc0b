//! The traced connector stack for hyper-util's `Client`.
//!
//! ```text
//! TraceConnector ........ per-connection state and traced I/O (GotConn, Wrote*, first byte)
//!  └─ TraceTlsConnector .... TLSHandshakeStart / TLSHandshakeDone (rustls; feature `rustls`)
//!      └─ TraceHttpConnector ... ConnectStart / ConnectDone per attempt, Happy Eyeballs
//!          └─ TraceResolver .... DNSStart / DNSDone, coalesced lookups
//! ```

#[cfg(feature = "rustls")]
mod client_tls;
mod closing;
mod connect_error;
mod connector;
mod dialer;
mod executor;
mod http1_tracker;
#[cfg(feature = "rustls")]
mod maybe_tls;
mod protocol;
mod resolver;
#[cfg(feature = "rustls")]
mod tls;
mod tokio_side;
mod traced_io;

pub use crate::state::connection::live_connection_states;
pub use crate::state::handle::ConnectionHandle;
pub use crate::state::stats::{ClosedBy, ConnectionStats, DestinationStats};
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub use client_tls::{crypto_provider, ClientTls};
pub use connect_error::ConnectError;
pub use connector::{TraceConnector, TraceConnectorFuture, TracedConnection};
pub use dialer::{TraceHttpConnector, TraceHttpConnectorFuture};
pub use executor::{ServingFuture, TraceExecutor};
pub(crate) use http1_tracker::{got_conn as http1_got_conn, Reuse as Http1Reuse};
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub use maybe_tls::MaybeTlsStream;
pub use resolver::{TraceResolver, TraceResolverFuture};
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub use tls::{TraceTlsConnector, TraceTlsConnectorFuture};
pub use traced_io::TracedIo;
