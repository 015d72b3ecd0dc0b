//! [`Classifying`]: when a chain is rejected for its issuer, what OpenSSL (and so curl's
//! `ssl_verify_result`) would call it: a self-signed certificate (18), a self-signed one in
//! the chain (19), or an issuer not found (20). rustls says "unknown issuer" for all three.
//!
//! Whether a certificate is self-signed is read from its names: its issuer and subject are
//! the same bytes.

use std::sync::Arc;

use httptrace_tower::rustls::client::danger::ServerCertVerified;
use httptrace_tower::rustls::pki_types::CertificateDer;
use httptrace_tower::rustls::{CertificateError, Error, OtherError};

use super::reverdict::Decide;

/// A chain rejected for its issuer, with OpenSSL's verify code and text.
#[derive(Debug)]
pub(crate) struct ChainProblem {
    pub(crate) code: u64,
    pub(crate) text: &'static str,
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text)
    }
}

impl std::error::Error for ChainProblem {}

/// Whether `cert` names itself as its issuer (its issuer and subject are the same bytes).
fn self_signed(cert: &[u8]) -> bool {
    use x509_parser::prelude::{FromDer, X509Certificate};
    X509Certificate::from_der(cert).is_ok_and(|(_, c)| c.issuer().as_raw() == c.subject().as_raw())
}

/// OpenSSL's name for a chain rejected for an unknown issuer.
fn classify(end_entity: &[u8], intermediates: &[CertificateDer<'_>]) -> ChainProblem {
    if self_signed(end_entity) {
        ChainProblem {
            code: 18,
            text: "self-signed certificate",
        }
    } else if intermediates.iter().any(|c| self_signed(c)) {
        ChainProblem {
            code: 19,
            text: "self-signed certificate in certificate chain",
        }
    } else {
        ChainProblem {
            code: 20,
            text: "unable to get local issuer certificate",
        }
    }
}

/// The real verifier's "unknown issuer", told apart as OpenSSL does.
#[derive(Debug)]
pub(crate) struct Classifying;

impl Decide for Classifying {
    fn decide(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        verdict: Result<ServerCertVerified, Error>,
    ) -> Result<ServerCertVerified, Error> {
        verdict.map_err(|err| match err {
            Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
                let problem = classify(end_entity, intermediates);
                Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(problem))))
            }
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// rcgen's self-signed authority names itself; a leaf it signs does not; bytes that are
    /// not a certificate are not self-signed (and do not panic).
    #[test]
    fn self_signed_certificates_are_told_from_their_names() {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "chain problem CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["a.test".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let ca = ca_cert;
        assert!(self_signed(ca.der()));
        assert!(!self_signed(leaf.der()));
        assert!(!self_signed(&[0x30, 0x82, 0xff]));
        assert_eq!(classify(leaf.der(), &[]).code, 20);
        assert_eq!(classify(leaf.der(), &[ca.der().clone()]).code, 19);
        assert_eq!(classify(ca.der(), &[]).code, 18);
    }
}
