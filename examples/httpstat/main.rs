//! `httpstat`: sends a request (or several on one client) and shows what happened inside it.
//!
//! ```text
//! cargo run --example httpstat -- [--json | --events | --timeline] [--repeat N] [--no-read]
//!     [--color auto|always|never] [--reveal-sensitive] [-X METHOD] [-H 'Name: value']... [-d DATA]
//!     [--cacert FILE] [--http1.1 | --http2] [URL]
//! ```
//! With no URL it starts hyper servers on loopback, one plain and one HTTPS (a certificate
//! made at start-up, HTTP/2 by ALPN), and traces two requests to each, so it works offline.
//!
//! By default each request is shown as Go's httpstat shows it: how it got its connection,
//! the status line and headers, and a waterfall of its phases with the cumulative marks,
//! coloured on a terminal and plain when piped. `--json` prints each request's `Timings` as
//! one JSON object a line; `--events` the raw event log, one JSON object a line, in the
//! format of Go's recorded logs; `--timeline` every event in words.
//!
//! `https://` URLs are checked against the platform's roots, or the PEM file of `--cacert`.
//! `--http1.1` and `--http2` decide what ALPN offers; with an `http://` URL, `--http2`
//! speaks HTTP/2 without asking (prior knowledge). No view prints the values of sensitive
//! headers (`authorization`, `cookie`, ...), a URL's userinfo or its signed query values
//! (`X-Amz-Signature`, `sig`, ...) unless `--reveal-sensitive` says so.

/// `println!` that ends the program quietly once nobody reads its output (piped into
/// `head`, say) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

mod local_servers;
mod timeline;
mod waterfall;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use httptrace::{with_client_trace, ClientTrace, EventKind, EventLog, TimingsRecorder};
use httptrace_tower::rustls::pki_types::pem::PemObject;
use httptrace_tower::rustls::pki_types::CertificateDer;
use httptrace_tower::rustls::{ClientConfig, RootCertStore};
use httptrace_tower::{
    HttpTrace, TraceConnector, TraceHttpConnector, TraceTlsConnector, TracedRequestBody,
};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use local_servers::start_local_servers;
use timeline::print_timeline;
use waterfall::Colour;

/// What to print for each request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Output {
    Waterfall,
    Json,
    Events,
    Timeline,
}

struct Options {
    output: Output,
    reveal_sensitive: bool,
    colour: Colour,
    repeat: u64,
    read_body: bool,
    method: Method,
    headers: Vec<(HeaderName, HeaderValue)>,
    data: Option<Bytes>,
    cacert: Option<String>,
    protocol: Protocol,
    url: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// ALPN offers h2 and http/1.1.
    Either,
    Http1,
    Http2,
}

const USAGE: &str = "usage: httpstat [--json | --events | --timeline] [--repeat N] [--no-read] \
[--color auto|always|never] [--reveal-sensitive] [-X METHOD] [-H 'Name: value']... [-d DATA] [--cacert FILE] \
[--http1.1 | --http2] [URL]";

const HELP: &str = "Shows what happens inside HTTP requests: DNS, connect, TLS, reuse, the \
server's time and the transfer.

With no URL, starts a plain and an HTTPS server on 127.0.0.1 and sends two requests to each.

  --json              each request's timings as one JSON object a line
  --events            the raw event log, one JSON object a line (Go's format)
  --timeline          every event of each request, in words
  --repeat N          send N requests (on one client: see the connection reused)
  --no-read           drop each response body unread
  --color WHEN        colour the waterfall: auto (on a terminal), always, never
  -X METHOD           the request method (POST when -d is given)
  -H 'Name: value'    add a request header (repeatable)
  -d DATA             send DATA as the request body
  --cacert FILE       trust the certificates of this PEM file for https://
  --http1.1, --http2  what ALPN offers; --http2 on http:// speaks HTTP/2 directly
  --reveal-sensitive  print the secrets below as they are
  -h, --help          this help

Values of authorization, proxy-authorization, cookie and set-cookie are shown as [redacted],
a URL's user:password as REDACTED:REDACTED and the values of its signature parameters
(X-Amz-Signature, sig, ...) as REDACTED, unless --reveal-sensitive is given.";

/// What every view hides: set once from `--reveal-sensitive`.
static REDACTION: std::sync::OnceLock<httptrace::Redaction> = std::sync::OnceLock::new();

/// What every view hides (everything secret, unless `--reveal-sensitive`).
fn redaction() -> &'static httptrace::Redaction {
    REDACTION.get_or_init(httptrace::Redaction::new)
}

/// What `parse_args` stops at: a mistake (exit 2) or a request for help (exit 0).
enum Stop {
    Usage(String),
    Help,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, Stop> {
    parse_options(args).map_err(|e| match e {
        Some(message) => Stop::Usage(message),
        None => Stop::Help,
    })
}

/// `Err(None)` asks for help.
fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, Option<String>> {
    let mut colour_when = "auto".to_owned();
    let mut o = Options {
        output: Output::Waterfall,
        reveal_sensitive: false,
        colour: Colour::Off,
        repeat: 1,
        read_body: true,
        method: Method::GET,
        headers: Vec::new(),
        data: None,
        cacert: None,
        protocol: Protocol::Either,
        url: None,
    };
    let mut method_given = false;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| Some(format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--json" => o.output = Output::Json,
            "--reveal-sensitive" => o.reveal_sensitive = true,
            "--events" => o.output = Output::Events,
            "--timeline" => o.output = Output::Timeline,
            "--color" | "--colour" => colour_when = value("--color")?,
            "--no-read" => o.read_body = false,
            "--repeat" => {
                o.repeat = value("--repeat")?
                    .parse()
                    .map_err(|_| "--repeat takes a whole number".to_owned())?;
            }
            "-X" => {
                o.method = value("-X")?
                    .parse()
                    .map_err(|_| "-X takes an HTTP method".to_owned())?;
                method_given = true;
            }
            "-H" => {
                let line = value("-H")?;
                let (name, val) = line
                    .split_once(':')
                    .ok_or_else(|| format!("-H {line:?}: expected 'Name: value'"))?;
                let name =
                    HeaderName::try_from(name.trim()).map_err(|e| format!("-H {line:?}: {e}"))?;
                let val =
                    HeaderValue::try_from(val.trim()).map_err(|e| format!("-H {line:?}: {e}"))?;
                o.headers.push((name, val));
            }
            "-d" => o.data = Some(Bytes::from(value("-d")?)),
            "--cacert" => o.cacert = Some(value("--cacert")?),
            "--http1.1" => o.protocol = Protocol::Http1,
            "--http2" => o.protocol = Protocol::Http2,
            "-h" | "--help" => return Err(None),
            flag if flag.starts_with('-') => {
                return Err(Some(format!("unknown option {flag}\n{USAGE}")))
            }
            url => {
                check_url(url)?;
                if o.url.replace(url.to_owned()).is_some() {
                    return Err(Some(format!("more than one URL\n{USAGE}")));
                }
            }
        }
    }
    let _ = REDACTION.set(if o.reveal_sensitive {
        httptrace::Redaction::new().reveal_secrets()
    } else {
        httptrace::Redaction::new()
    });
    if o.data.is_some() && !method_given {
        o.method = Method::POST;
    }
    o.colour = match colour_when.as_str() {
        "always" => Colour::On,
        "never" => Colour::Off,
        "auto" if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() => {
            Colour::On
        }
        "auto" => Colour::Off,
        other => {
            return Err(Some(format!(
                "--color {other:?}: expected auto, always or never"
            )))
        }
    };
    Ok(o)
}

/// An absolute `http://` or `https://` URL with a host, or why not.
fn check_url(url: &str) -> Result<(), String> {
    let uri: http::Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let url = httptrace::redact_url(url);
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(format!(
                "bad URL {url:?}: scheme {other:?} is not http or https"
            ))
        }
        None => {
            return Err(format!(
                "bad URL {url:?}: give it as http://host/ or https://host/"
            ))
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("bad URL {url:?}: no host"));
    }
    Ok(())
}

/// Trust for `https://`: the `--cacert` file, or the platform's roots.
fn roots(cacert: Option<&str>) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match cacert {
        Some(path) => {
            for cert in
                CertificateDer::pem_file_iter(path).map_err(|e| format!("--cacert {path}: {e}"))?
            {
                let cert = cert.map_err(|e| format!("--cacert {path}: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("--cacert {path}: {e}"))?;
            }
            if roots.is_empty() {
                return Err(format!("--cacert {path}: no certificate in it"));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    Ok(roots)
}

type Stat = HttpTrace<
    Client<TraceConnector<TraceTlsConnector<TraceHttpConnector>>, TracedRequestBody<Full<Bytes>>>,
>;

/// The traced client: our connector stack, rustls with `roots`, ALPN as `protocol` says.
fn client(roots: RootCertStore, protocol: Protocol, prior_knowledge: bool) -> Result<Stat, String> {
    let provider = httptrace_tower::crypto_provider().map_err(|e| e.to_string())?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = match protocol {
        Protocol::Either => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        Protocol::Http1 => vec![b"http/1.1".to_vec()],
        Protocol::Http2 => vec![b"h2".to_vec()],
    };
    let mut dialer = TraceHttpConnector::new();
    // As curl, reqwest and tonic: small HTTP/2 writes must not wait on delayed ACKs.
    dialer.enforce_http(false).set_nodelay(true);
    let connector = TraceConnector::new(TraceTlsConnector::new(dialer, Arc::new(config)));
    let connector = if prior_knowledge {
        connector
    } else {
        connector.http2_only_by_alpn()
    };
    let client = Client::builder(TokioExecutor::new())
        .http2_only(prior_knowledge)
        .build(connector);
    Ok(HttpTrace::new(client, ClientTrace::new()).record_timings())
}

async fn run(o: Options) -> Result<(), String> {
    let (urls, client) = match &o.url {
        Some(url) => {
            let prior_knowledge = o.protocol == Protocol::Http2 && url.starts_with("http://");
            (
                vec![url.clone()],
                client(roots(o.cacert.as_deref())?, o.protocol, prior_knowledge)?,
            )
        }
        None => {
            let (urls, local_roots) = start_local_servers().await?;
            (urls, client(local_roots, o.protocol, false)?)
        }
    };
    let repeat = if o.url.is_none() && o.repeat == 1 {
        2
    } else {
        o.repeat
    };
    let log = EventLog::new();
    let mut n = 0;
    for url in &urls {
        for _ in 0..repeat {
            send(&o, &client, url, n, &log).await?;
            n += 1;
        }
    }
    Ok(())
}

/// Sends request number `n` and prints what happened.
async fn send(o: &Options, client: &Stat, url: &str, n: u64, log: &EventLog) -> Result<(), String> {
    let mut req = Request::builder().method(o.method.clone()).uri(url);
    for (name, value) in &o.headers {
        req = req.header(name, value);
    }
    let mut req = req
        .body(Full::new(o.data.clone().unwrap_or_default()))
        .map_err(|e| format!("bad request {:?}: {e}", redaction().url(url)))?;
    with_client_trace(&mut req, log.trace());
    log.request(n);
    let mut answer = None;
    let outcome = match client.request(req).await {
        Ok(res) => {
            let (parts, body) = res.into_parts();
            let read = if o.read_body {
                body.collect()
                    .await
                    .map(|b| Some(b.to_bytes().len()))
                    .map_err(|e| format!("reading the body: {e}"))
            } else {
                drop(body);
                Ok(None)
            };
            log.response(parts.status.as_u16(), format!("{:?}", parts.version));
            answer = Some((parts, read.clone().ok().flatten()));
            read.map(|_| ())
        }
        Err(e) => {
            let chain = std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            log.error(&chain);
            Err(chain)
        }
    };
    // Hooks of a connection finishing in the background may still come; a short grace.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let events = log.take();
    let shown_url = redaction().url(url);
    let recorder = answer
        .as_ref()
        .and_then(|(parts, _)| parts.extensions.get::<TimingsRecorder>().cloned());
    match o.output {
        Output::Events => {
            for e in &events {
                say!("{}", e.to_json_with(redaction()));
            }
        }
        Output::Timeline => print_timeline(n, &shown_url, &events),
        Output::Json => {
            let status = answer
                .as_ref()
                .map_or("null".to_owned(), |(p, _)| p.status.as_u16().to_string());
            let error = outcome.as_ref().err().map_or("null".to_owned(), |e| {
                serde_json::Value::String(e.clone()).to_string()
            });
            let timings = recorder.map_or("null".to_owned(), |r| r.timings().to_json());
            say!(
                "{{\"request\":{},\"url\":{},\"method\":\"{}\",\"status\":{status},\"error\":{error},\"timings\":{timings}}}",
                n + 1,
                serde_json::Value::String(shown_url.into_owned()),
                o.method
            );
        }
        // A failed request: what happened, event by event, shows where it stopped.
        Output::Waterfall if answer.is_none() => print_timeline(n, &shown_url, &events),
        Output::Waterfall => {
            let conn_id = events.iter().find_map(|e| match &e.kind {
                EventKind::GotConn(i) => Some(i.conn.id.as_u64()),
                _ => None,
            });
            say!("request {}: {} {shown_url}", n + 1, o.method);
            if let (Some((parts, bytes)), Some(recorder)) = (&answer, recorder) {
                let timings = recorder.timings();
                say!(
                    "{}\n",
                    waterfall::connection_line(&timings, conn_id, o.colour)
                );
                say!(
                    "{}",
                    waterfall::head(parts.version, parts.status, &parts.headers, o.colour)
                );
                match bytes {
                    Some(n) => say!("Body read: {n} bytes\n"),
                    None => say!("Body discarded\n"),
                }
                say!("{}", waterfall::waterfall(&timings, o.colour));
            }
        }
    }
    outcome
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(Stop::Help) => {
            println!("{USAGE}\n\n{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(Stop::Usage(message)) => {
            eprintln!("httpstat: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("httpstat: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("httpstat: {message}");
            ExitCode::FAILURE
        }
    }
}
