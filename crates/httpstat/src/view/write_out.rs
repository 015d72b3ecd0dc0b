//! `-w` / `--write-out`: curl's `%{variables}` of an exchange, in curl's formats.

use std::io::Write as _;
use std::time::Duration;

use httptrace::{Redaction, Timings};
use serde_json::{json, Map, Value};

use crate::exchange::{Exchange, Hop};

/// A variable's value, as curl prints it.
enum Var {
    /// Seconds with microsecond digits.
    Secs(Duration),
    Int(u64),
    Text(String),
}

impl Var {
    fn text(&self) -> String {
        match self {
            Var::Secs(d) => format!("{:.6}", d.as_secs_f64()),
            Var::Int(n) => n.to_string(),
            Var::Text(s) => s.clone(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Var::Secs(d) => json!(d.as_secs_f64()),
            Var::Int(n) => json!(n),
            Var::Text(s) => json!(s),
        }
    }
}

/// curl's cumulative marks of one hop: each mark that did not happen repeats the one before
/// it (a reused connection's connect time is its lookup time, and so on).
fn marks(t: &Timings) -> [Duration; 6] {
    let since = |at: Option<std::time::Instant>| at.map(|at| at - t.fetch_start);
    let namelookup = since(t.domain_lookup_end).unwrap_or_default();
    let connect = since(t.connect_end).unwrap_or(namelookup);
    // curl: 0 when there was no TLS.
    let appconnect = since(t.secure_connection_end).unwrap_or_default();
    let pretransfer = since(t.request_start).unwrap_or(connect.max(appconnect));
    let posttransfer = since(t.request_end).unwrap_or(pretransfer);
    let starttransfer = since(t.response_start).unwrap_or(posttransfer);
    [
        namelookup,
        connect,
        appconnect,
        pretransfer,
        posttransfer,
        starttransfer,
    ]
}

/// The response head's size as HTTP/1.1 carries it: status line, header lines, blank line.
pub(crate) fn header_size(hop: &Hop) -> u64 {
    let Some(answer) = &hop.answer else { return 0 };
    let status_line = format!(
        "HTTP/1.1 {} {}\r\n",
        answer.status.as_u16(),
        answer.status.canonical_reason().unwrap_or("")
    );
    let lines: usize = answer
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    (status_line.len() + lines + 2) as u64
}

/// Every variable of `ex`, in curl's order of its documentation.
fn variables(ex: &Exchange, redaction: &Redaction) -> Vec<(&'static str, Var)> {
    let last = ex.last();
    let mut sums = [Duration::ZERO; 6];
    for hop in &ex.hops {
        if let Some(t) = &hop.timings {
            for (sum, mark) in sums.iter_mut().zip(marks(t)) {
                *sum += mark;
            }
        }
    }
    let redirect: Duration = ex.hops[..ex.hops.len() - 1]
        .iter()
        .filter_map(|h| h.timings.as_ref().and_then(Timings::total))
        .sum();
    let queue = last
        .timings
        .as_ref()
        .and_then(Timings::queue)
        .unwrap_or_default();
    let conn = last.conn();
    let remote = conn.and_then(|c| c.remote_addr);
    let local = conn.and_then(|c| c.local_addr);
    let answer = last.answer.as_ref();
    let download = answer.and_then(|a| a.body_bytes).unwrap_or(0);
    let total = ex.total.as_secs_f64();
    let per_second = |bytes: u64| {
        if total > 0.0 {
            (bytes as f64 / total) as u64
        } else {
            0
        }
    };
    let content_type = answer
        .and_then(|a| a.headers.get(http::header::CONTENT_TYPE))
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let [namelookup, connect, appconnect, pretransfer, posttransfer, starttransfer] = sums;
    vec![
        ("content_type", Var::Text(content_type)),
        (
            "http_code",
            Var::Text(format!("{:03}", answer.map_or(0, |a| a.status.as_u16()))),
        ),
        (
            "http_version",
            Var::Text(
                match answer.map(|a| a.version) {
                    Some(http::Version::HTTP_10) => "1",
                    Some(http::Version::HTTP_11) => "1.1",
                    Some(http::Version::HTTP_2) => "2",
                    Some(http::Version::HTTP_3) => "3",
                    _ => "0",
                }
                .to_owned(),
            ),
        ),
        (
            "local_ip",
            Var::Text(local.map(|a| a.ip().to_string()).unwrap_or_default()),
        ),
        ("local_port", Var::Int(local.map_or(0, |a| a.port().into()))),
        (
            "num_connects",
            Var::Int(ex.hops.iter().filter(|h| h.connected()).count() as u64),
        ),
        ("num_redirects", Var::Int(ex.hops.len() as u64 - 1)),
        ("num_retries", Var::Int(0)),
        (
            "remote_ip",
            Var::Text(remote.map(|a| a.ip().to_string()).unwrap_or_default()),
        ),
        (
            "remote_port",
            Var::Int(remote.map_or(0, |a| a.port().into())),
        ),
        ("size_download", Var::Int(download)),
        (
            "size_header",
            Var::Int(ex.hops.iter().map(header_size).sum()),
        ),
        ("size_upload", Var::Int(last.request_body_bytes)),
        ("speed_download", Var::Int(per_second(download))),
        (
            "speed_upload",
            Var::Int(per_second(last.request_body_bytes)),
        ),
        (
            "ssl_verify_result",
            Var::Int(ex.hops.iter().any(|h| h.verify_failed).into()),
        ),
        ("time_appconnect", Var::Secs(appconnect)),
        ("time_connect", Var::Secs(connect)),
        ("time_namelookup", Var::Secs(namelookup)),
        ("time_posttransfer", Var::Secs(posttransfer)),
        ("time_pretransfer", Var::Secs(pretransfer)),
        ("time_queue", Var::Secs(queue)),
        ("time_redirect", Var::Secs(redirect)),
        ("time_starttransfer", Var::Secs(starttransfer)),
        ("time_total", Var::Secs(ex.total)),
        (
            "url_effective",
            Var::Text(redaction.url(&last.url).into_owned()),
        ),
    ]
}

/// The final response's headers as curl's `%{header_json}`: each name (lower case) with its
/// values, secrets redacted.
fn header_json(ex: &Exchange, redaction: &Redaction) -> Value {
    let mut map = Map::new();
    if let Some(answer) = &ex.last().answer {
        for name in answer.headers.keys() {
            let values: Vec<Value> = answer
                .headers
                .get_all(name)
                .iter()
                .map(|v| {
                    let text = String::from_utf8_lossy(v.as_bytes());
                    json!(redaction.header_value(name.as_str(), &text))
                })
                .collect();
            map.insert(name.as_str().to_owned(), Value::Array(values));
        }
    }
    Value::Object(map)
}

/// Prints `format` for `ex` to stdout (or stderr after `%{stderr}`), as curl's `-w` does.
pub(crate) fn write_out(format: &str, ex: &Exchange, redaction: &Redaction) {
    let vars = variables(ex, redaction);
    let mut to_stderr = false;
    let mut out = Vec::<u8>::new();
    let mut err = Vec::<u8>::new();
    let mut rest = format;
    while !rest.is_empty() {
        let buf = if to_stderr { &mut err } else { &mut out };
        if let Some(after) = rest.strip_prefix("%{") {
            let Some(end) = after.find('}') else {
                buf.extend_from_slice(rest.as_bytes());
                break;
            };
            let name = &after[..end];
            rest = &after[end + 1..];
            match name {
                "stderr" => to_stderr = true,
                "stdout" => to_stderr = false,
                "json" => {
                    let map: Map<String, Value> = vars
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), v.json()))
                        .collect();
                    buf.extend_from_slice(Value::Object(map).to_string().as_bytes());
                }
                "header_json" => {
                    buf.extend_from_slice(header_json(ex, redaction).to_string().as_bytes())
                }
                _ => match vars.iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => buf.extend_from_slice(v.text().as_bytes()),
                    None => eprintln!("httpstat: unknown --write-out variable: '{name}'"),
                },
            }
        } else if let Some(after) = rest.strip_prefix("%%") {
            buf.push(b'%');
            rest = after;
        } else if let Some(after) = rest.strip_prefix('\\') {
            let (text, skip) = match after.chars().next() {
                Some('n') => ("\n", 1),
                Some('r') => ("\r", 1),
                Some('t') => ("\t", 1),
                Some('\\') => ("\\", 1),
                _ => ("\\", 0),
            };
            buf.extend_from_slice(text.as_bytes());
            rest = &after[skip..];
        } else {
            let next = rest[1..].find(['%', '\\']).map_or(rest.len(), |i| i + 1);
            buf.extend_from_slice(&rest.as_bytes()[..next]);
            rest = &rest[next..];
        }
    }
    if std::io::stdout()
        .write_all(&out)
        .and_then(|()| std::io::stdout().flush())
        .is_err()
    {
        std::process::exit(0);
    }
    let _ = std::io::stderr().write_all(&err);
}
