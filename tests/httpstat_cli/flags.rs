//! `httpstat`'s curl flags, run as a user runs them against servers the test starts: `-w`
//! (compared with curl's own where the machine has curl), `-L`, `--resolve`, `-k`, a CONNECT
//! proxy, `--repeat` with `--concurrency`, and each bad input as one line.

use std::collections::HashMap;
use std::process::Output;

use bytes::Bytes;
use http::Response;
use http_body_util::Full;
use serde_json::Value;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn run(args: &[&str]) -> Output {
    httpstat_example().args(args).output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// curl's variables with a fixed meaning for one exchange (no times), in one `-w` format.
const FIXED: &str = "http_code=%{http_code}\\nhttp_version=%{http_version}\\nnum_connects=%{num_connects}\\nnum_redirects=%{num_redirects}\\nremote_ip=%{remote_ip}\\nremote_port=%{remote_port}\\nlocal_ip=%{local_ip}\\nsize_download=%{size_download}\\nsize_upload=%{size_upload}\\nsize_header=%{size_header}\\ncontent_type=%{content_type}\\nurl_effective=%{url_effective}\\nssl_verify_result=%{ssl_verify_result}\\n";

fn pairs(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_out_prints_each_variable_as_curl_does() {
    let server = TestServer::with_handler(|_| {
        Response::builder()
            .header("content-type", "text/plain")
            .body(Full::new(Bytes::from_static(b"hello")))
            .unwrap()
    })
    .await;
    let url = server.url("127.0.0.1", "/w");
    let port = server.port().to_string();
    let out = run(&["-d", "abc", "-o", "/dev/null", "-w", FIXED, &url]);
    let ours = pairs(&ok(&out));
    let expected = [
        ("http_code", "200"),
        ("http_version", "1.1"),
        ("num_connects", "1"),
        ("num_redirects", "0"),
        ("remote_ip", "127.0.0.1"),
        ("remote_port", port.as_str()),
        ("local_ip", "127.0.0.1"),
        ("size_download", "5"),
        ("size_upload", "3"),
        ("content_type", "text/plain"),
        ("url_effective", url.as_str()),
        ("ssl_verify_result", "0"),
    ];
    for (k, v) in expected {
        assert_eq!(ours[k], v, "{k}");
    }
    // The same exchange through curl reports the same (where the machine has curl).
    let curl = std::process::Command::new("curl")
        .args(["-s", "-d", "abc", "-o", "/dev/null", "-w", FIXED, &url])
        .output();
    match curl {
        Ok(curl) if curl.status.success() => {
            let theirs = pairs(&String::from_utf8(curl.stdout).unwrap());
            for (k, v) in &theirs {
                assert_eq!(ours.get(k), Some(v), "{k}: ours against curl's");
            }
        }
        _ => eprintln!("no curl here: the comparison with curl is skipped"),
    }

    // Times: seconds with microsecond digits, cumulative; %{json}; %{stderr}; @file.
    let format_file = std::env::temp_dir().join(format!("httpstat-w-{}", std::process::id()));
    std::fs::write(
        &format_file,
        "%{time_namelookup} %{time_connect} %{time_pretransfer} %{time_starttransfer} %{time_total}\\n%{stderr}to stderr %{json}",
    )
    .unwrap();
    let out = run(&["-w", &format!("@{}", format_file.display()), &url]);
    std::fs::remove_file(&format_file).unwrap();
    let stdout = ok(&out);
    let times: Vec<f64> = stdout
        .lines()
        .last()
        .unwrap()
        .split(' ')
        .map(|t| {
            let (_, digits) = t.split_once('.').unwrap();
            assert_eq!(digits.len(), 6, "{t}");
            t.parse().unwrap()
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let json: Value = serde_json::from_str(stderr.strip_prefix("to stderr ").unwrap()).unwrap();
    assert_eq!(json["http_code"], 200, "a number, as curl's");
    assert_eq!(json["num_connects"], 1);
    assert!(json["time_total"].as_f64().unwrap() > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn location_follows_two_redirects_each_hop_its_waterfall() {
    let server = TestServer::with_handler(redirect_chain).await;
    let url = server.url("127.0.0.1", "/hop1");
    let stdout = ok(&run(&["-L", &url]));
    let hops: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("request "))
        .collect();
    assert_eq!(hops.len(), 3, "{stdout}");
    assert!(hops[2].ends_with("/hop3"), "{stdout}");
    assert!(stdout.contains("Total: "), "{stdout}");
    assert!(stdout.contains("over 3 requests (2 redirects)"), "{stdout}");
    let w = "%{num_redirects} %{url_effective} %{http_code} %{num_connects}";
    let stdout = ok(&run(&["-L", "--no-read", "-w", w, &url]));
    let last = stdout.lines().last().unwrap();
    assert_eq!(
        last,
        format!("2 {} 200 1", server.url("127.0.0.1", "/hop3")),
        "one connection for the three hops"
    );
    // Without -L, the redirect is the answer.
    let stdout = ok(&run(&["-w", "%{http_code} %{num_redirects}", &url]));
    assert!(stdout.ends_with("302 0"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_answers_the_lookup_for_its_host_and_port() {
    let server = TestServer::start().await;
    let port = server.port();
    let url = format!("http://api.test:{port}/");
    let entry = format!("api.test:{port}:127.0.0.1");
    let stdout = ok(&run(&["--events", "--resolve", &entry, &url]));
    let events: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let dns = events.iter().find(|e| e["event"] == "DNSDone").unwrap();
    assert_eq!(dns["addrs"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(server.seen()[0].headers["host"], format!("api.test:{port}"));
    // An entry for another port does not apply: listed first, it would send the request to
    // 127.0.0.2, where nothing listens. (Nothing here asks the system's resolver.)
    let other = format!("api.test:{}:127.0.0.2", port.wrapping_add(1));
    let stdout = ok(&run(&[
        "--events",
        "--resolve",
        &other,
        "--resolve",
        &entry,
        &url,
    ]));
    let dns: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "DNSDone")
        .collect();
    assert_eq!(dns.len(), 1);
    assert_eq!(dns[0]["addrs"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(server.seen().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_goes_on_past_an_unknown_authority_and_says_so() {
    let pki = TestPki::new("unknown CA");
    let server =
        TestServer::start_tls(pki.server_config(pki.leaf(&["localhost"], false), &[b"h2"])).await;
    let url = server.url("localhost", "/");
    let refused = run(&[&url]);
    assert_eq!(
        refused.status.code(),
        Some(60),
        "curl's: the peer's certificate"
    );
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let stdout = ok(&run(&[
        "-k",
        "-w",
        "%{http_code} %{ssl_verify_result}",
        &url,
    ]));
    // OpenSSL's code, as curl's: the chain ends in a self-signed authority nobody trusts.
    assert!(stdout.ends_with("200 19"), "{stdout}");
    // The reused connection is still the unverified one; concurrent handshakes keep their
    // own verdicts.
    let stdout = ok(&run(&[
        "-k",
        "--repeat",
        "4",
        "--concurrency",
        "2",
        "-w",
        "v=%{ssl_verify_result}\\n",
        &url,
    ]));
    let verdicts: Vec<&str> = stdout.lines().filter(|l| l.starts_with("v=")).collect();
    assert_eq!(verdicts, ["v=19"; 4], "{stdout}");
}

/// A CONNECT proxy on loopback: tunnels to where it is asked, and tells what it was asked.
async fn connect_proxy() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (asked, told) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let asked = asked.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    let mut byte = [0u8; 1];
                    if client.read_exact(&mut byte).await.is_err() || head.len() > 8192 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head.split(' ').nth(1).unwrap_or_default().to_owned();
                let _ = asked.send(head.lines().next().unwrap_or_default().to_owned());
                let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await else {
                    return;
                };
                let _ = client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (port, told)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_proxy_is_dialled_and_its_tunnel_shown_as_a_phase() {
    let server = TestServer::start().await;
    let (proxy_port, mut asked) = connect_proxy().await;
    let proxy = format!("http://127.0.0.1:{proxy_port}");
    let url = server.url("127.0.0.1", "/");
    let stdout = ok(&run(&["-x", &proxy, "-w", "%{remote_port}", &url]));
    assert_eq!(
        asked.recv().await.unwrap(),
        format!("CONNECT 127.0.0.1:{} HTTP/1.1", server.port())
    );
    assert!(stdout.contains("Proxy Tunnel"), "{stdout}");
    assert!(stdout.contains("tunnel:"), "{stdout}");
    assert!(
        stdout.ends_with(&proxy_port.to_string()),
        "the connection is the proxy's: {stdout}"
    );
    assert_eq!(server.seen().len(), 1);
}

/// The nearest-rank quantile, as httpstat's summary computes it.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeat_with_concurrency_sums_up_what_each_request_reports() {
    let server = TestServer::start().await;
    let url = server.url("127.0.0.1", "/");
    let stdout = ok(&run(&[
        "--repeat",
        "50",
        "--concurrency",
        "4",
        "--json",
        &url,
    ]));
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 51, "one object per request, then the summary");
    let requests = &lines[..50];
    let mut totals: Vec<f64> = requests
        .iter()
        .map(|l| l["timings"]["total_us"].as_f64().unwrap() / 1000.0)
        .collect();
    totals.sort_by(f64::total_cmp);
    let reused = requests
        .iter()
        .filter(|l| l["timings"]["reused"] == true)
        .count();
    let s = &lines[50]["summary"];
    assert_eq!(s["requests"], 50);
    assert_eq!(s["failed"], 0);
    assert_eq!(s["reused"], reused);
    assert_eq!(s["fresh"], 50 - reused);
    assert!((1..=4).contains(&(50 - reused)), "at most four connections");
    // The client's own counters (`ConnectionStats`) agree with what the hooks told.
    let dest = format!("127.0.0.1:{}", server.port());
    let connections = s["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1, "{s}");
    let c = &connections[0];
    assert_eq!(c["destination"], dest.as_str());
    assert_eq!(
        (c["requests"].as_u64(), c["reused"].as_u64()),
        (Some(50), Some(reused as u64))
    );
    // A dial may lose its race to a connection coming back to the pool: it is still made.
    assert!(
        c["dials_made"].as_u64().unwrap() >= 50 - reused as u64,
        "{c}"
    );
    assert_eq!(
        (c["dials_failed"].as_u64(), c["http2_open"].as_u64()),
        (Some(0), Some(0))
    );
    let total = &s["phases"]["total"];
    // The summary works in microseconds' precision: within one of each figure.
    let close = |a: f64, b: f64| (a - b).abs() < 0.0011;
    assert!(close(total["min_ms"].as_f64().unwrap(), totals[0]), "{s}");
    assert!(close(total["max_ms"].as_f64().unwrap(), totals[49]), "{s}");
    for (key, q) in [("median_ms", 0.5), ("p95_ms", 0.95), ("p99_ms", 0.99)] {
        assert!(
            close(total[key].as_f64().unwrap(), quantile(&totals, q)),
            "{key}: {s}"
        );
    }

    // The waterfall view: a line per request, then the table and the histogram.
    let stdout = ok(&run(&["--repeat", "6", "--concurrency", "2", &url]));
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with('#')).count(),
        6,
        "{stdout}"
    );
    assert!(stdout.contains("6 requests: 6 ok, 0 failed"), "{stdout}");
    assert!(stdout.contains("median"), "{stdout}");
    assert_eq!(stdout.matches('│').count(), 10, "ten buckets: {stdout}");
    assert!(stdout.contains("Connections at the end"), "{stdout}");
    assert!(stdout.contains(&format!("  {dest}: ")), "{stdout}");
    assert!(stdout.contains(", 6 requests, "), "{stdout}");
}

#[test]
fn each_bad_input_is_one_line_and_a_non_zero_exit() {
    let missing = "/nonexistent/httpstat-test";
    let cases: [&[&str]; 7] = [
        &["--no-such-flag"],
        &["--resolve", "api.test:80", "http://api.test/"],
        &["--resolve", "api.test:80:not-an-ip", "http://api.test/"],
        &["-d", "@/nonexistent/httpstat-test", "http://127.0.0.1:1/"],
        &["-w", "@/nonexistent/httpstat-test", "http://127.0.0.1:1/"],
        &["--cacert", missing, "https://127.0.0.1:1/"],
        &["-x", "socks5://127.0.0.1:1", "http://127.0.0.1:1/"],
    ];
    for args in cases {
        let out = run(args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("httpstat: "), "{args:?}: {stderr}");
    }
    // A mistake's line shows no secret of the argument it is about.
    let secret_cases: [&[&str]; 3] = [
        &[
            "-x",
            "socks5://user:pa55word@127.0.0.1:1",
            "http://127.0.0.1:1/",
        ],
        &[
            "-H",
            "Authorization: Bearer pa55word\u{1}",
            "http://127.0.0.1:1/",
        ],
        &[
            "-e",
            "http://user:pa55word@from.test/\u{1}",
            "http://127.0.0.1:1/",
        ],
    ];
    for args in secret_cases {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("pa55word"), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_flags_reach_the_server_and_secrets_stay_redacted() {
    let server = TestServer::start().await;
    let url = server.url("127.0.0.1", "/");
    let body_file = std::env::temp_dir().join(format!("httpstat-o-{}", std::process::id()));
    let out = run(&[
        "--events",
        "-A",
        "httpstat-test",
        "-e",
        "http://from.test/",
        "-u",
        "user:pa55word",
        "-o",
        body_file.to_str().unwrap(),
        &url,
    ]);
    let stdout = ok(&out);
    let seen = &server.seen()[0];
    assert_eq!(seen.headers["user-agent"], "httpstat-test");
    assert_eq!(seen.headers["referer"], "http://from.test/");
    assert_eq!(seen.headers["authorization"], "Basic dXNlcjpwYTU1d29yZA==");
    assert!(!stdout.contains("dXNlcjpwYTU1d29yZA"), "{stdout}");
    assert!(stdout.contains("[redacted]"), "{stdout}");
    assert_eq!(std::fs::read(&body_file).unwrap(), b"ok");
    std::fs::remove_file(&body_file).unwrap();

    // -I: HEAD, no body read.
    let stdout = ok(&run(&["-I", "-w", "%{size_download}", &url]));
    assert_eq!(server.seen()[1].method, http::Method::HEAD);
    assert!(stdout.ends_with("\n0") || stdout.ends_with('0'), "{stdout}");

    // --connect-to: the URL's host and port, dialled elsewhere; Host stays the URL's.
    let rule = format!("api.test:80:127.0.0.1:{}", server.port());
    ok(&run(&[
        "--connect-to",
        &rule,
        "--resolve",
        "api.test:80:127.0.0.1",
        "http://api.test/",
    ]));
    assert_eq!(server.seen()[2].headers["host"], "api.test");

    // -4: localhost's IPv4 answer only.
    let stdout = ok(&run(&[
        "-4",
        "-w",
        "%{remote_ip}",
        &server.url("localhost", "/"),
    ]));
    assert!(stdout.ends_with("127.0.0.1"), "{stdout}");

    // -m: a request past its time fails, one line.
    let out = run(&["-m", "0.05", &server.url("127.0.0.1", "/slow")]);
    assert_eq!(out.status.code(), Some(28), "curl's: timed out");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("timed out after"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_urls_share_one_client_and_a_stalled_connect_gives_up() {
    let server = TestServer::start().await;
    let first = server.url("127.0.0.1", "/one");
    let second = server.url("127.0.0.1", "/two");
    let stdout = ok(&run(&["--json", &first, &second]));
    let reused: Vec<bool> = stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l.get("request").is_some())
        .map(|l| l["timings"]["reused"].as_bool().unwrap())
        .collect();
    assert_eq!(
        reused,
        [false, true],
        "the second URL reuses the first's connection"
    );
    assert_eq!(server.connection_count(), 1);

    // --connect-timeout: a dial that never completes gives up, one line.
    let (hole, _filler) = blackhole("127.0.0.1:0").await;
    let port = hole.local_addr().unwrap().port();
    let out = run(&[
        "--connect-timeout",
        "0.2",
        &format!("http://127.0.0.1:{port}/"),
    ]);
    assert_eq!(out.status.code(), Some(28), "curl's: timed out");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
}
