//! The TLS state reported by `TLSHandshakeDone`, free of any TLS library's types.

/// What a TLS handshake negotiated: the parts of Go's `tls.ConnectionState` users read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsConnectionState {
    /// `"TLSv1.3"`, `"TLSv1.2"`; `None` before the version was agreed.
    pub version: Option<String>,
    /// The cipher suite's IANA name, such as `"TLS_AES_128_GCM_SHA256"`.
    pub cipher_suite: Option<String>,
    /// The ALPN protocol agreed on (`"h2"`, `"http/1.1"`), if any.
    pub alpn_protocol: Option<Vec<u8>>,
    /// The server name sent in the SNI extension, if any.
    pub server_name: Option<String>,
    /// The server's certificate chain, leaf first, DER-encoded.
    pub peer_certificates: Vec<Vec<u8>>,
    /// The session was resumed rather than fully negotiated.
    pub resumed: bool,
}

impl TlsConnectionState {
    /// An empty state: nothing negotiated yet.
    pub fn new() -> Self {
        Self::default()
    }
}
