//! [`Redirected`]: `--connect-to`'s connector, dialling another host and port than the URL
//! names; the TLS layer above it still sends the URL's name.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::Uri;
use tower_service::Service;

use crate::options::ConnectTo;

/// Dials `to` for requests to `from`, and everything else as asked.
#[derive(Clone, Debug)]
pub(crate) struct Redirected<C> {
    inner: C,
    rules: Arc<Vec<ConnectTo>>,
}

impl<C> Redirected<C> {
    pub(crate) fn new(inner: C, rules: Vec<ConnectTo>) -> Self {
        Redirected {
            inner,
            rules: Arc::new(rules),
        }
    }
}

/// `uri`'s port, or its scheme's (443 for `https`, else 80).
pub(crate) fn default_port(uri: &Uri) -> u16 {
    uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    })
}

impl<C: Service<Uri>> Service<Uri> for Redirected<C> {
    type Response = C::Response;
    type Error = C::Error;
    type Future = C::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), C::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> C::Future {
        let host = uri.host().unwrap_or_default().to_ascii_lowercase();
        let port = default_port(&uri);
        let rule = self.rules.iter().find(|r| r.from == (host.clone(), port));
        let target = rule
            .and_then(|r| {
                let (h, p) = &r.to;
                let h = if h.contains(':') {
                    format!("[{h}]")
                } else {
                    h.clone()
                };
                format!("{}://{h}:{p}/", uri.scheme_str().unwrap_or("http"))
                    .parse::<Uri>()
                    .ok()
            })
            .unwrap_or(uri);
        self.inner.call(target)
    }
}
