//! [`Reverdict`]: a certificate verifier that verifies as another does, then decides again
//! on that verdict (the signatures are checked by the other alone): how `-k` notes and lets
//! through, and how an unknown issuer is told apart as OpenSSL tells it.

use std::sync::Arc;

use httptrace_tower::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use httptrace_tower::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use httptrace_tower::rustls::{DigitallySignedStruct, Error, SignatureScheme};

/// What to make of a verdict on a chain: its end-entity certificate, its intermediates, and
/// the verdict.
pub(crate) trait Decide: Send + Sync + std::fmt::Debug {
    fn decide(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        verdict: Result<ServerCertVerified, Error>,
    ) -> Result<ServerCertVerified, Error>;
}

/// `real`'s verdict on a server's certificate, decided again by `decide`.
#[derive(Debug)]
pub(crate) struct Reverdict<D> {
    pub(crate) real: Arc<dyn ServerCertVerifier>,
    pub(crate) decide: D,
}

impl<D: Decide> ServerCertVerifier for Reverdict<D> {
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
        self.decide.decide(end_entity, intermediates, verdict)
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
