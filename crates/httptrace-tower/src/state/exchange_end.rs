//! [`ExchangeEnd`]: how the latest HTTP/1 exchange on a connection ended, kept by the
//! connection (`connection.rs`) to explain its close.

/// How the latest HTTP/1 exchange on a connection ended, as far as the layer saw it: what
/// explains a close that neither the server nor an error caused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum ExchangeEnd {
    /// No traced request on it (or none yet).
    Unknown = 0,
    /// A traced request is on it, its response body not ended.
    InFlight = 1,
    /// Its response body ended and the connection went back to the pool.
    Returned = 2,
    /// It was not to be reused (`Connection: close`, a failed body, a withheld body).
    NotReusable = 3,
    /// Its response body was dropped before its end.
    DroppedUnread = 4,
}

impl ExchangeEnd {
    /// The end stored as `v`.
    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            1 => ExchangeEnd::InFlight,
            2 => ExchangeEnd::Returned,
            3 => ExchangeEnd::NotReusable,
            4 => ExchangeEnd::DroppedUnread,
            _ => ExchangeEnd::Unknown,
        }
    }
}
