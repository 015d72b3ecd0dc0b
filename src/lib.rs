//! Pieces shared by this workspace's examples and end-to-end tests (not published).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use httptrace::ClientTrace;

mod hits;
pub use hits::Hits;

/// A trace with every one of the 16 hooks set, each counting one of `hits` (a relaxed atomic
/// increment): the `full` mode of `examples/load.rs`, and what `tests/own_process/allocations.rs` counts.
pub fn every_hook_counting(hits: &'static Hits) -> ClientTrace {
    let hit = move || hits.hit();
    every_hook_but_1xx_counting(hits)
        .on_got_100_continue(hit)
        .on_got_1xx_response(move |_| {
            hit();
            Ok(())
        })
}

/// [`every_hook_counting`] without the two 1xx hooks (`Got100Continue`, `Got1xxResponse`):
/// what a trace that cannot veto a 1xx costs (`tests/own_process/allocations.rs`).
pub fn every_hook_but_1xx_counting(hits: &'static Hits) -> ClientTrace {
    let hit = move || hits.hit();
    ClientTrace::new()
        .on_get_conn(move |_| hit())
        .on_got_conn(move |_| hit())
        .on_put_idle_conn(move |_| hit())
        .on_got_first_response_byte(hit)
        .on_dns_start(move |_| hit())
        .on_dns_done(move |_| hit())
        .on_connect_start(move |_| hit())
        .on_connect_done(move |_| hit())
        .on_tls_handshake_start(hit)
        .on_tls_handshake_done(move |_| hit())
        .on_wrote_header_field(move |_| hit())
        .on_wrote_headers(hit)
        .on_wait_100_continue(hit)
        .on_wrote_request(move |_| hit())
}

/// The README's code, compiled as doc tests so that it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;

pub mod integrations;

/// Starts an HTTP/1.1 server on 127.0.0.1 that answers every request `200` with `body`, for
/// the examples that need something to call; its address.
pub async fn serve_on_loopback(body: &'static [u8]) -> std::io::Result<std::net::SocketAddr> {
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let answer = hyper::service::service_fn(move |_| async move {
                    let body = http_body_util::Full::new(bytes::Bytes::from_static(body));
                    Ok::<_, std::convert::Infallible>(http::Response::new(body))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), answer)
                    .await;
            });
        }
    });
    Ok(addr)
}
