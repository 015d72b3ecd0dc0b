//! The built `httpstat` binary, run as a user runs it after `cargo install`.

use std::process::Command;

fn httpstat() -> Command {
    Command::new(env!("CARGO_BIN_EXE_httpstat"))
}

#[test]
fn the_default_run_shows_every_phase_plain_when_piped() {
    // `output()` pipes stdout: not a terminal, so no colour.
    let out = httpstat().output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(!stdout.contains('\x1b'), "no colour when piped:\n{stdout}");
    for phase in [
        "DNS Lookup",
        "TCP Connection",
        "TLS Handshake",
        "Server Processing",
        "Content Transfer",
    ] {
        assert!(stdout.contains(phase), "{phase} in:\n{stdout}");
    }
    assert!(
        stdout.contains("request 1: GET http://localhost:"),
        "{stdout}"
    );
    assert!(stdout.contains("Reused connection #"), "{stdout}");
    assert!(stdout.contains("HTTP/2 200 OK"), "{stdout}");
    assert!(stdout.contains("(Server-Timing)"), "{stdout}");
}

#[test]
fn version_help_and_completions() {
    let out = httpstat().arg("--version").output().unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .starts_with("httpstat "));
    let out = httpstat().args(["--completions", "bash"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("--write-out"));
}
