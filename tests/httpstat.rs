//! The `httpstat` example, run as a user runs it, on its no-URL default.

mod support;

use std::path::PathBuf;
use std::process::Command;

fn httpstat() -> Command {
    // `cargo test` builds the examples next to the test binaries' folder.
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path: PathBuf = dir
        .join("examples")
        .join(format!("httpstat{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} not built; run through `cargo test`",
        path.display()
    );
    Command::new(path)
}

fn run_events(cmd: &mut Command) -> (Vec<serde_json::Value>, String) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let events = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (events, stdout)
}

fn event_names(events: &[serde_json::Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect()
}

#[test]
fn events_on_the_default_servers_are_go_format_json_lines() {
    let (events, stdout) = run_events(httpstat().args(["--events", "-H", "Cookie: secret=1"]));
    let plain_fresh = [
        "Request",
        "GetConn",
        "ConnectStart",
        "ConnectDone",
        "GotConn",
        "WroteHeaderField",
        "WroteHeaderField",
        "WroteHeaders",
        "WroteRequest",
        "GotFirstResponseByte",
        "PutIdleConn",
        "Response",
    ];
    let plain_reused = [
        "Request",
        "GetConn",
        "GotConn",
        "WroteHeaderField",
        "WroteHeaderField",
        "WroteHeaders",
        "WroteRequest",
        "GotFirstResponseByte",
        "PutIdleConn",
        "Response",
    ];
    let h2_fresh = [
        "Request",
        "GetConn",
        "ConnectStart",
        "ConnectDone",
        "TLSHandshakeStart",
        "TLSHandshakeDone",
        "GotConn",
        "WroteHeaderField",
        "WroteHeaderField",
        "WroteHeaderField",
        "WroteHeaderField",
        "WroteHeaderField",
        "WroteHeaders",
        "WroteRequest",
        "GotFirstResponseByte",
        "Response",
    ];
    let h2_reused = [
        "Request",
        "GetConn",
        "GotConn",
        "WroteHeaderField",
        "WroteHeaderField",
        "WroteHeaderField",
        "WroteHeaderField",
        "WroteHeaderField",
        "WroteHeaders",
        "WroteRequest",
        "GotFirstResponseByte",
        "Response",
    ];
    let expected: Vec<&str> = [&plain_fresh[..], &plain_reused, &h2_fresh, &h2_reused].concat();
    assert_eq!(event_names(&events), expected);
    assert!(events.iter().all(|e| e["t_us"].is_u64()));
    let got: Vec<&serde_json::Value> = events.iter().filter(|e| e["event"] == "GotConn").collect();
    let reused: Vec<bool> = got.iter().map(|e| e["reused"].as_bool().unwrap()).collect();
    assert_eq!(reused, [false, true, false, true]);
    let tls = events
        .iter()
        .find(|e| e["event"] == "TLSHandshakeDone")
        .unwrap();
    assert_eq!(tls["version"], "TLSv1.3");
    assert_eq!(tls["alpn"], "h2");
    assert_eq!(tls["err"], serde_json::Value::Null);
    let responses: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "Response")
        .map(|e| e["proto"].as_str().unwrap())
        .collect();
    assert_eq!(responses, ["HTTP/1.1", "HTTP/1.1", "HTTP/2.0", "HTTP/2.0"]);
    let cookies: Vec<_> = events.iter().filter(|e| e["key"] == "cookie").collect();
    assert_eq!(cookies.len(), 4);
    assert!(
        cookies
            .iter()
            .all(|e| e["values"] == serde_json::json!(["[redacted]"])),
        "secrets are not printed"
    );
    assert!(!stdout.contains("secret=1"));
}

#[test]
fn the_default_timeline_shows_every_phase() {
    let out = httpstat().output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    for phrase in [
        "connecting to 127.0.0.1:",
        "TLS handshake",
        "TLS done: TLSv1.3",
        "ALPN h2",
        "(reused, idle for",
        "response: HTTP/2.0 200",
        "connection back in the pool",
    ] {
        assert!(
            stdout.contains(phrase),
            "{phrase:?} missing from:\n{stdout}"
        );
    }
}

/// An HTTPS server of the test's own (ALPN h2 and http/1.1), its CA written to a PEM file.
fn https_server(rt: &tokio::runtime::Runtime) -> (support::TestServer, tempfile_path::Path) {
    let pki = support::TestPki::new("httpstat test CA");
    let config = pki.server_config(pki.leaf(&["127.0.0.1"], false), &[b"h2", b"http/1.1"]);
    let server = rt.block_on(support::TestServer::start_tls(config));
    let pem = tempfile_path::Path::new(&pki.ca_pem());
    (server, pem)
}

#[test]
fn cacert_trusts_a_private_authority_and_http11_forces_alpn() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, pem) = https_server(&rt);
    let url = server.url("127.0.0.1", "/");
    let (events, _) = run_events(httpstat().args(["--events", "--cacert", pem.as_str(), &url]));
    let tls = events
        .iter()
        .find(|e| e["event"] == "TLSHandshakeDone")
        .unwrap();
    assert_eq!(tls["alpn"], "h2");
    let (events, _) =
        run_events(httpstat().args(["--events", "--http1.1", "--cacert", pem.as_str(), &url]));
    let tls = events
        .iter()
        .find(|e| e["event"] == "TLSHandshakeDone")
        .unwrap();
    assert_eq!(tls["alpn"], "http/1.1");
    assert_eq!(events.last().unwrap()["proto"], "HTTP/1.1");
    assert_eq!(server.tls_seen().len(), 2);
}

#[test]
fn an_untrusted_certificate_exits_non_zero_with_one_line() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, _pem) = https_server(&rt);
    // The platform's roots do not know the test's authority.
    let out = httpstat()
        .arg(server.url("127.0.0.1", "/"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("UnknownIssuer"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("TLS handshake failed"), "{stdout}");
}

/// A file that is removed when dropped.
mod tempfile_path {
    pub struct Path(std::path::PathBuf);

    impl Path {
        pub fn new(contents: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let name = format!(
                "httpstat-test-{}-{}.pem",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            );
            let path = std::env::temp_dir().join(name);
            std::fs::write(&path, contents).unwrap();
            Path(path)
        }

        pub fn as_str(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for Path {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[test]
fn a_refused_port_exits_non_zero_with_one_line() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out = httpstat()
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("httpstat: ") && stderr.contains("Connection refused"),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_exit_with_usage() {
    let out = httpstat().arg("--repeat").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "httpstat: --repeat needs a value\n"
    );
}

#[test]
fn expect_100_continue_shows_the_wait_and_the_answer() {
    let (events, _) = run_events(httpstat().args([
        "--events",
        "-H",
        "Expect: 100-continue",
        "-d",
        "hello",
        "--repeat",
        "1",
    ]));
    // The first request goes to the default plain HTTP/1.1 server, which answers 100.
    let first: Vec<&str> = event_names(&events)
        .into_iter()
        .take_while(|n| *n != "Response")
        .collect();
    let tail: Vec<&str> = first
        .into_iter()
        .skip_while(|n| *n != "WroteHeaders")
        .collect();
    assert_eq!(
        tail,
        [
            "WroteHeaders",
            "Wait100Continue",
            "GotFirstResponseByte",
            "Got100Continue",
            "Got1xxResponse",
            "WroteRequest",
            "PutIdleConn"
        ]
    );
    assert!(events
        .iter()
        .any(|e| e["event"] == "Got1xxResponse" && e["code"] == 100));
}
