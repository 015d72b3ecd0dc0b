//! Deployment matrices (`support::matrix`): the same assertions over protocols, runtime
//! flavours, clients and runtimes per process, and situations.

use std::time::Duration;

use support::matrix::{Flavour, Matrix, Protocol, Shape, Situation};

/// Every request's log is well formed, its `GotConn` names the connection the server saw it
/// on (so no connection is named by two clients), and a request that follows another on the
/// same client reuses that connection unless the pool's idle timeout passed between them.
#[test]
fn every_cell_names_the_connection_the_server_saw() {
    Matrix::new()
        .protocols([
            Protocol::Http1,
            Protocol::Http2ByAlpn,
            Protocol::Http2PriorKnowledge,
        ])
        .flavours([Flavour::CurrentThread, Flavour::MultiThread])
        .shapes([Shape::OneClient, Shape::TwoClients])
        .situations([
            Situation::Fresh,
            Situation::Reused,
            Situation::AfterIdleTimeout,
        ])
        .run(|cell, exchanges| {
            for x in exchanges {
                support::assert_well_formed(&x.events);
                assert_eq!(
                    x.got_conn_local_addr(),
                    Some(x.server.peer),
                    "{cell:?}, client {} step {}",
                    x.client,
                    x.step
                );
            }
            for client in 0..2 {
                let mine: Vec<_> = exchanges.iter().filter(|x| x.client == client).collect();
                let [first, second] = mine.as_slice() else {
                    continue;
                };
                let same = first.server.peer == second.server.peer;
                let expected = cell.situation == Situation::Reused;
                assert_eq!(
                    same,
                    expected,
                    "{cell:?}, client {client}: reused? {:?} then {:?}",
                    support::names(&first.events),
                    support::names(&second.events),
                );
            }
        });
}

/// A reused connection's idle time counts from the end of its last exchange, not from when
/// it was made: the first exchange took the server 200 ms, which the second request's idle
/// time must not include. The same on HTTP/1.1 (from the last response byte) and HTTP/2
/// (from the last stream's end).
#[test]
fn a_reused_connections_idle_time_counts_from_the_last_exchanges_end() {
    Matrix::new()
        .shapes([Shape::OneClient, Shape::TwoClients])
        .situations([Situation::Reused])
        .run(|cell, exchanges| {
            for pair in exchanges.chunks(2) {
                let [first, second] = pair else {
                    panic!("{cell:?}: two requests per client");
                };
                let (fresh, got) = (first.got_conn().unwrap(), second.got_conn().unwrap());
                assert!(!fresh.reused, "{cell:?}: {fresh:?}");
                assert!(got.reused && got.was_idle, "{cell:?}: {got:?}");
                let since_connected =
                    second.at("GotConn").unwrap() - first.at("ConnectDone").unwrap();
                assert!(
                    got.idle_time + Duration::from_millis(200) <= since_connected,
                    "{cell:?}: idle {:?}, connected {since_connected:?} before",
                    got.idle_time
                );
            }
        });
}

/// Wherever it runs, a request learns its connection when it gets it, and its head's hooks
/// fire when the head goes out, never with the response: `GotConn` before the server has the
/// request; `WroteHeaders` and `WroteRequest` before the server answers (200 ms after it had
/// the request: over HTTP/1.1 they fire once the socket took the bytes, and over HTTP/2 once
/// the stream has its place, each of which the server may see first). On every protocol,
/// runtime flavour and number of clients and runtimes in the process, on a fresh connection,
/// a reused one, the first after the pool's idle timeout, and 16 at once.
#[test]
fn got_conn_and_wrote_headers_come_before_the_server_answers() {
    Matrix::new().run(|cell, exchanges| {
        for x in exchanges {
            let what = format!("{cell:?}, client {} step {}", x.client, x.step);
            support::assert_well_formed(&x.events);
            assert_eq!(x.got_conn_local_addr(), Some(x.server.peer), "{what}");
            let got_conn = x
                .at("GotConn")
                .unwrap_or_else(|| panic!("{what}: no GotConn"));
            assert!(
                got_conn <= x.server.received_at,
                "{what}: GotConn {:?} after the server had the request",
                got_conn - x.server.received_at
            );
            let bound = x.server.answered_at;
            for hook in ["WroteHeaders", "WroteRequest"] {
                let at = x.at(hook).unwrap_or_else(|| panic!("{what}: no {hook}"));
                assert!(
                    at <= bound,
                    "{what}: {hook} {:?} late",
                    at.saturating_duration_since(bound)
                );
            }
            let first_byte = x.at("GotFirstResponseByte").unwrap();
            assert!(first_byte >= x.server.answered_at, "{what}");
        }
    });
}
