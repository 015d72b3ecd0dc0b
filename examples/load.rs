//! `load`: throughput of the traced stack against the plain hyper-util client.
//!
//! ```text
//! cargo run --release --example load -- --trace none|noop|full|timings [--requests N]
//!     [--concurrency C] [--http2] [--sample RATIO] [--blocking-hook MS] [URL]
//! ```
//! `none` is hyper-util's client with no layer at all; `noop` our whole stack with no trace
//! attached; `full` a trace with every hook set, each a relaxed atomic increment (of the
//! thread's own slot of a counter: see `httptrace_suite::Hits`); `timings` the
//! per-request Timings recorder (`record_timings`); `--sample RATIO` has the traced modes
//! trace only that share of the requests (`HttpTrace::sample`); `--blocking-hook MS` adds a
//! `WroteHeaders` hook that blocks its thread for MS milliseconds (what hooks must not do:
//! it shows what one costs the other requests of its connection). It sends N
//! GETs with C in flight over keep-alive connections, reads each body, and prints one line.
//! With no URL it starts a hyper server in another process of itself, so that client and
//! server do not share an executor.

use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use httptrace::ClientTrace;
use httptrace_tower::{
    HttpTrace, TraceConnector, TraceExecutor, TraceHttpConnector, TracedRequestBody,
};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

static HOOKS: httptrace_suite::Hits = httptrace_suite::Hits::new();

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    None,
    Noop,
    Full,
    Timings,
}

struct Options {
    mode: Mode,
    requests: usize,
    concurrency: usize,
    http2: bool,
    sample: Option<f64>,
    blocking_hook: Option<std::time::Duration>,
    url: Option<String>,
}

const USAGE: &str =
    "usage: load --trace none|noop|full|timings [--requests N] [--concurrency C] [--http2] [--sample RATIO] [--blocking-hook MS] [URL]   (or: load --serve)";

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        mode: Mode::Noop,
        requests: 20_000,
        concurrency: 64,
        http2: false,
        sample: None,
        blocking_hook: None,
        url: None,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--trace" => {
                o.mode = match value("--trace")?.as_str() {
                    "none" => Mode::None,
                    "noop" => Mode::Noop,
                    "full" => Mode::Full,
                    "timings" => Mode::Timings,
                    other => {
                        return Err(format!(
                            "--trace {other}: expected none, noop, full or timings"
                        ))
                    }
                }
            }
            "--requests" => {
                o.requests = value("--requests")?
                    .parse()
                    .map_err(|_| "--requests takes a number")?
            }
            "--concurrency" => {
                o.concurrency = value("--concurrency")?
                    .parse()
                    .map_err(|_| "--concurrency takes a number")?
            }
            "--http2" => o.http2 = true,
            "--sample" => {
                let ratio: f64 = value("--sample")?
                    .parse()
                    .map_err(|_| "--sample takes a ratio, 0 to 1")?;
                o.sample = Some(ratio);
            }
            "--blocking-hook" => {
                let ms: u64 = value("--blocking-hook")?
                    .parse()
                    .map_err(|_| "--blocking-hook takes milliseconds")?;
                o.blocking_hook = Some(std::time::Duration::from_millis(ms));
            }
            "-h" | "--help" => return Err(USAGE.into()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}\n{USAGE}")),
            url => o.url = Some(url.to_owned()),
        }
    }
    if o.concurrency == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    Ok(o)
}

type Plain = Client<HttpConnector, Empty<Bytes>>;
type Traced =
    HttpTrace<Client<TraceConnector<TraceHttpConnector>, TracedRequestBody<Empty<Bytes>>>>;

enum Clients {
    Plain(Plain),
    Traced(Traced),
}

impl Clients {
    async fn get(&self, url: &http::Uri) -> Result<(), String> {
        let req = http::Request::get(url.clone())
            .body(Empty::new())
            .map_err(|e| e.to_string())?;
        match self {
            Clients::Plain(c) => {
                let res = c.request(req).await.map_err(|e| e.to_string())?;
                res.into_body().collect().await.map_err(|e| e.to_string())?;
            }
            Clients::Traced(c) => {
                let res = c.request(req).await.map_err(|e| e.to_string())?;
                res.into_body().collect().await.map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }
}

async fn run(o: Options, url: String) -> Result<(), String> {
    let url: http::Uri = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    let configured = |mut builder: hyper_util::client::legacy::Builder| {
        builder
            .http2_only(o.http2)
            .pool_max_idle_per_host(usize::MAX);
        builder
    };
    let clients = Arc::new(match o.mode {
        Mode::None => {
            Clients::Plain(configured(Client::builder(TokioExecutor::new())).build_http())
        }
        Mode::Noop | Mode::Full | Mode::Timings => {
            let mut trace = if o.mode == Mode::Full {
                httptrace_suite::every_hook_counting(&HOOKS)
            } else {
                ClientTrace::new()
            };
            if let Some(block) = o.blocking_hook {
                trace = ClientTrace::new()
                    .on_wrote_headers(move || std::thread::sleep(block))
                    .compose(&trace);
            }
            // As a user would: a client that speaks HTTP/2 by prior knowledge needs the
            // connection's handle in every response; one that does not, need not.
            let connector = TraceConnector::new(TraceHttpConnector::new());
            let connector = if o.http2 {
                connector
            } else {
                connector.http2_only_by_alpn()
            };
            // As the ready-made clients: connection tasks spawned through a `TraceExecutor`.
            let builder = configured(Client::builder(TraceExecutor::new(TokioExecutor::new())));
            let mut client = HttpTrace::new(builder.build(connector), trace);
            if o.mode == Mode::Timings {
                client = client.record_timings();
            }
            if let Some(ratio) = o.sample {
                client = client.sample(ratio);
            }
            Clients::Traced(client)
        }
    });
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..o.concurrency {
        let (clients, next, url) = (clients.clone(), next.clone(), url.clone());
        let requests = o.requests;
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < requests {
                clients.get(&url).await?;
            }
            Ok::<_, String>(())
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = (cpu_time() - cpu_before).as_secs_f64();
    println!(
        "mode={} requests={} concurrency={} http2={} blocking_hook_ms={} seconds={seconds:.3} rps={:.0} cpu_us_per_request={:.2} hooks={}",
        format!("{:?}", o.mode).to_lowercase(),
        o.requests,
        o.concurrency,
        o.http2,
        o.blocking_hook.map_or(0, |d| d.as_millis()),
        o.requests as f64 / seconds,
        cpu * 1e6 / o.requests as f64,
        HOOKS.total()
    );
    Ok(())
}

/// User plus system CPU time of this process so far (the client only: the server runs in
/// another process).
fn cpu_time() -> std::time::Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` fills the struct it is given; RUSAGE_SELF is always valid.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let time = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec as u64)
            + std::time::Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// `load --serve`: answers "ok" to everything on 127.0.0.1 (HTTP/1.1, or HTTP/2 by prior
/// knowledge), printing its address first.
async fn serve() -> Result<(), String> {
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", listener.local_addr().map_err(|e| e.to_string())?);
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|_req| async {
                Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
                    Bytes::from_static(b"ok"),
                )))
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.first().map(String::as_str) == Some("--serve") {
        return match runtime.block_on(serve()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("load --serve: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let o = match parse(args.into_iter()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    // No URL: a server in a process of its own, ended when we are done.
    let mut server = None;
    let url = match &o.url {
        Some(url) => url.clone(),
        None => {
            let spawned = std::env::current_exe().and_then(|exe| {
                Command::new(exe)
                    .arg("--serve")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::inherit())
                    .spawn()
            });
            let mut child = match spawned {
                Ok(child) => child,
                Err(e) => {
                    eprintln!("load: cannot start the server process: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let mut line = String::new();
            let stdout = child.stdout.take().expect("piped");
            if std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).is_err()
                || line.trim().is_empty()
            {
                eprintln!("load: the server process did not start");
                let _ = child.kill();
                return ExitCode::FAILURE;
            }
            server = Some(child);
            format!("http://{}/", line.trim())
        }
    };
    let result = runtime.block_on(run(o, url));
    if let Some(mut child) = server {
        let _ = child.kill();
        let _ = child.wait();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}
