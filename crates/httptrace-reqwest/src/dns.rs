//! [`TracedDns`]: reqwest's DNS resolver, reporting `DNSStart` / `DNSDone`.

use std::net::SocketAddr;
use std::sync::Arc;

use httptrace::instrument::current_holder;
use httptrace::{current_trace, DnsDoneInfo, DnsStartInfo, TraceError};

use crate::dial::RequestDial;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// reqwest's DNS resolver, reporting `DNSStart` / `DNSDone` to the trace in effect where the
/// lookup starts ([`ReqwestTrace`](crate::ReqwestTrace) puts the request's trace in effect
/// for the whole request).
#[derive(Clone)]
pub struct TracedDns {
    inner: Arc<dyn Resolve>,
}

impl std::fmt::Debug for TracedDns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TracedDns")
    }
}

/// The system's resolver (`getaddrinfo` on tokio's blocking pool).
struct SystemDns;

impl Resolve for SystemDns {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(Box::new(addrs.collect::<Vec<_>>().into_iter()) as Addrs)
        })
    }
}

impl TracedDns {
    /// Traces the system's resolver.
    pub fn system() -> Self {
        Self::new(SystemDns)
    }

    /// Traces `inner`.
    pub fn new(inner: impl Resolve + 'static) -> Self {
        TracedDns {
            inner: Arc::new(inner),
        }
    }
}

impl Resolve for TracedDns {
    fn resolve(&self, name: Name) -> Resolving {
        let Some(trace) = current_trace() else {
            return self.inner.resolve(name);
        };
        let dial = current_holder::<RequestDial>();
        trace.dns_start(&DnsStartInfo::new(name.as_str()));
        let lookup = self.inner.resolve(name);
        Box::pin(async move {
            match lookup.await {
                Ok(addrs) => {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    let ips = addrs.iter().map(SocketAddr::ip).collect();
                    trace.dns_done(&DnsDoneInfo::new(ips, None, false));
                    // reqwest dials the first answer as soon as it has them.
                    if let Some(dial) = &dial {
                        dial.looked_up(addrs.first().map(SocketAddr::ip));
                    }
                    Ok(Box::new(addrs.into_iter()) as Addrs)
                }
                Err(err) => {
                    let seen = TraceError::describe(&*err);
                    trace.dns_done(&DnsDoneInfo::new(Vec::new(), Some(seen), false));
                    Err(err)
                }
            }
        })
    }
}
