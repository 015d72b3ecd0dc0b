//! httpstat in curl's place: the same `curl -s -o /dev/null -w …` command lines through curl
//! (7.88, on this machine) and httpstat, against servers the test starts on loopback, their
//! output and exit codes compared byte for byte, masking only what cannot match: times and
//! speeds, `curl_version`, `errormsg`'s wording (not whether there is one), `size_request`,
//! `%{certs}`'s OpenSSL text, and the client's own port.

use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use serde_json::Value;
use support::*;

/// Every variable curl 7.88 knows (its `%{json}` keys but `curl_version`).
const CURL_788: [&str; 40] = [
    "certs",
    "content_type",
    "errormsg",
    "exitcode",
    "filename_effective",
    "ftp_entry_path",
    "http_code",
    "http_connect",
    "http_version",
    "local_ip",
    "local_port",
    "method",
    "num_certs",
    "num_connects",
    "num_headers",
    "num_redirects",
    "proxy_ssl_verify_result",
    "redirect_url",
    "referer",
    "remote_ip",
    "remote_port",
    "response_code",
    "scheme",
    "size_download",
    "size_header",
    "size_request",
    "size_upload",
    "speed_download",
    "speed_upload",
    "ssl_verify_result",
    "time_appconnect",
    "time_connect",
    "time_namelookup",
    "time_pretransfer",
    "time_redirect",
    "time_starttransfer",
    "time_total",
    "url",
    "url_effective",
    "urlnum",
];

/// `%{json}` keys of curl 8's that 7.88 does not have: left out of ours before comparing.
const CURL_8_ONLY: [&str; 7] = [
    "conn_id",
    "num_retries",
    "proxy_used",
    "time_posttransfer",
    "time_queue",
    "tls_earlydata",
    "xfer_id",
];

/// What cannot match between two programs, or two runs.
fn masked(name: &str) -> bool {
    name.starts_with("time_")
        || name.starts_with("speed_")
        || matches!(
            name,
            "curl_version" | "size_request" | "certs" | "local_port" | "errormsg"
        )
}

/// The `-w` format: each variable on a line of its own, `%{json}`, `%{header_json}`, a
/// function form, and `%{onerror}`.
fn format() -> String {
    let mut f: String = CURL_788
        .iter()
        .map(|v| format!("{v}=%{{{v}}}\\n"))
        .collect();
    f.push_str("json=%{json}\\ntype=%header{content-type}\\n");
    f.push_str("header_json=%{header_json}\\n%{onerror}failed\\n");
    f
}

/// `value` of variable `name` as compared: masked ones say only whether they had a value.
fn comparable(name: &str, value: &str) -> String {
    if masked(name) {
        (if value.is_empty() || value == "null" {
            "<none>"
        } else {
            "<some>"
        })
        .to_owned()
    } else {
        value.to_owned()
    }
}

/// `%{json}`'s keys in order, with their comparable values.
fn json_keys(text: &str, ours: bool) -> Vec<(String, String)> {
    let map: serde_json::Map<String, Value> =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    map.into_iter()
        .filter(|(k, _)| !(ours && CURL_8_ONLY.contains(&k.as_str())))
        .map(|(k, v)| {
            let shown = comparable(&k, &v.to_string());
            (k, shown)
        })
        .collect()
}

/// An output's lines as compared; `%{header_json}` (several lines, last) as it is, but for
/// the `date` header's value.
fn comparable_output(out: &Output, ours: bool) -> Vec<String> {
    let text = String::from_utf8_lossy(&out.stdout);
    let (lines, headers) = text.split_once("\nheader_json=").unwrap_or((&text, ""));
    let mut shown: Vec<String> = lines
        .lines()
        .map(|line| match line.split_once('=') {
            Some(("json", json)) => format!("json={:?}", json_keys(json, ours)),
            Some((name, value)) => format!("{name}={}", comparable(name, value)),
            None => line.to_owned(),
        })
        .collect();
    let value = headers.find("\"date\":[\"").map(|at| at + 9);
    let headers = match value.and_then(|at| Some((at, at + headers[at..].find('"')?))) {
        Some((from, to)) => format!("{}<date>{}", &headers[..from], &headers[to..]),
        None => headers.to_owned(),
    };
    shown.push(format!("header_json={headers}"));
    shown
}

/// Runs `args` through curl and httpstat at once; both outputs.
fn both(args: &[String]) -> (Output, Output) {
    let curl = {
        let args = args.to_vec();
        std::thread::spawn(move || Command::new("curl").args(&args).output())
    };
    let ours = httpstat_example().args(args).output().unwrap();
    let curl = curl
        .join()
        .unwrap()
        .expect("curl runs (the comparison needs curl 7.88 on the machine)");
    (curl, ours)
}

/// The servers of the comparison: an HTTP/1.1 one (`/ok`, `/missing`, `/loop` redirecting
/// to itself, `/flaky` answering each client's first request 503), and misbehaving ones.
struct Servers {
    http: TestServer,
    tls: TestServer,
    /// A CA file that does not sign `tls`'s certificate.
    other_ca: std::path::PathBuf,
    empty: std::net::SocketAddr,
    reset: std::net::SocketAddr,
    silent: std::net::SocketAddr,
    refused: u16,
    /// Requests to `/flaky`, by client (curl, httpstat).
    flaky: Arc<[AtomicUsize; 2]>,
}

async fn servers() -> Servers {
    let flaky = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let counts = flaky.clone();
    let http = TestServer::with_handler(move |seen| {
        let answer = Response::builder().header("content-type", "text/plain");
        let (status, answer, body) = match seen.path.as_str() {
            "/ok" => (200, answer, "hello"),
            "/missing" => (404, answer, "nope"),
            "/loop" => (302, answer.header("location", "/loop"), ""),
            _ => {
                let agent = seen.headers.get("user-agent").and_then(|v| v.to_str().ok());
                let who = usize::from(!agent.unwrap_or_default().starts_with("curl/"));
                let first = counts[who].fetch_add(1, Ordering::SeqCst) == 0;
                // The 503 without a body: curl 7.88 retrying with `-o /dev/null` fails (23)
                // when it cut a body already written there.
                if first {
                    (503, answer, "")
                } else {
                    (200, answer, "flaky")
                }
            }
        };
        answer
            .status(status)
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .unwrap()
    })
    .await;
    let pki = TestPki::new("compared CA");
    let leaf = pki.leaf(&["127.0.0.1"], false);
    let tls = TestServer::start_tls(pki.server_config(leaf, &[b"http/1.1"])).await;
    // One file per set of servers: the tests of this file run at once, in one process.
    let other_ca = std::env::temp_dir().join(format!(
        "httpstat-other-ca-{}-{}.pem",
        std::process::id(),
        http.port()
    ));
    std::fs::write(&other_ca, TestPki::new("another CA").ca_pem()).unwrap();
    let (empty, _) = misbehaving_server(b"", false, false).await;
    let (reset, _) = misbehaving_server(b"", true, false).await;
    let (silent, _) = misbehaving_server(b"", false, true).await;
    Servers {
        http,
        tls,
        other_ca,
        empty,
        reset,
        silent,
        refused: refused_port().await,
        flaky,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_command_lines_print_the_same_through_httpstat() {
    let s = servers().await;
    let url = |path: &str| s.http.url("127.0.0.1", path);
    let ca = s.other_ca.display().to_string();
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("ok", vec![url("/ok")]),
        (
            "post with a referer",
            vec![
                "-d".into(),
                "abc".into(),
                "-e".into(),
                "http://from.test/".into(),
                url("/ok"),
            ],
        ),
        ("refused", vec![format!("http://127.0.0.1:{}/", s.refused)]),
        ("bad URL", vec!["http://a b/".into()]),
        // A label longer than DNS allows (64 characters): the C library's resolver refuses
        // the name before it would build a query, so the lookup fails on this machine.
        (
            "unresolvable",
            vec![format!("http://{}.test/", "a".repeat(64))],
        ),
        (
            "timeout",
            vec!["-m".into(), "1".into(), format!("http://{}/", s.silent)],
        ),
        (
            "unknown CA",
            vec![
                "--cacert".into(),
                ca,
                s.tls.url("127.0.0.1", "/").replace("http:", "https:"),
            ],
        ),
        ("4xx with -f", vec!["-f".into(), url("/missing")]),
        (
            "too many redirects",
            vec!["-L".into(), "--max-redirs".into(), "1".into(), url("/loop")],
        ),
        ("empty reply", vec![format!("http://{}/", s.empty)]),
        ("reset", vec![format!("http://{}/", s.reset)]),
        ("retry", vec!["--retry".into(), "1".into(), url("/flaky")]),
    ];
    let runs: Vec<_> = cases
        .into_iter()
        .map(|(name, args)| {
            let mut all: Vec<String> = ["-s", "-o", "/dev/null", "-w"].map(String::from).to_vec();
            all.push(format());
            all.extend(args);
            (name, std::thread::spawn(move || both(&all)))
        })
        .collect();
    let mut exit_codes = Vec::new();
    for (name, run) in runs {
        let (curl, ours) = run.join().unwrap();
        assert_eq!(
            ours.status.code(),
            curl.status.code(),
            "{name}: exit code; ours said {} {}",
            String::from_utf8_lossy(&ours.stderr),
            String::from_utf8_lossy(&ours.stdout)
        );
        exit_codes.push((name, curl.status.code().unwrap()));
        let (mine, theirs) = (
            comparable_output(&ours, true),
            comparable_output(&curl, false),
        );
        let differ: Vec<_> = mine.iter().zip(&theirs).filter(|(a, b)| a != b).collect();
        assert!(
            differ.is_empty() && mine.len() == theirs.len(),
            "{name}: (ours, curl's) that differ: {differ:#?}"
        );
        if name == "retry" {
            let ours = String::from_utf8_lossy(&ours.stdout).into_owned();
            let json = ours.lines().find_map(|l| l.strip_prefix("json=")).unwrap();
            let json: Value = serde_json::from_str(json).unwrap();
            assert_eq!(json["num_retries"], 1, "one retry, after the 503");
        }
    }
    assert_eq!(
        exit_codes,
        [
            ("ok", 0),
            ("post with a referer", 0),
            ("refused", 7),
            ("bad URL", 3),
            ("unresolvable", 6),
            ("timeout", 28),
            ("unknown CA", 60),
            ("4xx with -f", 22),
            ("too many redirects", 47),
            ("empty reply", 52),
            ("reset", 56),
            ("retry", 0),
        ]
    );
    let tries: Vec<usize> = s.flaky.iter().map(|n| n.load(Ordering::SeqCst)).collect();
    assert_eq!(tries, [2, 2], "each program tried /flaky twice");
    std::fs::remove_file(&s.other_ca).unwrap();
}

/// A server that accepts TCP and never answers the ClientHello: `--connect-timeout 3` gives
/// up after 3 s with curl's exit code 28, as curl does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_timeout_covers_a_tls_handshake_that_never_ends() {
    let (silent, _) = misbehaving_server(b"", false, true).await;
    let url = format!("https://{silent}/");
    let started = Instant::now();
    let out = httpstat_example()
        .args([
            "-sS",
            "--connect-timeout",
            "3",
            "-w",
            "%{exitcode} %{errormsg}",
            &url,
        ])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(28));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "28 SSL connection timeout"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        "httpstat: (28) SSL connection timeout (during the TLS handshake)"
    );
    assert!(took >= Duration::from_secs(3), "{took:?}");
    assert!(
        took < Duration::from_secs(9),
        "the deadline, not the 10 s default: {took:?}"
    );
}

/// `-s` alone is curl's quiet download: the body on stdout, nothing else; `-f` on an error
/// status prints none of it, and `-S` brings the error line back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_prints_the_body_as_curl_does() {
    let s = servers().await;
    for args in [
        vec!["-s".to_owned(), s.http.url("127.0.0.1", "/ok")],
        vec!["-sf".to_owned(), s.http.url("127.0.0.1", "/missing")],
        vec!["-sSf".to_owned(), s.http.url("127.0.0.1", "/missing")],
    ] {
        let (curl, ours) = both(&args);
        assert_eq!(ours.status.code(), curl.status.code(), "{args:?}");
        assert_eq!(ours.stdout, curl.stdout, "{args:?}");
        let (theirs, mine) = (
            String::from_utf8_lossy(&curl.stderr),
            String::from_utf8_lossy(&ours.stderr),
        );
        assert_eq!(
            mine.replace("httpstat: ", "curl: ")
                .replace(" (at the response)", ""),
            theirs,
            "{args:?}: the same line, with our phase"
        );
    }
    std::fs::remove_file(&s.other_ca).unwrap();
}

/// On a terminal (a pseudo-terminal here, through util-linux's `script`), a live line names
/// the phase in progress and its time so far, and is erased before the output; `--repeat`
/// shows the count and the failures so far. Piped, stderr has none of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_sees_the_phase_in_progress_and_a_pipe_does_not() {
    let (silent, _) = misbehaving_server(b"", false, true).await;
    let url = format!("http://{silent}/");
    let exe = httpstat_example()
        .get_program()
        .to_string_lossy()
        .into_owned();
    let on_terminal = |args: &str| {
        let out = Command::new("script")
            .args(["-qec", &format!("{exe} {args}"), "/dev/null"])
            .output()
            .expect("util-linux's script gives the run a pseudo-terminal");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let seen = on_terminal(&format!("-m 0.5 {url}"));
    let line = format!("\r\x1b[2KWaiting for the response with {silent} … ");
    let at = seen.find(&line).unwrap_or_else(|| panic!("{seen:?}"));
    let time = seen[at + line.len()..].split(" s").next().unwrap();
    assert!(time.parse::<f64>().is_ok_and(|t| t < 0.6), "{seen:?}");
    // Erased before the output (the failed request's timeline) begins.
    let erased_then_output = "\r\x1b[2Krequest 1 ";
    assert!(seen.contains(erased_then_output), "{seen:?}");
    let after = &seen[seen.rfind("\r\x1b[2K").unwrap()..];
    assert!(
        after.starts_with(erased_then_output),
        "nothing redrawn after: {after:?}"
    );

    let seen = on_terminal(&format!("-m 0.3 --repeat 2 {url}"));
    assert!(seen.contains("[1/2] "), "{seen:?}");
    assert!(
        seen.contains(" requests/s, 1 failed · Waiting for the response"),
        "{seen:?}"
    );

    let piped = httpstat_example()
        .args(["-m", "0.3", &url])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&piped.stderr).contains('\x1b'));
}

/// The variables curl 7.88 does not know, and the function forms, in the formats curl 8's
/// manual gives them: `url.*`/`urle.*` parts (the password redacted), ids and counts as
/// integers, times with six digits, `%time{}` in UTC, `%output{}` writing (and appending)
/// to a file, `%{onerror}` keeping the rest for failures only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_8_variables_and_function_forms_keep_the_manuals_formats() {
    let s = servers().await;
    let url = s
        .http
        .url("127.0.0.1", "/ok?q=1#frag")
        .replace("http://", "http://user:pa55word@");
    let file = std::env::temp_dir().join(format!("httpstat-output-{}", std::process::id()));
    std::fs::write(&file, "before\n").unwrap();
    let format = format!(
        "{}%output{{>>{}}}appended\\n%output{{{}.new}}fresh\\n%{{stdout}}%{{onerror}}never\\n",
        [
            "url.scheme",
            "url.user",
            "url.password",
            "url.host",
            "url.port",
            "url.path",
            "url.query",
            "urle.host",
            "conn_id",
            "xfer_id",
            "num_retries",
            "proxy_used",
            "tls_earlydata",
            "time_queue",
            "time_posttransfer",
        ]
        .iter()
        .map(|v| format!("{v}=%{{{v}}}\\n"))
        .collect::<String>()
            + "year=%time{%Y}\\n",
        file.display(),
        file.display(),
    );
    let out = httpstat_example()
        .args(["-s", "-o", "/dev/null", "-w", &format, &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let value = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name} in {stdout}"))
            .to_owned()
    };
    let port = s.http.port().to_string();
    assert_eq!(value("url.scheme"), "http");
    assert_eq!(
        value("url.user"),
        "REDACTED",
        "userinfo is redacted as everywhere"
    );
    assert_eq!(value("url.password"), "REDACTED");
    assert_eq!(value("url.host"), "127.0.0.1");
    assert_eq!(value("url.port"), port);
    assert_eq!(value("url.path"), "/ok");
    assert_eq!(value("url.query"), "q=1");
    assert_eq!(value("urle.host"), "127.0.0.1");
    for integer in [
        "conn_id",
        "xfer_id",
        "num_retries",
        "proxy_used",
        "tls_earlydata",
    ] {
        assert!(value(integer).parse::<u64>().is_ok(), "{integer}: {stdout}");
    }
    assert_eq!(
        (value("xfer_id"), value("num_retries"), value("proxy_used")),
        ("0".to_owned(), "0".to_owned(), "0".to_owned())
    );
    for time in ["time_queue", "time_posttransfer"] {
        let v = value(time);
        let (_, digits) = v.split_once('.').unwrap();
        assert_eq!(digits.len(), 6, "{time}: {v}");
    }
    let year: u32 = value("year").parse().unwrap();
    assert!((2024..3000).contains(&year), "{year}");
    assert!(
        !stdout.contains("never"),
        "a success prints nothing after %{{onerror}}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "before\nappended\n"
    );
    let fresh = format!("{}.new", file.display());
    assert_eq!(std::fs::read_to_string(&fresh).unwrap(), "fresh\n");
    std::fs::remove_file(&file).unwrap();
    std::fs::remove_file(&fresh).unwrap();
    std::fs::remove_file(&s.other_ca).unwrap();
}
