//! What each hook is told: Go's infos (`go`), then those of the hooks Go lacks (`ours`, and
//! the HTTP/2 ones in `http2`).

pub(crate) mod go;
pub(crate) mod http2;
pub(crate) mod ours;

pub use go::{
    ConnectDoneInfo, ConnectStartInfo, ConnectionId, ConnectionInfo, DnsDoneInfo, DnsStartInfo,
    GetConnInfo, Got1xxResponseInfo, GotConnInfo, HeaderField, PutIdleConnInfo,
    TlsHandshakeDoneInfo, WroteHeaderFieldInfo, WroteRequestInfo,
};
pub use http2::{
    Http2ErrorCode, Http2GoAwayInfo, Http2Sender, Http2StreamOpenedInfo, Http2StreamResetInfo,
    ResetFrame, GOAWAY_CUT_STREAMS_LIMIT, GOAWAY_DEBUG_DATA_LIMIT,
};
pub use ours::{
    AttemptStartInfo, BodyDoneInfo, CallDoneInfo, CallStartInfo, CloseReason, ConnClosedInfo,
};
