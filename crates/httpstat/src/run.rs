//! A run: the client, every exchange (several URLs, `--repeat`, `--concurrency`), and each
//! view printed as its exchange ends.

use std::sync::Arc;

use futures_util::StreamExt as _;
use serde_json::json;

use crate::body::BodySink;
use crate::connect::{client, Trust, TunnelTimes, VerifyFailed};
use crate::exchange::{Exchange, Hop, Sender};
use crate::failure::Failure;
use crate::local_servers::start_local_servers;
use crate::options::{Options, Output};
use crate::view::summary::{self, Summary};
use crate::view::timeline::print_timeline;
use crate::view::waterfall;
use crate::view::write_out::{header_size, sent_head_size, write_out, Context};

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

/// Prints `hop` as the waterfall view does; `redirected` if a redirect led to it.
fn print_waterfall(o: &Options, hop: &Hop, redirected: bool) {
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
    if o.certs && !hop.peer_chain().is_empty() {
        say!(
            "{}",
            crate::view::certs::text(hop.peer_chain(), std::time::SystemTime::now())
        );
    }
    if let Some(why) = crate::view::why::line(hop, redirected) {
        say!("{why}\n");
    }
    if let Some(e) = &hop.error {
        say!("error: {e}\n");
    }
}

/// Prints `ex` in the view `o` asks for (`-s` silences the waterfall), then `-w`'s format.
fn print_exchange(o: &Options, ex: &Exchange) {
    let redaction = crate::redaction();
    if o.silent && o.output == Output::Waterfall {
        // Quiet: only `-w` (and the body, written as it was read).
    } else if o.many && o.output == Output::Waterfall {
        say!("{}", summary::line(ex, &redaction.url(&ex.last().url)));
    } else {
        for (i, hop) in ex.hops.iter().enumerate() {
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
                        "why": crate::view::why::clauses(hop, i > 0),
                    });
                    say!("{line}");
                }
                Output::Waterfall => print_waterfall(o, hop, i > 0),
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
        let cx = Context {
            redaction,
            filename: o.body_to.as_ref().map(|p| p.display().to_string()),
            referer: o.referer.clone(),
            proxy_used: o.proxy.is_some(),
        };
        write_out(format, ex, &cx);
    }
    if let Some(failure) = &ex.failure {
        if !o.silent || o.show_error {
            eprintln!("{}", failure.line());
        }
    }
}

/// The wait before retry number `attempt` (from 1) after `ex`: `--retry-delay`, else the
/// answer's `Retry-After` seconds, else curl's backoff (1 s, doubling, at most 10 minutes).
fn retry_wait(o: &Options, ex: &Exchange, attempt: u32) -> std::time::Duration {
    if let Some(delay) = o.retry_delay {
        return delay;
    }
    let after = ex
        .last()
        .answer
        .as_ref()
        .and_then(|a| a.headers.get(http::header::RETRY_AFTER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0);
    let backoff = 1u64 << attempt.saturating_sub(1).min(9);
    std::time::Duration::from_secs(after.unwrap_or(backoff).min(600))
}

/// Sends `url` (the run's URL number `urlnum`) as request `n`, again while `--retry` allows
/// and the failure is transient; the last attempt, with the count of the ones before.
async fn exchange_with_retries(sender: &Sender<'_>, url: &str, urlnum: usize, n: u64) -> Exchange {
    let o = sender.options;
    let started = std::time::Instant::now();
    let mut retries = 0;
    loop {
        let mut ex = sender.exchange(url, urlnum, n).await;
        ex.retries = retries;
        let left = o.retry - retries;
        if left == 0 || !ex.is_transient() {
            return ex;
        }
        let wait = retry_wait(o, &ex, retries + 1);
        if o.retry_max_time
            .is_some_and(|max| started.elapsed() + wait > max)
        {
            return ex;
        }
        if !o.silent {
            let what = if ex.failure.is_some() {
                "timeout"
            } else {
                "HTTP error"
            };
            eprintln!(
                "Warning: Problem : {what}. Will retry in {} seconds. {left} retries left.",
                wait.as_secs()
            );
        }
        tokio::time::sleep(wait).await;
        retries += 1;
    }
}

/// Runs every exchange `o` asks for, printing each; the failure of the last exchange that
/// failed (curl's exit code), or a mistake that stopped the run before any (exit code 2).
pub(crate) async fn run(mut o: Options) -> Result<Option<Failure>, String> {
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
        Some(path) => Some(tokio::sync::Mutex::new(BodySink::File(
            tokio::fs::File::create(path)
                .await
                .map_err(|e| format!("-o {}: {e}", path.display()))?,
        ))),
        // `-s` is curl's quiet mode: the body is the output.
        None if o.silent && o.output == Output::Waterfall => Some(tokio::sync::Mutex::new(
            BodySink::Stdout(tokio::io::stdout()),
        )),
        None => None,
    };
    let connections = Arc::new(crate::connections::Connections::default());
    let total = o.many.then_some(urls.len() as u64 * repeat);
    let progress = crate::view::progress::Progress::on_terminal(o.silent, total);
    let ticking = progress.clone().map(|p| tokio::spawn(p.run()));
    let sender = Sender {
        options: &o,
        client: &client,
        verify_failed: &verify_failed,
        tunnels: &tunnels,
        body_to: file.as_ref(),
        progress: progress.as_deref(),
        connections: &connections,
    };
    let work: Vec<(u64, usize, &String)> = urls
        .iter()
        .enumerate()
        .flat_map(|(urlnum, u)| std::iter::repeat_n((urlnum, u), repeat as usize))
        .enumerate()
        .map(|(i, (urlnum, u))| (i as u64 + 1, urlnum, u))
        .collect();
    // `--concurrency` requests in flight at once, each printed as its turn comes.
    let mut exchanges = Vec::with_capacity(work.len());
    let mut done = futures_util::stream::iter(
        work.iter()
            .map(|(n, urlnum, url)| exchange_with_retries(&sender, url, *urlnum, *n)),
    )
    .buffered(o.concurrency as usize);
    while let Some(ex) = done.next().await {
        match &progress {
            Some(progress) => progress.printing(|| print_exchange(&o, &ex)),
            None => print_exchange(&o, &ex),
        }
        exchanges.push(ex);
    }
    drop(done);
    if let Some(ticking) = ticking {
        ticking.abort();
        let _ = ticking.await;
    }
    if let Some(progress) = &progress {
        progress.clear();
    }
    let connections = client.stats().map(|s| s.snapshot()).unwrap_or_default();
    let summary = Summary::of(&exchanges).with_connections(connections);
    if o.output == Output::Json {
        say!("{}", summary.json());
    } else if o.many && o.output == Output::Waterfall {
        say!("{}", summary.text());
    }
    if o.many && summary.failed > 0 && !o.silent {
        eprintln!(
            "httpstat: {} of {} requests failed",
            summary.failed, summary.requests
        );
    }
    Ok(exchanges.iter().rev().find_map(|ex| ex.failure.clone()))
}
