//! `httpstat`: sends a request (or several on one client) and shows what happened inside it.
//!
//! ```text
//! cargo run --example httpstat -- [--events] [--repeat N] [--no-read] [-X METHOD]
//!                                 [-H 'Name: value']... [-d DATA] [URL]
//! ```
//! With no URL it starts a hyper server on loopback and traces requests to it, so it works
//! offline. `--events` prints the raw event log, one JSON object a line, in the format of
//! Go's recorded logs; otherwise a readable timeline per request.

use std::convert::Infallible;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Response};
use http_body_util::{BodyExt, Full};
use httptrace::{with_client_trace, ClientTrace, Event, EventKind, EventLog};

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
    url: Option<String>,
}

const USAGE: &str = "usage: httpstat [--events] [--repeat N] [--no-read] [-X METHOD] [-H 'Name: value']... [-d DATA] [URL]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        events: false,
        repeat: 1,
        read_body: true,
        method: Method::GET,
        headers: Vec::new(),
        data: None,
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

/// The no-URL default: a hyper server on 127.0.0.1 answering every request with a short body.
async fn start_local_server() -> std::io::Result<String> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(|req: Request<hyper::body::Incoming>| async move {
                        let _ = req.into_body().collect().await;
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                            b"hello from httpstat's server\n",
                        ))))
                    });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(format!("http://{addr}/"))
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

fn print_timeline(n: u64, events: &[Event]) {
    let start = events.first().map_or(Duration::ZERO, |e| e.at);
    println!("request {}", n + 1);
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
    let url = match &o.url {
        Some(url) => url.clone(),
        None => start_local_server()
            .await
            .map_err(|e| format!("cannot start the local server: {e}"))?,
    };
    let repeat = if o.url.is_none() && o.repeat == 1 {
        2
    } else {
        o.repeat
    };
    let client = httptrace_tower::http_client::<Full<Bytes>>(ClientTrace::new());
    let log = EventLog::new();
    for n in 0..repeat {
        let mut req = Request::builder().method(o.method.clone()).uri(&url);
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
                let chain =
                    std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
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
            print_timeline(n, &events);
        }
        outcome?;
    }
    Ok(())
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
