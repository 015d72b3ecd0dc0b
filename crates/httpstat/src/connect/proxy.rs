//! [`MaybeTunnel`]: `-x`'s HTTP CONNECT tunnel (hyper-util's `Tunnel`) over the dialer, or
//! the dialer alone; each tunnel's setup time is kept for the hop that uses it.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use http::Uri;
use httptrace::BoxError;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use tower_service::Service;

/// Tunnels remembered until their hop looks them up; the oldest are forgotten past this.
const REMEMBERED: usize = 1024;

/// When each tunnel was up (the proxy's `200` to `CONNECT`), by the connection's local
/// address.
#[derive(Debug, Default)]
pub(crate) struct TunnelTimes(Mutex<HashMap<SocketAddr, Instant>>);

impl TunnelTimes {
    /// When the tunnel whose connection has `local` as its address was up, once.
    pub(crate) fn take(&self, local: SocketAddr) -> Option<Instant> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&local)
    }

    fn note(&self, local: SocketAddr, up: Instant) {
        let mut times = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if times.len() >= REMEMBERED {
            times.clear();
        }
        times.insert(local, up);
    }
}

/// The dialer, through a CONNECT tunnel when a proxy is set.
#[derive(Clone)]
pub(crate) struct MaybeTunnel<C> {
    direct: C,
    tunnel: Option<Tunnel<C>>,
    times: Arc<TunnelTimes>,
}

impl<C: Clone> MaybeTunnel<C> {
    pub(crate) fn new(direct: C, proxy: Option<Uri>, times: Arc<TunnelTimes>) -> Self {
        let tunnel = proxy.map(|proxy| Tunnel::new(proxy, direct.clone()));
        MaybeTunnel {
            direct,
            tunnel,
            times,
        }
    }
}

type Dialing<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

impl<C> Service<Uri> for MaybeTunnel<C>
where
    C: Service<Uri> + Clone + Send + 'static,
    C::Future: Send + 'static,
    C::Response: hyper::rt::Read + hyper::rt::Write + Connection + Unpin + Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Dialing<C::Response>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        match &mut self.tunnel {
            Some(tunnel) => tunnel.poll_ready(cx).map_err(Into::into),
            None => self.direct.poll_ready(cx).map_err(Into::into),
        }
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let Some(tunnel) = &mut self.tunnel else {
            let dialing = self.direct.call(uri);
            return Box::pin(async move { dialing.await.map_err(Into::into) });
        };
        let times = self.times.clone();
        let tunnelling = tunnel.call(uri);
        Box::pin(async move {
            let io = tunnelling.await?;
            let mut extras = http::Extensions::new();
            io.connected().get_extras(&mut extras);
            if let Some(info) = extras.get::<HttpInfo>() {
                times.note(info.local_addr(), Instant::now());
            }
            Ok(io)
        })
    }
}
