//! Hostile 1xx and final heads get hyper's error or a response, never a panic: counted by a
//! panic hook over the whole process, so no other test may panic meanwhile.

use std::sync::Arc;

use httptrace::EventLog;
use support::*;

/// Panics anywhere in the process, the hyper connection tasks' included.
fn panics_so_far() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            default(info)
        }));
    });
    PANICS.load(Ordering::SeqCst)
}

/// Bytes that are not HTTP: a fixed xorshift stream.
fn garbage(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_heads_get_an_error_or_a_response_and_never_a_panic() {
    let _serial = super::one_at_a_time().await;
    let many_fields: String = (0..30_000).map(|n| format!("x-field-{n}: v\r\n")).collect();
    let huge_line = format!("link: <{}>\r\n", "a".repeat(1 << 20));
    let ok = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "a 103 with 30,000 distinct names",
            format!("HTTP/1.1 103 Early Hints\r\n{many_fields}\r\n{ok}").into_bytes(),
        ),
        (
            "a 103 with a 1 MiB line",
            format!("HTTP/1.1 103 Early Hints\r\n{huge_line}\r\n{ok}").into_bytes(),
        ),
        (
            "a final head with 30,000 names",
            format!("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n{many_fields}\r\nok").into_bytes(),
        ),
        (
            "a final head with a 1 MiB line",
            format!("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n{huge_line}\r\nok").into_bytes(),
        ),
        ("bytes that are not HTTP", garbage(256 * 1024)),
    ];
    let before = panics_so_far();
    for (what, answer) in cases {
        let answer = Arc::new(answer);
        let served = answer.clone();
        let (addr, _server) = scripted_server(move |_| served.to_vec()).await;
        let url = format!("http://{addr}/");
        let plain =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<http_body_util::Full<bytes::Bytes>>();
        let expected = within(what, plain.request(get(&url)))
            .await
            .map(|res| res.status())
            .map_err(|e| error_chain(&e));
        assert!(expected.is_err(), "{what}: hyper refuses it");
        let log = EventLog::new();
        let traced = client(TestResolver::new(), log.trace());
        // Round 1 through hyper's informational callback, round 2 read off the wire.
        for round in 1..=2 {
            let got = within(what, traced.request(get(&url)))
                .await
                .map(|res| res.status())
                .map_err(|e| error_chain(&e));
            assert_eq!(got, expected, "{what}, round {round}: as without the layer");
            let events = log.take();
            assert_well_formed(&events);
            assert!(
                !names(&events).contains(&"Got1xxResponse".to_owned()),
                "{what}: a head hyper refuses is not reported"
            );
        }
    }
    assert_eq!(panics_so_far(), before, "no panic anywhere");
}
