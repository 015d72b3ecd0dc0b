//! `httpstat`: sends a request (or several on one client) and shows what happened inside it.
//!
//! ```text
//! cargo run --example httpstat -- [--events] [--repeat N] [--no-read] [-X METHOD]
//!     [-H 'Name: value']... [-d DATA] [--cacert FILE] [--http1.1 | --http2] [URL]
//! ```
//! With no URL it starts hyper servers on loopback, one plain and one HTTPS (a certificate
//! made at start-up, HTTP/2 by ALPN), and traces two requests to each, so it works offline.
//! `--events` prints the raw event log, one JSON object a line, in the format of Go's
//! recorded logs; otherwise a readable timeline per request.
//!
//! `https://` URLs are checked against the platform's roots, or the PEM file of `--cacert`.
//! `--http1.1` and `--http2` decide what ALPN offers; with an `http://` URL, `--http2`
//! speaks HTTP/2 without asking (prior knowledge).

use std::convert::Infallible;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response};
use http_body_util::{BodyExt, Full};
use httptrace::{with_client_trace, ClientTrace, Event, EventKind, EventLog};
use httptrace_tower::rustls::pki_types::pem::PemObject;
use httptrace_tower::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use httptrace_tower::rustls::{ClientConfig, RootCertStore, ServerConfig};
use httptrace_tower::{
    HttpTrace, TraceConnector, TraceHttpConnector, TraceTlsConnector, TracedRequestBody,
};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Header fields whose values no output of ours prints.
const REDACTED: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

struct Options {
    events: bool,
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

const USAGE: &str =
    "usage: httpstat [--events] [--repeat N] [--no-read] [-X METHOD] [-H 'Name: value']... \
[-d DATA] [--cacert FILE] [--http1.1 | --http2] [URL]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        events: false,
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
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--events" => o.events = true,
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
            "-h" | "--help" => return Err(USAGE.to_owned()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}\n{USAGE}")),
            url => {
                if o.url.replace(url.to_owned()).is_some() {
                    return Err(format!("more than one URL\n{USAGE}"));
                }
            }
        }
    }
    if o.data.is_some() && !method_given {
        o.method = Method::POST;
    }
    Ok(o)
}

/// Answers every request with a short body, over `io` (HTTP/1.1 or HTTP/2, as the client
/// starts).
fn serve<I>(io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use hyper_util::rt::TokioIo;
    tokio::spawn(async move {
        let service =
            hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                let _ = req.into_body().collect().await;
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                    b"hello from httpstat's server\n",
                ))))
            });
        let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
            .serve_connection(TokioIo::new(io), service)
            .await;
    });
}

/// The no-URL default: a plain and an HTTPS server on 127.0.0.1, the HTTPS one with a
/// certificate (and an authority to trust it) made now. Returns their URLs and the roots
/// that trust the HTTPS one.
async fn start_local_servers() -> Result<(Vec<String>, RootCertStore), String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        format!("cannot start the local servers: {what}: {e}")
    };
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| fail("bind", &e))?;
    let secure = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| fail("bind", &e))?;
    let urls = vec![
        format!(
            "http://{}/",
            plain.local_addr().map_err(|e| fail("address", &e))?
        ),
        format!(
            "https://{}/",
            secure.local_addr().map_err(|e| fail("address", &e))?
        ),
    ];

    let ca_key = rcgen::KeyPair::generate().map_err(|e| fail("key", &e))?;
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("CA", &e))?;
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "httpstat local CA");
    let ca_cert = ca.self_signed(&ca_key).map_err(|e| fail("CA", &e))?;
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().map_err(|e| fail("key", &e))?;
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .and_then(|p| p.signed_by(&key, &issuer))
        .map_err(|e| fail("certificate", &e))?;
    let mut server = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(|e| fail("TLS", &e))?;
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
    let mut roots = RootCertStore::empty();
    roots
        .add(ca_cert.der().clone())
        .map_err(|e| fail("roots", &e))?;

    tokio::spawn(async move {
        while let Ok((stream, _)) = plain.accept().await {
            serve(stream);
        }
    });
    tokio::spawn(async move {
        while let Ok((stream, _)) = secure.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(stream).await {
                    serve(tls);
                }
            });
        }
    });
    Ok((urls, roots))
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
fn client(roots: RootCertStore, protocol: Protocol, prior_knowledge: bool) -> Stat {
    let mut config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = match protocol {
        Protocol::Either => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        Protocol::Http1 => vec![b"http/1.1".to_vec()],
        Protocol::Http2 => vec![b"h2".to_vec()],
    };
    let mut dialer = TraceHttpConnector::new();
    dialer.enforce_http(false);
    let connector = TraceConnector::new(TraceTlsConnector::new(dialer, Arc::new(config)));
    let client = Client::builder(TokioExecutor::new())
        .http2_only(prior_knowledge)
        .build(connector);
    HttpTrace::new(client, ClientTrace::new())
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
            let values: Vec<String> = if REDACTED.contains(&f.name.as_str()) {
                vec!["[redacted]".into()]
            } else {
                f.values
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect()
            };
            format!("  {}: {}", f.name, values.join(", "))
        }
        EventKind::WroteHeaders => "wrote headers".to_owned(),
        EventKind::Wait100Continue => "waiting for 100 Continue before sending the body".to_owned(),
        EventKind::Got100Continue => "got 100 Continue".to_owned(),
        EventKind::Got1xxResponse(i) => {
            let headers: Vec<String> = i
                .headers
                .iter()
                .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
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
        EventKind::Response { status, proto } => format!("response: {proto} {status}"),
        EventKind::Error { err } => format!("error: {err}"),
        _ => e.name().to_owned(),
    }
}

fn print_timeline(n: u64, url: &str, events: &[Event]) {
    let start = events.first().map_or(Duration::ZERO, |e| e.at);
    println!("request {} {url}", n + 1);
    for e in events {
        if matches!(e.kind, EventKind::Request { .. }) {
            continue;
        }
        println!(
            "  {:>10.3} ms  {}",
            (e.at - start).as_secs_f64() * 1000.0,
            describe(e)
        );
    }
}

async fn run(o: Options) -> Result<(), String> {
    let (urls, client) = match &o.url {
        Some(url) => {
            let prior_knowledge = o.protocol == Protocol::Http2 && url.starts_with("http://");
            (
                vec![url.clone()],
                client(roots(o.cacert.as_deref())?, o.protocol, prior_knowledge),
            )
        }
        None => {
            let (urls, local_roots) = start_local_servers().await?;
            (urls, client(local_roots, o.protocol, false))
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
        .map_err(|e| format!("bad request: {e}"))?;
    with_client_trace(&mut req, log.trace());
    log.request(n);
    let outcome = match client.request(req).await {
        Ok(res) => {
            let status = res.status().as_u16();
            let proto = format!("{:?}", res.version());
            if o.read_body {
                res.into_body()
                    .collect()
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("reading the body: {e}"))
            } else {
                drop(res);
                Ok(())
            }
            .map(|()| log.response(status, proto))
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
    if o.events {
        for e in &events {
            println!("{}", e.to_json(REDACTED));
        }
    } else {
        print_timeline(n, url, &events);
    }
    outcome
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(message) => {
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
