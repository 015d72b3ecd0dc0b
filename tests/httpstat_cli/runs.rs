//! The `httpstat` example, run as a user runs it, on its no-URL default.

use std::process::Command;

use support::httpstat_example;

fn httpstat() -> Command {
    httpstat_example()
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
        "DNSStart",
        "DNSDone",
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
fn the_timeline_shows_every_phase_in_words() {
    let out = httpstat().arg("--timeline").output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    for phrase in [
        "connecting to 127.0.0.1:",
        "TLS handshake",
        "TLS done: TLSv1.3",
        "ALPN h2",
        "HTTP/2 stream opened after waiting",
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
    assert_eq!(
        out.status.code(),
        Some(60),
        "curl's: the peer's certificate"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("httpstat: (60) SSL certificate problem: "),
        "{stderr}"
    );
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
    assert_eq!(out.status.code(), Some(7), "curl's: could not connect");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("httpstat: (7) ") && stderr.contains("Connection refused"),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_exit_with_usage() {
    let out = httpstat().arg("--repeat").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "httpstat: a value is required for '--repeat <N>' but none was supplied\n"
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

/// The blocks of the default output, one per request.
fn blocks(stdout: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in stdout.lines() {
        if line.starts_with("request ") {
            out.push(String::new());
        }
        let block = out.last_mut().expect("output starts with a request line");
        block.push_str(line);
        block.push('\n');
    }
    out
}

/// Where `|`, `[` and `]` are on a line.
fn bars(line: &str) -> Vec<usize> {
    line.char_indices()
        .filter(|(_, c)| matches!(c, '|' | ']'))
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn the_default_waterfall_piped_is_plain_and_shows_each_request_and_its_reuse() {
    // `output()` pipes stdout: not a terminal, so no colour.
    let out = httpstat().output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('\x1b'), "no colour when piped:\n{stdout}");
    let blocks = blocks(&stdout);
    assert_eq!(blocks.len(), 4, "{stdout}");

    let columns = |block: &str| -> Vec<String> {
        let titles = block
            .lines()
            .find(|l| l.contains("Server Processing"))
            .unwrap_or_else(|| panic!("no waterfall in:\n{block}"));
        titles
            .split("  ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect()
    };
    let fresh_plain = [
        "Queue",
        "DNS Lookup",
        "TCP Connection",
        "Server Processing",
        "Content Transfer",
    ];
    let fresh_tls = [
        "Queue",
        "TCP Connection",
        "TLS Handshake",
        "Server Processing",
        "Content Transfer",
    ];
    let reused = ["Queue", "Server Processing", "Content Transfer"];
    assert_eq!(columns(&blocks[0]), fresh_plain, "{}", blocks[0]);
    assert_eq!(columns(&blocks[1]), reused, "{}", blocks[1]);
    assert_eq!(columns(&blocks[2]), fresh_tls, "{}", blocks[2]);
    assert_eq!(columns(&blocks[3]), reused, "{}", blocks[3]);

    for (i, block) in blocks.iter().enumerate() {
        let fresh = i % 2 == 0;
        assert_eq!(
            block.contains("\nConnected #"),
            fresh,
            "request {} says how it got its connection:\n{block}",
            i + 1
        );
        assert_eq!(block.contains("\nReused connection #"), !fresh, "{block}");
        let status = if i < 2 {
            "HTTP/1.1 200 OK"
        } else {
            "HTTP/2 200 OK"
        };
        assert!(block.contains(status), "{block}");
        assert!(block.contains("content-length: 29"), "{block}");
        assert!(block.contains("Body read: 29 bytes"), "{block}");
        // The bars under the values line up with the values' separators, and every mark
        // line keeps the bars of the columns after it.
        let lines: Vec<&str> = block.lines().collect();
        let values = lines.iter().position(|l| l.starts_with('[')).unwrap();
        let ends = bars(lines[values]);
        assert_eq!(bars(lines[values + 1]), ends, "{block}");
        let marks = &lines[values + 2..values + 2 + ends.len()];
        for (k, mark) in marks.iter().enumerate() {
            assert_eq!(bars(mark), ends[k + 1..].to_vec(), "mark {k} of:\n{block}");
            // The mark's text ends right under its column's closing bar.
            let label = mark[..mark.find('|').unwrap_or(mark.len())].trim_end();
            assert_eq!(label.len() - 1, ends[k], "mark {k} of:\n{block}");
        }
        assert!(
            marks.last().unwrap().trim().starts_with("total:"),
            "{block}"
        );
    }
    assert!(blocks[2].contains("appconnect:"), "{}", blocks[2]);
    assert!(!blocks[0].contains("TLS Handshake"));
}

#[test]
fn colour_is_asked_for_or_refused() {
    let out = httpstat()
        .args(["--color", "always", "--repeat", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("\x1b[36m"), "{stdout}");
    let out = httpstat().args(["--color", "sometimes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_prints_the_timings_of_each_request() {
    let out = httpstat().arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 5, "four requests and the summary: {stdout}");
    let summary = &lines[4]["summary"];
    assert_eq!(summary["requests"], 4, "{stdout}");
    assert_eq!(
        (summary["fresh"].as_u64(), summary["reused"].as_u64()),
        (Some(2), Some(2))
    );
    for (i, line) in lines[..4].iter().enumerate() {
        assert_eq!(line["request"], i + 1);
        assert_eq!(line["status"], 200);
        assert!(line["error"].is_null());
        let t = &line["timings"];
        let fresh = i % 2 == 0;
        assert_eq!(t["reused"], !fresh, "{line}");
        assert_eq!(t["connect_us"].is_u64(), fresh, "{line}");
        assert_eq!(t["appconnect_us"].is_u64(), i == 2, "{line}");
        // The plain server is reached as localhost, the TLS one by its IP literal.
        assert_eq!(t["namelookup_us"].is_u64(), i == 0, "{line}");
        assert_eq!(t["protocol"], if i < 2 { "HTTP/1.1" } else { "HTTP/2" });
        assert_eq!(t["response_body_bytes"], 29);
        // The phases are back to back: they add up to the total (each rounded down).
        let total = t["total_us"].as_u64().unwrap();
        let phases = t["phases"].as_array().unwrap();
        let sum: u64 = phases.iter().map(|p| p["us"].as_u64().unwrap()).sum();
        assert!(sum <= total && total - sum <= phases.len() as u64, "{line}");
        let marks =
            ["pretransfer_us", "starttransfer_us", "total_us"].map(|m| t[m].as_u64().unwrap());
        assert!(marks.windows(2).all(|w| w[0] <= w[1]), "{line}");
    }
}

#[test]
fn help_is_printed_and_a_bad_url_is_one_line() {
    let out = httpstat().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("Usage: httpstat [OPTIONS] [URL]..."),
        "{stdout}"
    );
    for group in ["Output:", "Request:", "Connection:", "Many requests:"] {
        assert!(stdout.contains(group), "{group} in {stdout}");
    }
    assert!(stdout.contains("--json"), "{stdout}");
    for bad in [
        "notaurl",
        "ftp://example.test/",
        "http://[::1",
        "http:///path",
    ] {
        let out = httpstat().arg(bad).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(3),
            "{bad}: curl's code for a bad URL"
        );
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
        assert!(
            stderr.starts_with("httpstat: (3) URL using bad/illegal format or missing URL: "),
            "{bad}: {stderr}"
        );
    }
}

#[test]
fn response_cookies_are_redacted_in_the_waterfall() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(support::TestServer::with_handler(|_| {
        http::Response::builder()
            .header("set-cookie", "session=s3cret")
            .header("x-trace", "visible")
            .body(http_body_util::Full::new(bytes::Bytes::from_static(b"ok")))
            .unwrap()
    }));
    let out = httpstat()
        .arg(server.url("127.0.0.1", "/"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("set-cookie: [redacted]"), "{stdout}");
    assert!(stdout.contains("x-trace: visible"), "{stdout}");
    assert!(!stdout.contains("s3cret"), "{stdout}");

    // Only when asked.
    let out = httpstat()
        .args(["--reveal-sensitive", &server.url("127.0.0.1", "/")])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("set-cookie: session=s3cret"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn no_view_shows_a_secret_unless_asked() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(support::secret_server());
    let url = support::secret_url(&server);
    let secrets = [
        "-H",
        "Authorization: Bearer t0ken-secret",
        "-H",
        "COOKIE: id=c00kie-secret",
    ];
    for view in [None, Some("--json"), Some("--events"), Some("--timeline")] {
        for protocol in [None, Some("--http2")] {
            let mut cmd = httpstat();
            cmd.args(view).args(protocol).args(secrets).arg(&url);
            let out = cmd.output().unwrap();
            let what = format!("httpstat {view:?} {protocol:?}");
            assert!(
                out.status.success(),
                "{what}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let shown = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            support::assert_no_secret(&what, &shown);
            if view != Some("--events") {
                assert!(
                    shown.contains("REDACTED:REDACTED@127.0.0.1"),
                    "{what}: {shown}"
                );
            }
        }
    }
    // Only when asked.
    let out = httpstat()
        .args(["--json", "--reveal-sensitive", &url])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("user:pa55word@"));
}
