//! "Why was it slow": the line under each waterfall and the `why` of `--json`, from the
//! hooks' data, against servers the test starts.

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use serde_json::Value;
use support::*;

/// A server that closes each connection after its answer: the second request's connection
/// is new, and its line says why, from the first connection's `ConnClosed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connection_says_why_the_last_one_closed() {
    let server = TestServer::with_handler(|_| {
        Response::builder()
            .header("connection", "close")
            .body(Full::new(Bytes::from_static(b"bye")))
            .unwrap()
    })
    .await;
    let url = server.url("127.0.0.1", "/");
    let out = httpstat_example().args([&url, &url]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let why: Vec<&str> = stdout.lines().filter(|l| l.starts_with("Why: ")).collect();
    assert_eq!(why.len(), 2, "{stdout}");
    let dest = format!("127.0.0.1:{}", server.port());
    assert!(!why[0].contains("new connection"), "the first: {}", why[0]);
    assert!(
        why[1].ends_with(&format!(
            "; a new connection: the last one to {dest} closed because its last answer said not to reuse it."
        )),
        "{}",
        why[1]
    );
    assert_eq!(server.connection_count(), 2);
}

/// The server's 200 ms are the longest phase, said in the line and in `--json`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_phase_is_named_with_its_share() {
    let server = TestServer::start().await;
    let out = httpstat_example()
        .args(["--json", &server.url("127.0.0.1", "/slow")])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let first: Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    let why = first["why"][0].as_str().unwrap();
    assert!(
        why.starts_with("longest was the server's processing, "),
        "{why}"
    );
    let share: u32 = why
        .rsplit_once('(')
        .and_then(|(_, s)| s.strip_suffix("%)"))
        .unwrap()
        .parse()
        .unwrap();
    assert!(share >= 50, "200 ms of a loopback request: {why}");
}
