//! [`Noting`]: `-k`'s verdict on a certificate: verified as usual, the outcome remembered
//! (`ssl_verify_result`), but lets an unverified server through.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use httptrace_tower::rustls::client::danger::ServerCertVerified;
use httptrace_tower::rustls::pki_types::CertificateDer;
use httptrace_tower::rustls::Error;

use super::reverdict::Decide;

/// How many failed certificates and connection verdicts are remembered; the oldest are
/// forgotten first.
const REMEMBERED: usize = 256;

/// The certificates that failed verification (by their end-entity certificate), and each
/// connection's verdict once a hop has read it: exact however many handshakes run at once.
#[derive(Debug, Default)]
pub(crate) struct VerifyFailed {
    certs: Mutex<VecDeque<(Vec<u8>, u64)>>,
    by_conn: Mutex<HashMap<u64, u64>>,
}

impl VerifyFailed {
    /// `end_entity` failed verification with OpenSSL's verify code `code`.
    fn note(&self, end_entity: &[u8], code: u64) {
        let mut certs = self.certs.lock().unwrap_or_else(|e| e.into_inner());
        crate::connections::remember(&mut certs, (end_entity.to_vec(), code));
    }

    /// The verify code of connection `conn` (0: verified), as curl's `ssl_verify_result`
    /// gives it: decided by its handshake's end-entity certificate when the hop saw the
    /// handshake, remembered for its reuses.
    pub(crate) fn verdict(&self, conn: u64, handshake_cert: Option<&[u8]>) -> u64 {
        let mut by_conn = self.by_conn.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cert) = handshake_cert {
            let code = self
                .certs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .find(|(c, _)| c == cert)
                .map_or(0, |(_, code)| *code);
            if by_conn.len() == REMEMBERED {
                by_conn.clear();
            }
            by_conn.insert(conn, code);
        }
        by_conn.get(&conn).copied().unwrap_or(0)
    }
}

/// `-k`: the real verifier's verdict, noted; the handshake goes on either way.
#[derive(Debug)]
pub(crate) struct Noting(pub(crate) Arc<VerifyFailed>);

impl Decide for Noting {
    fn decide(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        verdict: Result<ServerCertVerified, Error>,
    ) -> Result<ServerCertVerified, Error> {
        if let Err(err) = verdict {
            let code = match err {
                Error::InvalidCertificate(why) => crate::failure::verify_code(&why),
                _ => 1,
            };
            self.0.note(end_entity.as_ref(), code);
        }
        Ok(ServerCertVerified::assertion())
    }
}
