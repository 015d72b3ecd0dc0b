//! [`Resolver`]: the system's lookup, with `--resolve`'s answers and `-4`/`-6`'s filter.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::Name;
use tower_service::Service;

use super::connect_to::default_port;
use crate::options::{Family, ResolveEntry};

/// Looks names up as the system does, unless `--resolve` answered for them.
#[derive(Clone, Debug)]
pub(crate) struct Resolver {
    fixed: Arc<HashMap<String, Vec<IpAddr>>>,
    family: Family,
}

impl Resolver {
    /// `entries` apply to the hosts of `urls` whose port they name (as curl's do).
    pub(crate) fn new(entries: &[ResolveEntry], urls: &[String], family: Family) -> Self {
        let ports: Vec<(String, u16)> = urls
            .iter()
            .filter_map(|u| u.parse::<http::Uri>().ok())
            .filter_map(|u| Some((u.host()?.to_ascii_lowercase(), default_port(&u))))
            .collect();
        let fixed = entries
            .iter()
            .filter(|e| urls.is_empty() || ports.contains(&(e.host.clone(), e.port)))
            .map(|e| (e.host.clone(), e.addrs.clone()))
            .collect();
        Resolver {
            fixed: Arc::new(fixed),
            family,
        }
    }
}

impl Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let host = name.as_str().to_ascii_lowercase();
        let fixed = self.fixed.get(&host).cloned();
        let family = self.family;
        Box::pin(async move {
            let found: Vec<SocketAddr> = match fixed {
                Some(ips) => ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect(),
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let kept: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| family.keeps(&a.ip()))
                .collect();
            if kept.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{host}: no address of the asked family"),
                ));
            }
            Ok(kept.into_iter())
        })
    }
}
