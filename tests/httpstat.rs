//! The `httpstat` example, run as a user runs it, on its no-URL default.

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

#[test]
fn events_on_the_default_server_are_go_format_json_lines() {
    let out = httpstat()
        .args(["--events", "-H", "Cookie: secret=1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
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
        ]
    );
    assert_eq!(events[4]["reused"], false);
    assert_eq!(events[14]["reused"], true);
    assert!(events.iter().all(|e| e["t_us"].is_u64()));
    assert_eq!(events[5]["key"], "cookie");
    assert_eq!(
        events[5]["values"],
        serde_json::json!(["[redacted]"]),
        "secrets are not printed"
    );
    assert!(!stdout.contains("secret=1"));
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
