//! [`ClientTls`]: how [`https_client`](crate::https_client) verifies servers, and
//! [`crypto_provider`]: which rustls crypto provider this crate builds configs with.

use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

/// The crypto provider this crate's TLS configs use: the process default when one is
/// installed (`CryptoProvider::install_default`), else the feature's: `aws-lc-rs` (on by
/// default, as in reqwest 0.13), else `ring`.
///
/// Unlike `rustls::ClientConfig::builder()`, it never panics when both providers are
/// compiled in (an app with reqwest's defaults and this crate with `ring`, say).
///
/// ```
/// let provider = httptrace_tower::crypto_provider().unwrap();
/// let config = rustls::ClientConfig::builder_with_provider(provider)
///     .with_safe_default_protocol_versions()
///     .unwrap();
/// # drop(config);
/// ```
pub fn crypto_provider() -> Result<Arc<CryptoProvider>, rustls::Error> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Ok(installed.clone());
    }
    #[cfg(feature = "aws-lc-rs")]
    {
        Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
    }
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        Ok(Arc::new(rustls::crypto::ring::default_provider()))
    }
    #[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
    {
        Err(rustls::Error::General(
            "no rustls crypto provider: enable httptrace-tower's `aws-lc-rs` or `ring` \
             feature, or install a process default"
                .to_owned(),
        ))
    }
}

/// How [`https_client_with`](crate::https_client_with) verifies the servers it talks to.
///
/// Every choice but [`Config`](ClientTls::Config) builds a config with [`crypto_provider`],
/// rustls' safe default protocol versions, no client certificate, and ALPN offering `h2`
/// then `http/1.1`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClientTls {
    /// The platform's verifier and its roots (rustls-platform-verifier: the OS trust store
    /// on Windows, macOS, Android; the system's CA bundle on other Unixes), trusting
    /// `extra_roots` too. The default.
    Platform {
        /// Roots trusted beside the platform's (a private CA).
        extra_roots: Vec<CertificateDer<'static>>,
    },
    /// Mozilla's root certificates, compiled in (feature `webpki-roots`): the same trust on
    /// every machine, with no system store needed.
    #[cfg(feature = "webpki-roots")]
    #[cfg_attr(docsrs, doc(cfg(feature = "webpki-roots")))]
    WebpkiRoots,
    /// Only these roots.
    Roots(Arc<RootCertStore>),
    /// This config, as it is (its ALPN decides whether HTTP/2 is offered).
    Config(Arc<ClientConfig>),
}

impl Default for ClientTls {
    fn default() -> Self {
        ClientTls::Platform {
            extra_roots: Vec::new(),
        }
    }
}

impl From<Arc<ClientConfig>> for ClientTls {
    fn from(config: Arc<ClientConfig>) -> Self {
        ClientTls::Config(config)
    }
}

impl ClientTls {
    /// The rustls config this choice stands for.
    pub fn into_config(self) -> Result<Arc<ClientConfig>, rustls::Error> {
        let roots = match self {
            ClientTls::Config(config) => return Ok(config),
            ClientTls::Platform { extra_roots } => {
                let provider = crypto_provider()?;
                let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
                    extra_roots,
                    provider.clone(),
                )?;
                let verifier: Arc<dyn ServerCertVerifier> = Arc::new(verifier);
                let config = ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()?
                    .dangerous()
                    .with_custom_certificate_verifier(verifier)
                    .with_no_client_auth();
                return Ok(with_alpn(config));
            }
            #[cfg(feature = "webpki-roots")]
            ClientTls::WebpkiRoots => Arc::new(RootCertStore::from_iter(
                webpki_roots::TLS_SERVER_ROOTS.iter().cloned(),
            )),
            ClientTls::Roots(roots) => roots,
        };
        let config = ClientConfig::builder_with_provider(crypto_provider()?)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(with_alpn(config))
    }
}

/// Offers HTTP/2, then HTTP/1.1.
fn with_alpn(mut config: ClientConfig) -> Arc<ClientConfig> {
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}
