//! [`client`]: the one client a run sends every request with.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use httptrace::ClientTrace;
use httptrace_tower::rustls::client::danger::ServerCertVerifier;
use httptrace_tower::rustls::client::WebPkiServerVerifier;
use httptrace_tower::rustls::{ClientConfig, RootCertStore};
use httptrace_tower::{
    crypto_provider, HttpTrace, TraceConnector, TraceExecutor, TraceHttpConnector, TraceResolver,
    TraceTlsConnector, TracedRequestBody,
};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::chain_problem::Classifying;
use super::connect_to::Redirected;
use super::deadline::Deadline;
use super::insecure::{Noting, VerifyFailed};
use super::proxy::{MaybeTunnel, TunnelTimes};
use super::resolver::Resolver;
use super::reverdict::Reverdict;
use crate::options::{Options, Protocol};

/// The dialer: `-x`'s tunnel, or not, over `--connect-to` over our traced dialer over the
/// traced resolver.
type Dial = MaybeTunnel<Redirected<TraceHttpConnector<TraceResolver<Resolver>>>>;

/// The client: our connector stack, rustls, every request traced with timings.
pub(crate) type Stat = HttpTrace<
    Client<TraceConnector<Deadline<TraceTlsConnector<Dial>>>, TracedRequestBody<Full<Bytes>>>,
>;

/// How long a TLS handshake may take without `--connect-timeout`, as the library's own
/// clients allow.
pub(crate) const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whom `https://` trusts.
pub(crate) enum Trust {
    /// The platform's verifier and roots.
    Platform,
    /// These roots only (`--cacert`, or the local servers' authority).
    Roots(RootCertStore),
}

/// The client for `o`, trusting `trust`; `verify_failed` notes a certificate `-k` let
/// through.
pub(crate) fn client(
    o: &Options,
    trust: Trust,
    verify_failed: Arc<VerifyFailed>,
    tunnels: Arc<TunnelTimes>,
) -> Result<Stat, String> {
    let provider = crypto_provider().map_err(|e| e.to_string())?;
    let verifier: Arc<dyn ServerCertVerifier> = match trust {
        Trust::Platform => Arc::new(
            rustls_platform_verifier::Verifier::new(provider.clone())
                .map_err(|e| format!("the platform's certificates: {e}"))?,
        ),
        Trust::Roots(roots) => {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("the trusted certificates: {e}"))?
        }
    };
    let verifier: Arc<dyn ServerCertVerifier> = Arc::new(Reverdict {
        real: verifier,
        decide: Classifying,
    });
    let verifier: Arc<dyn ServerCertVerifier> = if o.insecure {
        Arc::new(Reverdict {
            real: verifier,
            decide: Noting(verify_failed),
        })
    } else {
        verifier
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = match o.protocol {
        Protocol::Either => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        Protocol::Http1 => vec![b"http/1.1".to_vec()],
        Protocol::Http2 => vec![b"h2".to_vec()],
    };
    // HTTP/2 without asking: `--http2` on `http://` URLs only.
    let prior_knowledge = o.protocol == Protocol::Http2
        && !o.urls.is_empty()
        && o.urls.iter().all(|u| u.starts_with("http://"));
    let resolver = Resolver::new(&o.resolve, &o.urls, o.family);
    let mut dialer = TraceHttpConnector::with_resolver(TraceResolver::new(resolver));
    // As curl, reqwest and tonic: small HTTP/2 writes must not wait on delayed ACKs.
    dialer
        .enforce_http(false)
        .set_nodelay(true)
        .set_connect_timeout(o.connect_timeout);
    let dial = Redirected::new(dialer, o.connect_to.clone());
    let dial = MaybeTunnel::new(dial, o.proxy.clone(), tunnels);
    let mut tls = TraceTlsConnector::new(dial, Arc::new(config));
    // `--connect-timeout` covers the handshake with the rest of the connect.
    tls.set_handshake_timeout(tls_handshake_timeout(o));
    let connector = TraceConnector::new(Deadline::new(tls, o.connect_timeout));
    let connector = if prior_knowledge {
        connector
    } else {
        connector.http2_only_by_alpn()
    };
    let stats = connector.stats();
    let client = Client::builder(TraceExecutor::new(TokioExecutor::new()))
        .http2_only(prior_knowledge)
        .build(connector);
    Ok(HttpTrace::new(client, ClientTrace::new())
        .with_trace_executor()
        .with_stats(stats)
        .record_timings())
}

/// The TLS handshake's own limit: none when `--connect-timeout` covers the whole connect,
/// else [`TLS_HANDSHAKE_TIMEOUT`].
pub(crate) fn tls_handshake_timeout(o: &Options) -> Option<std::time::Duration> {
    match o.connect_timeout {
        Some(_) => None,
        None => Some(TLS_HANDSHAKE_TIMEOUT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    /// Without `--connect-timeout` a TLS handshake gives up after 10 s, as the library's own
    /// clients; with it, the deadline over the whole connect decides alone.
    #[test]
    fn the_tls_handshake_has_ten_seconds_unless_the_connect_timeout_covers_it() {
        let options = |args: &[&str]| {
            let args = crate::cli::Args::parse_from(
                ["httpstat"].iter().chain(args).chain(&["https://a.test/"]),
            );
            Options::from_args(args).unwrap()
        };
        assert_eq!(
            tls_handshake_timeout(&options(&[])),
            Some(std::time::Duration::from_secs(10))
        );
        assert_eq!(
            tls_handshake_timeout(&options(&["--connect-timeout", "3"])),
            None
        );
    }
}
