//! What each hook is told: Go's infos (`go`), then those of the hooks Go lacks (`ours`).

pub(crate) mod go;
pub(crate) mod ours;

pub use go::{
    ConnectDoneInfo, ConnectStartInfo, ConnectionId, ConnectionInfo, DnsDoneInfo, DnsStartInfo,
    GetConnInfo, Got1xxResponseInfo, GotConnInfo, HeaderField, PutIdleConnInfo,
    TlsHandshakeDoneInfo, WroteHeaderFieldInfo, WroteRequestInfo,
};
pub use ours::{
    AttemptStartInfo, BodyDoneInfo, CallDoneInfo, CallStartInfo, CloseReason, ConnClosedInfo,
};
