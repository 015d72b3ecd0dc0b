//! The rustls configuration given to [`ReqwestTrace::rustls`](crate::ReqwestTrace::rustls),
//! watched from inside the handshake: its session store ([`WatchedSessions`]), which rustls
//! asks first thing when it builds a ClientHello (its key-share hint), once the TCP connection
//! is up, and which hands it the session it offers to resume; and, when one is given
//! ([`ReqwestTrace::rustls_verifier`](crate::ReqwestTrace::rustls_verifier)), its certificate
//! verifier ([`WatchedVerifier`]), which sees the chain the server sent and the version whose
//! signature it checks. Each tells the request in effect.

use std::sync::Arc;

use httptrace::instrument::current_holder;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, NamedGroup, SignatureScheme};

use crate::dial::RequestDial;

/// How many TLS sessions the store keeps: rustls's default.
const SESSIONS: usize = 256;

/// What [`ReqwestTrace::rustls`](crate::ReqwestTrace::rustls) was given, and the session
/// store every configuration made from it shares.
#[derive(Debug, Clone)]
pub(crate) struct RustlsSeam {
    config: Arc<rustls::ClientConfig>,
    sessions: Arc<dyn ClientSessionStore>,
}

impl RustlsSeam {
    pub(crate) fn new(config: rustls::ClientConfig) -> Self {
        RustlsSeam {
            config: Arc::new(config),
            sessions: Arc::new(rustls::client::ClientSessionMemoryCache::new(SESSIONS)),
        }
    }

    /// The configuration reqwest is given: the one the user gave, with the watched session
    /// store and, if one is given, `verifier` watched in place of the configuration's.
    pub(crate) fn config(
        &self,
        verifier: Option<&Arc<dyn ServerCertVerifier>>,
    ) -> rustls::ClientConfig {
        let mut config = rustls::ClientConfig::clone(&self.config);
        config.resumption = rustls::client::Resumption::store(Arc::new(WatchedSessions {
            inner: self.sessions.clone(),
            verifier_watched: verifier.is_some(),
        }));
        if let Some(inner) = verifier {
            config
                .dangerous()
                .set_certificate_verifier(Arc::new(WatchedVerifier {
                    inner: inner.clone(),
                }));
        }
        config
    }
}

/// A session store that keeps sessions in `inner` and tells the request in effect when a
/// handshake starts and, if the verifier is watched too, which session it offers to resume
/// (a handshake that offered one and checked no certificate resumed it).
#[derive(Debug)]
struct WatchedSessions {
    inner: Arc<dyn ClientSessionStore>,
    verifier_watched: bool,
}

impl WatchedSessions {
    fn offered(&self, version: &'static str) {
        if !self.verifier_watched {
            return;
        }
        if let Some(dial) = current_holder::<RequestDial>() {
            dial.session_offered(version);
        }
    }
}

impl ClientSessionStore for WatchedSessions {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.inner.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        if let Some(dial) = current_holder::<RequestDial>() {
            dial.tls_started(server_name.to_str().into_owned());
        }
        self.inner.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.inner.set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        let session = self.inner.tls12_session(server_name);
        if session.is_some() {
            self.offered(TLS12);
        }
        session
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.inner.remove_tls12_session(server_name);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.inner.insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        let ticket = self.inner.take_tls13_ticket(server_name);
        if ticket.is_some() {
            self.offered(TLS13);
        }
        ticket
    }
}

/// The names `TLSHandshakeDone`'s state gives versions, as the tower crate's.
const TLS12: &str = "TLSv1.2";
const TLS13: &str = "TLSv1.3";

/// A certificate verifier that checks with `inner` and tells the request in effect the chain
/// the server sent and the version whose handshake signature it checked.
#[derive(Debug)]
struct WatchedVerifier {
    inner: Arc<dyn ServerCertVerifier>,
}

impl WatchedVerifier {
    fn signed(&self, version: &'static str) {
        if let Some(dial) = current_holder::<RequestDial>() {
            dial.signed_with(version);
        }
    }
}

impl ServerCertVerifier for WatchedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(dial) = current_holder::<RequestDial>() {
            let chain = std::iter::once(end_entity).chain(intermediates);
            dial.peer_chain(chain.map(|c| c.as_ref().to_vec()).collect());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signed(TLS12);
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.signed(TLS13);
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }

    fn requires_raw_public_keys(&self) -> bool {
        self.inner.requires_raw_public_keys()
    }

    fn root_hint_subjects(&self) -> Option<&[rustls::DistinguishedName]> {
        self.inner.root_hint_subjects()
    }
}
