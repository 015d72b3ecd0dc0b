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

/// reqwest (through `ReqwestTrace`) over the same matrix. reqwest builds its own hyper
/// client and connector, and gives no seam into its connection's tasks: a request learns its
/// connection from the response's `HttpInfo`, so `GotConn` comes with the response head and
/// there is no `WroteHeaders` or `WroteRequest` to place (cells that cannot be seen). What
/// can be, must hold in every cell: each log well formed, `GotConn` naming the connection the
/// server saw, reuse as the situation makes it, no connection named by two clients.
#[cfg(feature = "reqwest")]
mod reqwest_cells {
    use std::sync::Arc;

    use httptrace::ClientTrace;
    use httptrace_reqwest::ReqwestTrace;
    use reqwest_middleware::ClientWithMiddleware;
    use support::matrix::{BoxedSend, Matrix, MatrixSender, Protocol, Situation, IDLE_TIMEOUT};
    use support::TestPki;

    struct Reqwest(ClientWithMiddleware);

    impl MatrixSender for Reqwest {
        fn send(&self, req: http::Request<http_body_util::Full<bytes::Bytes>>) -> BoxedSend {
            let client = self.0.clone();
            let trace = httptrace::extensions_client_trace(req.extensions()).cloned();
            let id = req.headers()["x-request-id"].clone();
            let url = req.uri().to_string();
            Box::pin(async move {
                let mut builder = client.get(&url).header("x-request-id", id);
                if let Some(trace) = trace {
                    builder = builder.with_extension(trace);
                }
                let res = builder.send().await.map_err(|e| e.to_string())?;
                res.bytes().await.map_err(|e| e.to_string())?;
                Ok(())
            })
        }

        fn hold_dials(&self) -> bool {
            false // reqwest's connector is its own
        }
    }

    fn reqwest_client(protocol: Protocol, pki: &TestPki) -> Arc<dyn MatrixSender> {
        let builder = reqwest::Client::builder().no_proxy();
        let builder = match protocol {
            Protocol::Http1 => builder.http1_only(),
            Protocol::Http2PriorKnowledge => builder.http2_prior_knowledge(),
            Protocol::Http2ByAlpn => builder.add_root_certificate(
                reqwest::Certificate::from_pem(pki.ca_pem().as_bytes()).unwrap(),
            ),
        };
        let client = ReqwestTrace::new(ClientTrace::new())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .client(builder)
            .unwrap()
            .build();
        Arc::new(Reqwest(client))
    }

    #[test]
    fn every_reqwest_cell_names_the_connection_the_server_saw() {
        Matrix::new()
            .clients(Arc::new(reqwest_client))
            .run(|cell, exchanges| {
                for x in exchanges {
                    let what = format!("{cell:?}, client {} step {}", x.client, x.step);
                    support::assert_well_formed(&x.events);
                    assert_eq!(x.got_conn_local_addr(), Some(x.server.peer), "{what}");
                }
                for client in 0..2 {
                    let mine: Vec<_> = exchanges.iter().filter(|x| x.client == client).collect();
                    let [first, second] = mine.as_slice() else {
                        continue;
                    };
                    let reused = second.got_conn().unwrap().reused;
                    let same = first.server.peer == second.server.peer;
                    assert_eq!(
                        reused, same,
                        "{cell:?}, client {client}: reuse as the server saw"
                    );
                    if cell.situation == Situation::AfterIdleTimeout {
                        assert!(!same, "{cell:?}: a new connection after the idle timeout");
                    }
                }
            });
    }
}

/// tonic's channel from `tonic_channel::client_channel` (hyper-util's HTTP/2 client over our
/// stack, spawning through a `TraceExecutor`) over the HTTP/2 protocols: the same timing as
/// hyper-util's own cells.
#[cfg(feature = "tonic")]
mod tonic_cells {
    use std::sync::Arc;

    use http_body_util::BodyExt;
    use httptrace::ClientTrace;
    use httptrace_tower::connect::TraceTlsConnector;
    use httptrace_tower::tonic_channel::{client_channel, WithOrigin};
    use httptrace_tower::{TraceConnector, TracedClient};
    use support::matrix::{BoxedSend, Matrix, MatrixSender, Protocol};
    use support::{dialer, DialHold, HoldDials, TestDialer, TestPki, TestResolver};
    use tower::ServiceExt;

    type Connector = TraceConnector<TraceTlsConnector<HoldDials<TestDialer>>>;

    struct Tonic {
        channel: WithOrigin<TracedClient<tonic::body::Body, Connector>>,
        hold: DialHold,
    }

    impl MatrixSender for Tonic {
        fn send(&self, req: http::Request<http_body_util::Full<bytes::Bytes>>) -> BoxedSend {
            let channel = self.channel.clone();
            Box::pin(async move {
                let res = channel
                    .oneshot(req.map(tonic::body::Body::new))
                    .await
                    .map_err(|e| e.to_string())?;
                res.into_body().collect().await.map_err(|e| e.to_string())?;
                Ok(())
            })
        }

        fn hold_dials(&self) -> bool {
            self.hold.hold();
            true
        }
    }

    fn tonic_client(protocol: Protocol, pki: &TestPki) -> Arc<dyn MatrixSender> {
        let mut dial = dialer(TestResolver::new());
        dial.enforce_http(false);
        let (dial, hold) = HoldDials::new(dial);
        let tls = TraceTlsConnector::new(dial, pki.client_config(&[b"h2"]));
        let origin = match protocol {
            Protocol::Http2ByAlpn => "https://127.0.0.1",
            _ => "http://127.0.0.1",
        };
        let channel = client_channel(
            origin.parse().unwrap(),
            TraceConnector::new(tls),
            ClientTrace::new(),
        );
        Arc::new(Tonic { channel, hold })
    }

    #[test]
    fn tonic_channel_cells_learn_their_connection_before_the_server_answers() {
        Matrix::new()
            .clients(Arc::new(tonic_client))
            .protocols([Protocol::Http2ByAlpn, Protocol::Http2PriorKnowledge])
            .run(|cell, exchanges| {
                for x in exchanges {
                    let what = format!("{cell:?}, client {} step {}", x.client, x.step);
                    support::assert_well_formed(&x.events);
                    assert_eq!(x.got_conn_local_addr(), Some(x.server.peer), "{what}");
                    let got_conn = x.at("GotConn").unwrap();
                    assert!(got_conn <= x.server.received_at, "{what}: GotConn late");
                    let wrote = x.at("WroteHeaders").unwrap();
                    assert!(wrote <= x.server.answered_at, "{what}: WroteHeaders late");
                }
            });
    }
}
