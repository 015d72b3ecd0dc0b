//! `--timeline`: every event of a request on its own line, in words, with its time.

use std::time::Duration;

use httptrace::{Event, EventKind};

/// A header value as every view shows it.
pub(crate) fn shown(name: &str, value: &http::HeaderValue) -> String {
    let text = String::from_utf8_lossy(value.as_bytes());
    crate::redaction().header_value(name, &text).into_owned()
}

fn describe(e: &Event) -> String {
    let err = |e: &Option<httptrace::TraceError>| {
        e.as_ref().map_or(String::new(), |e| format!(" error: {e}"))
    };
    match &e.kind {
        EventKind::GetConn(i) => format!("get connection for {}", i.host_port),
        EventKind::DnsStart(i) => format!("DNS lookup of {}", i.host),
        EventKind::DnsDone(i) => format!(
            "DNS done: {:?}{}{}",
            i.addrs,
            if i.coalesced {
                " (shared with a concurrent lookup)"
            } else {
                ""
            },
            err(&i.err)
        ),
        EventKind::ConnectStart(i) => format!("connecting to {} ({})", i.addr, i.network),
        EventKind::ConnectDone(i) => format!("connect to {} done{}", i.addr, err(&i.err)),
        EventKind::TlsHandshakeStart => "TLS handshake".to_owned(),
        EventKind::TlsHandshakeDone(i) => match &i.err {
            Some(e) => format!("TLS handshake failed: {e}"),
            None => {
                let s = &i.state;
                format!(
                    "TLS done: {} {} ALPN {}{}",
                    s.version.as_deref().unwrap_or("?"),
                    s.cipher_suite.as_deref().unwrap_or("?"),
                    s.alpn_protocol
                        .as_deref()
                        .map_or("none".into(), String::from_utf8_lossy),
                    if s.resumed { ", resumed" } else { "" }
                )
            }
        },
        EventKind::GotConn(i) => {
            let how = match (i.reused, i.was_idle) {
                (true, _) => format!("reused, idle for {:.3?}", i.idle_time),
                (false, true) => format!("new, idle in the pool for {:.3?}", i.idle_time),
                (false, false) => "new".to_owned(),
            };
            let local = i.conn.local_addr.map_or("?".to_owned(), |a| a.to_string());
            let remote = i.conn.remote_addr.map_or("?".to_owned(), |a| a.to_string());
            format!("got connection {} {local} -> {remote} ({how})", i.conn.id)
        }
        EventKind::WroteHeaderField(f) => {
            let values: Vec<String> = f.values.iter().map(|v| shown(&f.name, v)).collect();
            format!("  {}: {}", f.name, values.join(", "))
        }
        EventKind::WroteHeaders => "wrote headers".to_owned(),
        EventKind::Wait100Continue => "waiting for 100 Continue before sending the body".to_owned(),
        EventKind::Got100Continue => "got 100 Continue".to_owned(),
        EventKind::Got1xxResponse(i) => {
            let headers: Vec<String> = i
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {}", shown(k.as_str(), v)))
                .collect();
            format!(
                "informational response {} {}",
                i.status.as_u16(),
                headers.join("; ")
            )
        }
        EventKind::WroteRequest(i) => format!("wrote request{}", err(&i.err)),
        EventKind::GotFirstResponseByte => "first response byte".to_owned(),
        EventKind::PutIdleConn(i) => match &i.err {
            None => "connection back in the pool".to_owned(),
            Some(e) => format!("connection not reused: {e}"),
        },
        EventKind::Http2StreamOpened(i) => format!(
            "HTTP/2 stream opened after waiting {:.3?} for a free stream (server allows {})",
            i.waited,
            i.max_concurrent_streams
                .map_or("any number".to_owned(), |max| max.to_string())
        ),
        EventKind::Http2StreamReset(i) => format!(
            "HTTP/2 stream ended by {} {} from the {}",
            i.frame.as_str(),
            i.code,
            i.sender.as_str()
        ),
        EventKind::Response { status, proto } => format!("response: {proto} {status}"),
        EventKind::Error { err } => format!("error: {err}"),
        _ => e.name().to_owned(),
    }
}

pub(crate) fn print_timeline(n: u64, url: &str, events: &[Event]) {
    let start = events.first().map_or(Duration::ZERO, |e| e.at);
    say!("request {} {url}", n + 1);
    for e in events {
        if matches!(e.kind, EventKind::Request { .. }) {
            continue;
        }
        say!(
            "  {:>10.3} ms  {}",
            (e.at - start).as_secs_f64() * 1000.0,
            describe(e)
        );
    }
}
