//! [`Noting`]: `-k`'s certificate verifier: verifies as usual and remembers the outcome
//! (`ssl_verify_result`), but lets an unverified server through.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use httptrace_tower::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use httptrace_tower::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use httptrace_tower::rustls::{DigitallySignedStruct, Error, SignatureScheme};

/// Whether a certificate failed verification since the flag was last read.
#[derive(Debug, Default)]
pub(crate) struct VerifyFailed(AtomicBool);

impl VerifyFailed {
    /// Whether one failed, and forget it.
    pub(crate) fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

/// The real verifier's verdict, noted; the handshake goes on either way.
#[derive(Debug)]
pub(crate) struct Noting {
    pub(crate) real: Arc<dyn ServerCertVerifier>,
    pub(crate) failed: Arc<VerifyFailed>,
}

impl ServerCertVerifier for Noting {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = self.real.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if verdict.is_err() {
            self.failed.0.store(true, Ordering::Release);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.real.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.real.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.real.supported_verify_schemes()
    }
}
