//! [`RequestDial`]: one request's state as the seams reqwest offers see it — its resolver,
//! the layer around its connector, and (with [`ReqwestTrace::rustls`](crate::ReqwestTrace))
//! the TLS session store the handshake asks first — put in effect by the middleware while it
//! polls the request, so that each seam reaches it (`httptrace::instrument::current_holder`)
//! and fires the dial's hooks at the instants it can see:
//!
//! - `ConnectStart`: when the lookup ends (reqwest dials its first address at once), or when
//!   the connector is called for a URL whose host is an address;
//! - `ConnectDone` and `TLSHandshakeStart`: when rustls builds the ClientHello (the TCP
//!   connection is up); without the TLS seam, `ConnectDone` when the connector returns the
//!   connection (for `https`, after its handshake), and no TLS hooks;
//! - `TLSHandshakeDone`: when the connector returns the connection;
//! - `GotConn` for the new connection: then too, when the request's own poll is where the
//!   connector finished (hyper-util hands a dial that lost to a pooled connection to a task
//!   of its own, out of the request's sight, and drops a connection ALPN made HTTP/2 when
//!   another dial to the same place got there first: those requests' `GotConn` comes with
//!   their response, as for a reused connection).

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use httptrace::instrument::{lend_holder_while, HoldsTrace};
use httptrace::{
    ClientTrace, ConnectDoneInfo, ConnectStartInfo, TlsConnectionState, TlsHandshakeDoneInfo,
    TraceError,
};

/// Where a dial stands.
#[derive(Default)]
struct DialState {
    /// The address `ConnectStart` named (none yet: the dial has not started).
    addr: Option<SocketAddr>,
    /// `ConnectDone` fired.
    connected: bool,
    /// `TLSHandshakeStart` fired, for this server name.
    tls: Option<String>,
    /// What a watched verifier saw of the handshake (`ReqwestTrace::rustls_verifier`).
    handshake: Handshake,
}

/// What the watched session store and verifier saw of a handshake.
#[derive(Default)]
struct Handshake {
    /// The chain the server sent, its certificate first.
    chain: Vec<Vec<u8>>,
    /// The version whose handshake signature was checked (a full handshake).
    signed: Option<&'static str>,
    /// The version of the session offered for resumption.
    offered: Option<&'static str>,
}

impl Handshake {
    /// The version; whether a session was resumed (one was offered, and no certificate was
    /// checked: the server took it).
    fn outcome(&self) -> (Option<&'static str>, bool) {
        match (self.signed, self.offered) {
            (Some(version), _) => (Some(version), false),
            (None, Some(version)) => (Some(version), true),
            (None, None) => (None, false),
        }
    }
}

/// A request's trace and its dial, as the seams see them (see the module docs).
pub(crate) struct RequestDial {
    trace: ClientTrace,
    /// The URL's port, which a lookup's answers lack.
    port: u16,
    /// The URL's host, when it is an address (no lookup then).
    literal: Option<IpAddr>,
    state: Mutex<DialState>,
    /// `GotConn` fired from the connector layer: the middleware does not fire it again.
    got_conn: AtomicBool,
}

impl HoldsTrace for RequestDial {
    fn held_trace(&self) -> &ClientTrace {
        &self.trace
    }
}

impl RequestDial {
    pub(crate) fn new(trace: ClientTrace, url: &reqwest::Url) -> Arc<Self> {
        let literal = url
            .host_str()
            .and_then(|h| h.trim_start_matches('[').trim_end_matches(']').parse().ok());
        Arc::new(RequestDial {
            trace,
            port: url.port_or_known_default().unwrap_or(0),
            literal,
            state: Mutex::new(DialState::default()),
            got_conn: AtomicBool::new(false),
        })
    }

    pub(crate) fn trace(&self) -> &ClientTrace {
        &self.trace
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DialState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn connect_start(&self, state: &mut DialState, ip: IpAddr) {
        let addr = SocketAddr::new(ip, self.port);
        state.addr = Some(addr);
        self.trace
            .connect_start(&ConnectStartInfo::new("tcp", addr));
    }

    /// The connector is called: a dial starts (for an address host, its connect now).
    pub(crate) fn dial_started(&self) {
        let mut state = self.lock();
        *state = DialState::default();
        if let Some(ip) = self.literal {
            self.connect_start(&mut state, ip);
        }
    }

    /// The lookup answered `first` first: reqwest dials it now.
    pub(crate) fn looked_up(&self, first: Option<IpAddr>) {
        let mut state = self.lock();
        if let (None, Some(ip)) = (state.addr, first) {
            self.connect_start(&mut state, ip);
        }
    }

    /// rustls builds the ClientHello for `server_name`: the TCP connection is up, the
    /// handshake starts.
    pub(crate) fn tls_started(&self, server_name: String) {
        let mut state = self.lock();
        let Some(addr) = state
            .addr
            .filter(|_| !state.connected && state.tls.is_none())
        else {
            return;
        };
        state.connected = true;
        state.tls = Some(server_name);
        drop(state);
        self.trace
            .connect_done(&ConnectDoneInfo::new("tcp", addr, None));
        self.trace.tls_handshake_start();
    }

    /// The handshake offers to resume a session of `version`.
    pub(crate) fn session_offered(&self, version: &'static str) {
        self.lock().handshake.offered = Some(version);
    }

    /// The verifier checks the server's `chain` (its certificate first).
    pub(crate) fn peer_chain(&self, chain: Vec<Vec<u8>>) {
        self.lock().handshake.chain = chain;
    }

    /// The verifier checks the handshake's signature, made for `version`.
    pub(crate) fn signed_with(&self, version: &'static str) {
        self.lock().handshake.signed = Some(version);
    }

    /// The connector returned a connection from `local` to `remote`; `alpn_h2` if ALPN chose
    /// HTTP/2, `peer` the server's certificate when reqwest's `tls_info` gives it.
    pub(crate) fn connected(
        &self,
        remote: SocketAddr,
        local: SocketAddr,
        alpn_h2: bool,
        peer: Option<Vec<u8>>,
    ) {
        let mut state = self.lock();
        let started = state.addr.is_some();
        let fire_connect = started && !state.connected;
        state.connected = true;
        let tls = state.tls.take();
        let handshake = std::mem::take(&mut state.handshake);
        drop(state);
        if fire_connect {
            let info = ConnectDoneInfo::new("tcp", remote, None).with_local_addr(local);
            self.trace.connect_done(&info);
        }
        if let Some(server_name) = tls {
            let mut tls_state = TlsConnectionState::new();
            tls_state.server_name = Some(server_name);
            tls_state.alpn_protocol = alpn_h2.then(|| b"h2".to_vec());
            let (version, resumed) = handshake.outcome();
            tls_state.version = version.map(str::to_owned);
            tls_state.resumed = resumed;
            tls_state.peer_certificates = if handshake.chain.is_empty() {
                peer.into_iter().collect()
            } else {
                handshake.chain
            };
            self.trace
                .tls_handshake_done(&TlsHandshakeDoneInfo::new(tls_state, None));
        }
    }

    /// The connector failed with `err`: the phase under way ends with it.
    pub(crate) fn failed(&self, err: &(dyn std::error::Error + 'static)) {
        let mut state = self.lock();
        let (addr, connected, tls) = (state.addr, state.connected, state.tls.take());
        state.connected = true;
        drop(state);
        let seen = TraceError::describe(err);
        if let Some(server_name) = tls {
            let mut tls_state = TlsConnectionState::new();
            tls_state.server_name = Some(server_name);
            self.trace
                .tls_handshake_done(&TlsHandshakeDoneInfo::new(tls_state, Some(seen)));
        } else if let (Some(addr), false) = (addr, connected) {
            self.trace
                .connect_done(&ConnectDoneInfo::new("tcp", addr, Some(seen)));
        }
    }

    /// `GotConn` fired from the connector layer.
    pub(crate) fn got_conn_early(&self) {
        self.got_conn.store(true, Ordering::Release);
    }

    pub(crate) fn has_got_conn(&self) -> bool {
        self.got_conn.load(Ordering::Acquire)
    }
}

pin_project_lite::pin_project! {
    /// A request's future with its [`RequestDial`] in effect while it is polled.
    pub(crate) struct Lent<F> {
        #[pin]
        inner: F,
        dial: Option<Arc<RequestDial>>,
    }
}

impl<F> Lent<F> {
    pub(crate) fn new(inner: F, dial: Arc<RequestDial>) -> Self {
        Lent {
            inner,
            dial: Some(dial),
        }
    }
}

impl<F: std::future::Future> std::future::Future for Lent<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let inner = this.inner;
        lend_holder_while(this.dial, || inner.poll(cx))
    }
}
