//! A run: the client, every exchange (several URLs, `--repeat`, `--concurrency`), and each
//! view printed as its exchange ends.

use std::sync::Arc;

use futures_util::StreamExt as _;
use httptrace::EventKind;
use serde_json::json;

use crate::connect::{client, Trust, TunnelTimes, VerifyFailed};
use crate::exchange::{Exchange, Hop, Sender};
use crate::local_servers::start_local_servers;
use crate::options::{Options, Output};
use crate::view::summary::{self, Summary};
use crate::view::timeline::print_timeline;
use crate::view::waterfall;
use crate::view::write_out::{header_size, write_out};

/// Trust for `https://`: the `--cacert` file, or the platform's verifier.
fn trust(o: &Options) -> Result<Trust, String> {
    use httptrace_tower::rustls::pki_types::pem::PemObject;
    use httptrace_tower::rustls::pki_types::CertificateDer;
    let Some(path) = &o.cacert else {
        return Ok(Trust::Platform);
    };
    let shown = path.display();
    let mut roots = httptrace_tower::rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| format!("--cacert {shown}: {e}"))? {
        let cert = cert.map_err(|e| format!("--cacert {shown}: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("--cacert {shown}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("--cacert {shown}: no certificate in it"));
    }
    Ok(Trust::Roots(roots))
}

/// The request head's size as HTTP/1.1 would carry it, from the fields written.
fn sent_head_size(hop: &Hop) -> u64 {
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
    (request_line + fields + 2) as u64
}

/// Prints `hop` as the waterfall view does.
fn print_waterfall(o: &Options, hop: &Hop) {
    let shown_url = crate::redaction().url(&hop.url);
    let (Some(answer), Some(t)) = (&hop.answer, &hop.timings) else {
        // A failed request: what happened, event by event, shows where it stopped.
        print_timeline(hop.n - 1, &shown_url, &hop.events);
        return;
    };
    let conn_id = hop.conn().map(|c| c.id.as_u64());
    say!("request {}: {} {shown_url}", hop.n, hop.method);
    say!("{}\n", waterfall::connection_line(t, conn_id, o.colour));
    say!(
        "{}",
        waterfall::head(answer.version, answer.status, &answer.headers, o.colour)
    );
    match answer.body_bytes {
        Some(n) => say!("Body read: {n} bytes\n"),
        None => say!("Body discarded\n"),
    }
    say!("{}", waterfall::waterfall(t, hop.tunnel, o.colour));
    let server = waterfall::server_timing(&answer.headers, o.colour);
    if !server.is_empty() {
        say!("{server}");
    }
    let transfer = t.response_start.zip(t.response_end).map(|(a, b)| b - a);
    say!(
        "{}",
        waterfall::sizes(
            sent_head_size(hop),
            hop.request_body_bytes,
            header_size(hop),
            answer.body_bytes,
            transfer
        )
    );
    if let Some(e) = &hop.error {
        say!("error: {e}\n");
    }
}

/// Prints `ex` in the view `o` asks for.
fn print_exchange(o: &Options, ex: &Exchange) {
    let redaction = crate::redaction();
    if o.many && o.output == Output::Waterfall {
        say!("{}", summary::line(ex, &redaction.url(&ex.last().url)));
    } else {
        for hop in &ex.hops {
            match o.output {
                Output::Events => {
                    for e in &hop.events {
                        say!("{}", e.to_json_with(redaction));
                    }
                }
                Output::Timeline => {
                    print_timeline(hop.n - 1, &redaction.url(&hop.url), &hop.events)
                }
                Output::Json => {
                    let status = hop.answer.as_ref().map(|a| a.status.as_u16());
                    let timings = hop.timings.as_ref().map(|t| {
                        serde_json::from_str::<serde_json::Value>(&t.to_json_with(redaction))
                            .unwrap_or_default()
                    });
                    let line = json!({
                        "request": hop.n,
                        "url": redaction.url(&hop.url),
                        "method": hop.method.as_str(),
                        "status": status,
                        "error": hop.error,
                        "timings": timings,
                    });
                    say!("{line}");
                }
                Output::Waterfall => print_waterfall(o, hop),
            }
        }
        if ex.hops.len() > 1 && o.output == Output::Waterfall {
            say!(
                "Total: {} over {} requests ({} redirects)\n",
                waterfall::millis(ex.total),
                ex.hops.len(),
                ex.hops.len() - 1
            );
        }
    }
    if let Some(format) = &o.write_out {
        write_out(format, ex, redaction);
    }
}

pub(crate) async fn run(mut o: Options) -> Result<(), String> {
    let verify_failed = Arc::new(VerifyFailed::default());
    let (urls, trust, repeat) = if o.urls.is_empty() {
        let (urls, roots) = start_local_servers().await?;
        // Two requests to each: a fresh connection and a reused one.
        let repeat = if o.many { o.repeat } else { 2 };
        (urls, Trust::Roots(roots), repeat)
    } else {
        (o.urls.clone(), trust(&o)?, o.repeat)
    };
    o.urls = urls.clone();
    let tunnels = Arc::new(TunnelTimes::default());
    let client = client(&o, trust, verify_failed.clone(), tunnels.clone())?;
    let file = match &o.body_to {
        Some(path) => Some(tokio::sync::Mutex::new(
            tokio::fs::File::create(path)
                .await
                .map_err(|e| format!("-o {}: {e}", path.display()))?,
        )),
        None => None,
    };
    let sender = Sender {
        options: &o,
        client: &client,
        verify_failed: &verify_failed,
        tunnels: &tunnels,
        body_to: file.as_ref(),
    };
    let work: Vec<(u64, &String)> = urls
        .iter()
        .flat_map(|u| std::iter::repeat_n(u, repeat as usize))
        .enumerate()
        .map(|(i, u)| (i as u64 + 1, u))
        .collect();
    // `--concurrency` requests in flight at once, each printed as its turn comes.
    let mut exchanges = Vec::with_capacity(work.len());
    let mut done = futures_util::stream::iter(work.iter().map(|(n, url)| sender.exchange(url, *n)))
        .buffered(o.concurrency as usize);
    while let Some(ex) = done.next().await {
        print_exchange(&o, &ex);
        exchanges.push(ex);
    }
    drop(done);
    let connections = client.stats().map(|s| s.snapshot()).unwrap_or_default();
    let summary = Summary::of(&exchanges).with_connections(connections);
    if o.output == Output::Json {
        say!("{}", summary.json());
    } else if o.many && o.output == Output::Waterfall {
        say!("{}", summary.text());
    }
    match exchanges.iter().find(|ex| ex.failed()) {
        Some(ex) if !o.many => Err(ex.last().error.clone().unwrap_or_default()),
        Some(_) => Err(format!(
            "{} of {} requests failed",
            summary.failed, summary.requests
        )),
        None => Ok(()),
    }
}
