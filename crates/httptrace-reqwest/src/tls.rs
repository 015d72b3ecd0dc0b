//! [`WatchedSessions`]: the TLS session store of the rustls configuration given to
//! [`ReqwestTrace::rustls`](crate::ReqwestTrace::rustls). rustls asks it first thing when it
//! builds a ClientHello (its key-share hint), once the TCP connection is up: the instant the
//! request's connect ends and its handshake starts, told to the request in effect.

use std::sync::Arc;

use httptrace::instrument::current_holder;
use rustls::client::{ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use rustls::NamedGroup;

use crate::dial::RequestDial;

/// A session store that keeps sessions in `inner` and tells the request in effect when a
/// handshake starts.
#[derive(Debug)]
pub(crate) struct WatchedSessions {
    pub(crate) inner: Arc<dyn ClientSessionStore>,
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
        self.inner.tls12_session(server_name)
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
        self.inner.take_tls13_ticket(server_name)
    }
}
