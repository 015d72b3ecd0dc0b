//! `http.client.open_connections` by `http.connection.state` (`active` while a request is
//! in flight on the connection, `idle` between them) and `http.client.connection.duration`,
//! followed through the hooks of every request on each connection.

use std::collections::HashMap;
use std::sync::Mutex;

use httptrace::{ConnClosedInfo, ConnectionId};
use opentelemetry::metrics::{Histogram, UpDownCounter};
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    HTTP_CONNECTION_STATE, NETWORK_PROTOCOL_VERSION,
};

/// The two instruments a pool's changes go to.
pub(super) struct PoolInstruments<'a> {
    /// `http.client.open_connections`.
    pub(super) open: &'a UpDownCounter<i64>,
    /// `http.client.connection.duration`.
    pub(super) duration: &'a Histogram<f64>,
}

/// How many connections a layer follows at once. A connection whose close is never told
/// (one not made by [`TraceConnector`](httptrace_tower::TraceConnector)) stays followed until this
/// many are: past it, new connections are not counted, so that memory stays bounded.
const FOLLOWED: usize = 16_384;

/// The connections a layer's requests went over, until each closes.
#[derive(Default)]
pub(super) struct Pool {
    conns: Mutex<HashMap<ConnectionId, Followed>>,
}

struct Followed {
    /// Requests in flight on it: `active` while above zero.
    in_flight: u32,
    /// `server.address`, `server.port`.
    server: Vec<KeyValue>,
    /// `network.protocol.version`, once a response told it.
    protocol: Option<&'static str>,
}

impl Followed {
    fn state(&self) -> &'static str {
        if self.in_flight > 0 {
            "active"
        } else {
            "idle"
        }
    }
}

impl Pool {
    fn conns(&self) -> std::sync::MutexGuard<'_, HashMap<ConnectionId, Followed>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request got connection `id` (`GotConn`).
    pub(super) fn request_started(
        &self,
        to: &PoolInstruments<'_>,
        id: ConnectionId,
        server: &[KeyValue],
    ) {
        let mut conns = self.conns();
        let len = conns.len();
        match conns.get_mut(&id) {
            Some(conn) => {
                if conn.in_flight == 0 {
                    count(to, &conn.server, "idle", -1);
                    count(to, &conn.server, "active", 1);
                }
                conn.in_flight += 1;
            }
            None if len < FOLLOWED => {
                count(to, server, "active", 1);
                let conn = Followed {
                    in_flight: 1,
                    server: server.to_vec(),
                    protocol: None,
                };
                conns.insert(id, conn);
            }
            None => {}
        }
    }

    /// The response on connection `id` came over `protocol`.
    pub(super) fn protocol(&self, id: ConnectionId, protocol: &'static str) {
        if let Some(conn) = self.conns().get_mut(&id) {
            conn.protocol = Some(protocol);
        }
    }

    /// A request on connection `id` ended (its body's end, or its failure).
    pub(super) fn request_ended(&self, to: &PoolInstruments<'_>, id: ConnectionId) {
        if let Some(conn) = self.conns().get_mut(&id) {
            conn.in_flight = conn.in_flight.saturating_sub(1);
            if conn.in_flight == 0 {
                count(to, &conn.server, "active", -1);
                count(to, &conn.server, "idle", 1);
            }
        }
    }

    /// The connection closed: out of the count, its life recorded.
    pub(super) fn closed(
        &self,
        to: &PoolInstruments<'_>,
        info: &ConnClosedInfo,
        server: &[KeyValue],
    ) {
        let followed = self.conns().remove(&info.conn.id);
        let mut attributes = server.to_vec();
        if let Some(conn) = &followed {
            count(to, &conn.server, conn.state(), -1);
            if let Some(protocol) = conn.protocol {
                attributes.push(KeyValue::new(NETWORK_PROTOCOL_VERSION, protocol));
            }
        }
        to.duration.record(info.lifetime.as_secs_f64(), &attributes);
    }
}

fn count(to: &PoolInstruments<'_>, server: &[KeyValue], state: &'static str, by: i64) {
    let mut attributes = server.to_vec();
    attributes.push(KeyValue::new(HTTP_CONNECTION_STATE, state));
    to.open.add(by, &attributes);
}
