//! The values of curl's `-w` variables for one exchange, each with curl's type: what the text
//! form and `%{json}` print.

use std::time::{Duration, Instant};

use httptrace::{EventKind, Redaction, Timings};

use crate::exchange::{Exchange, Hop};

/// A variable's value, as curl types it.
pub(crate) enum Var {
    /// Seconds, printed with microsecond digits.
    Secs(Duration),
    Int(u64),
    /// A status code: three digits as text (`000` for none), a number in JSON.
    Code(u16),
    Text(String),
    /// A string curl has no value for: nothing as text, `null` in JSON.
    Null,
}

impl Var {
    pub(crate) fn text(&self) -> String {
        match self {
            Var::Secs(d) => format!("{:.6}", d.as_secs_f64()),
            Var::Int(n) => n.to_string(),
            Var::Code(n) => format!("{n:03}"),
            Var::Text(s) => s.clone(),
            Var::Null => String::new(),
        }
    }

    /// The value in `%{json}`, formatted as curl writes it (times with six digits).
    pub(crate) fn json(&self) -> String {
        match self {
            Var::Secs(d) => format!("{:.6}", d.as_secs_f64()),
            Var::Int(n) => n.to_string(),
            Var::Code(n) => n.to_string(),
            Var::Text(s) => serde_json::Value::from(s.as_str()).to_string(),
            Var::Null => "null".to_owned(),
        }
    }

    fn text_or_null(value: Option<String>) -> Var {
        value.map_or(Var::Null, Var::Text)
    }
}

/// What a run adds to an exchange for its variables.
pub(crate) struct Context<'a> {
    pub(crate) redaction: &'a Redaction,
    /// `-o`'s path, as given.
    pub(crate) filename: Option<String>,
    pub(crate) referer: Option<String>,
    pub(crate) proxy_used: bool,
}

/// curl's cumulative marks of one hop: each mark that did not happen repeats the one before
/// it (a reused connection's connect time is its lookup time, and so on).
fn marks(t: &Timings) -> [Duration; 6] {
    let since = |at: Option<Instant>| at.map(|at| at - t.fetch_start);
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

/// The request head's size as HTTP/1.1 would carry it, from the fields written.
pub(crate) fn sent_head_size(hop: &Hop) -> u64 {
    let path = hop
        .url
        .parse::<http::Uri>()
        .ok()
        .and_then(|u| u.path_and_query().map(|p| p.as_str().len()))
        .unwrap_or(1);
    let request_line = hop.method.as_str().len() + 1 + path + " HTTP/1.1\r\n".len();
    let fields: usize = hop
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            // HTTP/2's `:authority` is HTTP/1.1's `host`; the other pseudo-fields are in
            // the request line.
            EventKind::WroteHeaderField(f)
                if f.name == ":authority" || !f.name.starts_with(':') =>
            {
                let name = if f.name == ":authority" {
                    "host"
                } else {
                    &f.name
                };
                Some(
                    f.values
                        .iter()
                        .map(|v| name.len() + 2 + v.len() + 2)
                        .sum::<usize>(),
                )
            }
            _ => None,
        })
        .sum();
    if fields == 0 {
        return 0; // nothing of the head was written
    }
    (request_line + fields + 2) as u64
}

/// Whether `hop` made a TCP connection of its own (curl's `num_connects`).
fn connected(hop: &Hop) -> bool {
    hop.connected()
        || hop.events.iter().any(|e| match &e.kind {
            EventKind::ConnectDone(i) => i.err.is_none(),
            _ => false,
        })
}

/// Every variable of `ex` curl's `%{json}` lists, in its order (`curl_version` is added
/// after them by the caller), then the ones `%{json}` leaves out.
pub(crate) fn variables(ex: &Exchange, cx: &Context<'_>) -> Vec<(&'static str, Var)> {
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
    // A connection that never became the request's (its TLS handshake failed): its dial.
    let dialed = last.events.iter().rev().find_map(|e| match &e.kind {
        EventKind::ConnectDone(i) if i.err.is_none() => Some(i),
        _ => None,
    });
    let remote = conn.and_then(|c| c.remote_addr).or(dialed.map(|i| i.addr));
    let local = conn
        .and_then(|c| c.local_addr)
        .or(dialed.and_then(|i| i.local_addr));
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
        .map(str::to_owned);
    let certs = last.peer_chain().len() as u64;
    // A connection was had: dialled, or got from the pool.
    let made = dialed.is_some() || conn.is_some();
    let scheme = last
        .url
        .split_once("://")
        .map(|(s, _)| s.to_ascii_uppercase())
        .filter(|_| made);
    let failure = ex.failure.as_ref();
    let status = answer.map_or(0, |a| a.status.as_u16());
    let verify = failure
        .map(|f| f.verify_result)
        .filter(|code| *code != 0)
        .or_else(|| {
            ex.hops
                .iter()
                .map(|h| h.verify_result)
                .find(|code| *code != 0)
        })
        .unwrap_or(0);
    let [namelookup, connect, appconnect, pretransfer, posttransfer, starttransfer] = sums;
    let posttransfer = last
        .timings
        .as_ref()
        .and(Some(posttransfer))
        .unwrap_or_default();
    let url = |u: &str| cx.redaction.url(u).into_owned();
    vec![
        (
            "certs",
            Var::Text(crate::view::certs::curl_text(last.peer_chain())),
        ),
        ("conn_id", Var::Int(conn.map_or(0, |c| c.id.as_u64()))),
        ("content_type", Var::text_or_null(content_type)),
        (
            "errormsg",
            Var::text_or_null(failure.map(|f| f.message.clone())),
        ),
        ("exitcode", Var::Int(failure.map_or(0, |f| f.code.into()))),
        ("filename_effective", Var::text_or_null(cx.filename.clone())),
        ("ftp_entry_path", Var::Null),
        ("http_code", Var::Code(status)),
        ("http_connect", Var::Code(0)),
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
        ("method", Var::Text(last.method.to_string())),
        ("num_certs", Var::Int(certs)),
        (
            "num_connects",
            Var::Int(ex.hops.iter().filter(|h| connected(h)).count() as u64),
        ),
        (
            "num_headers",
            Var::Int(answer.map_or(0, |a| a.headers.len() as u64)),
        ),
        ("num_redirects", Var::Int(ex.hops.len() as u64 - 1)),
        ("num_retries", Var::Int(ex.retries.into())),
        ("proxy_ssl_verify_result", Var::Int(0)),
        ("proxy_used", Var::Int(cx.proxy_used.into())),
        (
            "redirect_url",
            Var::text_or_null(ex.redirect_url().map(|u| url(&u))),
        ),
        ("referer", Var::text_or_null(cx.referer.as_deref().map(url))),
        (
            "remote_ip",
            Var::Text(remote.map(|a| a.ip().to_string()).unwrap_or_default()),
        ),
        (
            "remote_port",
            Var::Int(remote.map_or(0, |a| a.port().into())),
        ),
        ("response_code", Var::Code(status)),
        ("scheme", Var::text_or_null(scheme)),
        ("size_download", Var::Int(download)),
        (
            "size_header",
            Var::Int(ex.hops.iter().map(header_size).sum()),
        ),
        (
            "size_request",
            Var::Int(ex.hops.iter().map(sent_head_size).sum()),
        ),
        ("size_upload", Var::Int(last.request_body_bytes)),
        ("speed_download", Var::Int(per_second(download))),
        (
            "speed_upload",
            Var::Int(per_second(last.request_body_bytes)),
        ),
        ("ssl_verify_result", Var::Int(verify)),
        ("time_appconnect", Var::Secs(appconnect)),
        ("time_connect", Var::Secs(connect)),
        ("time_namelookup", Var::Secs(namelookup)),
        ("time_posttransfer", Var::Secs(posttransfer)),
        ("time_pretransfer", Var::Secs(pretransfer)),
        ("time_queue", Var::Secs(queue)),
        ("time_redirect", Var::Secs(redirect)),
        ("time_starttransfer", Var::Secs(starttransfer)),
        ("time_total", Var::Secs(ex.total)),
        ("tls_earlydata", Var::Int(0)),
        ("url", Var::Text(url(&ex.url))),
        ("url_effective", Var::Text(url(&last.url))),
        ("urlnum", Var::Int(ex.urlnum as u64)),
        ("xfer_id", Var::Int(last.n.saturating_sub(1))),
    ]
}

/// Our own variables (not curl's, not in `%{json}`), named apart: what only the hooks know.
pub(crate) fn ours(ex: &Exchange) -> Vec<(&'static str, Var)> {
    let last = ex.last();
    let got = last.events.iter().find_map(|e| match &e.kind {
        EventKind::GotConn(i) => Some(i),
        _ => None,
    });
    let waited = last.events.iter().find_map(|e| match &e.kind {
        EventKind::Http2StreamOpened(i) => Some(i.waited),
        _ => None,
    });
    let server_timing = last
        .answer
        .as_ref()
        .map(|a| {
            a.headers
                .get_all("server-timing")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    vec![
        (
            "httptrace.reused",
            Var::Int(got.is_some_and(|g| g.reused).into()),
        ),
        (
            "httptrace.idle_time",
            Var::Secs(got.map_or(Duration::ZERO, |g| g.idle_time)),
        ),
        (
            "httptrace.stream_wait",
            Var::Secs(waited.unwrap_or_default()),
        ),
        ("httptrace.server_timing", Var::Text(server_timing)),
    ]
}

/// `url.*` and `urle.*`: a part of the URL as given (`url.`) or the effective one (`urle.`),
/// or `None` for a name that is neither. The parts are the redacted URL's: its user,
/// password and signatures as every output shows them.
pub(crate) fn url_part(name: &str, ex: &Exchange, redaction: &Redaction) -> Option<String> {
    let (url, part) = if let Some(part) = name.strip_prefix("url.") {
        (ex.url.as_str(), part)
    } else {
        (ex.last().url.as_str(), name.strip_prefix("urle.")?)
    };
    let url = redaction.url(url);
    let url = url.as_ref();
    let uri: Option<http::Uri> = url.parse().ok();
    let authority = uri.as_ref().and_then(|u| u.authority()).map(|a| a.as_str());
    let userinfo = authority.and_then(|a| a.rsplit_once('@')).map(|(u, _)| u);
    let (user, password) = match userinfo.map(|u| u.split_once(':')) {
        Some(Some((u, p))) => (Some(u), Some(p)),
        Some(None) => (userinfo, None),
        None => (None, None),
    };
    let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
    Some(match part {
        "scheme" => text(uri.as_ref().and_then(|u| u.scheme_str())),
        "user" => text(user),
        "password" => text(password),
        "options" | "zoneid" => String::new(),
        "host" => text(uri.as_ref().and_then(|u| u.host())),
        "port" => uri
            .as_ref()
            .and_then(|u| u.port_u16())
            .map(|p| p.to_string())
            .unwrap_or_default(),
        "path" => text(uri.as_ref().map(|u| u.path())),
        "query" => text(uri.as_ref().and_then(|u| u.query())),
        "fragment" => url
            .split_once('#')
            .map(|(_, f)| f.to_owned())
            .unwrap_or_default(),
        _ => return None,
    })
}
