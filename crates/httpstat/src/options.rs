//! [`Options`]: the command line checked and turned into what a run needs; each mistake is
//! one line.

use std::io::IsTerminal;
use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, REFERER, USER_AGENT};
use http::{HeaderName, HeaderValue, Method};

use crate::cli::Args;
use crate::view::waterfall::Colour;

/// What to print for each request.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Output {
    Waterfall,
    Json,
    Events,
    Timeline,
}

/// What ALPN offers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Protocol {
    Either,
    Http1,
    Http2,
}

/// Which address families a lookup's answers are kept for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Family {
    Any,
    V4,
    V6,
}

impl Family {
    pub(crate) fn keeps(self, ip: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

/// `--resolve HOST:PORT:ADDR`.
#[derive(Clone, Debug)]
pub(crate) struct ResolveEntry {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) addrs: Vec<IpAddr>,
}

/// `--connect-to HOST1:PORT1:HOST2:PORT2`.
#[derive(Clone, Debug)]
pub(crate) struct ConnectTo {
    pub(crate) from: (String, u16),
    pub(crate) to: (String, u16),
}

/// Everything a run needs, checked.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) urls: Vec<String>,
    pub(crate) output: Output,
    pub(crate) write_out: Option<String>,
    pub(crate) body_to: Option<std::path::PathBuf>,
    pub(crate) colour: Colour,
    pub(crate) read_body: bool,
    pub(crate) reveal_sensitive: bool,
    pub(crate) method: Method,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) data: Option<Bytes>,
    pub(crate) follow: Option<u32>,
    pub(crate) insecure: bool,
    pub(crate) cacert: Option<std::path::PathBuf>,
    pub(crate) family: Family,
    pub(crate) resolve: Vec<ResolveEntry>,
    pub(crate) connect_to: Vec<ConnectTo>,
    pub(crate) max_time: Option<Duration>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) proxy: Option<http::Uri>,
    pub(crate) protocol: Protocol,
    pub(crate) repeat: u64,
    pub(crate) concurrency: u64,
    /// `--repeat` or `--concurrency` was given: a line per request and a summary.
    pub(crate) many: bool,
    /// `-s`: no waterfall, no error line (unless `-S`); the body to stdout unless `-o`.
    pub(crate) silent: bool,
    /// `-S`: the error line even with `-s`.
    pub(crate) show_error: bool,
    /// `-f`: an answer of 400 or more fails the exchange (curl's exit code 22).
    pub(crate) fail: bool,
    /// `--retry`: how many times a transient failure is tried again, the wait before each
    /// (`None`: curl's backoff, from 1 s doubling), and the time after which none starts.
    pub(crate) retry: u32,
    pub(crate) retry_delay: Option<Duration>,
    pub(crate) retry_max_time: Option<Duration>,
    /// The `Referer` sent (`-e`), for `%{referer}`.
    pub(crate) referer: Option<String>,
    /// `--certs`: the peer's chain after each waterfall of a new TLS connection.
    pub(crate) certs: bool,
}

fn seconds(flag: &str, value: Option<f64>) -> Result<Option<Duration>, String> {
    value
        .map(|s| Duration::try_from_secs_f64(s).map_err(|_| format!("{flag} {s}: not a time")))
        .transpose()
}

/// `NAME` or `@FILE`'s contents.
fn literal_or_file(flag: &str, value: &str) -> Result<Vec<u8>, String> {
    match value.strip_prefix('@') {
        Some("-") => {
            let mut all = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut all)
                .map_err(|e| format!("{flag} @-: {e}"))?;
            Ok(all)
        }
        Some(path) => std::fs::read(path).map_err(|e| format!("{flag} @{path}: {e}")),
        None => Ok(value.as_bytes().to_vec()),
    }
}

/// `-H`'s `Name: value`. A mistake names the header, never its value (it may be a secret).
fn header(line: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, val) = line
        .split_once(':')
        .ok_or_else(|| "-H: expected 'Name: value' (no ':' in it)".to_owned())?;
    let name = name.trim();
    let header = HeaderName::try_from(name).map_err(|e| format!("-H {name:?}: {e}"))?;
    let val = HeaderValue::try_from(val.trim()).map_err(|e| format!("-H {name:?}: {e}"))?;
    Ok((header, val))
}

fn port(text: &str, what: &str) -> Result<u16, String> {
    text.parse()
        .map_err(|_| format!("{what}: {text:?} is not a port"))
}

/// `HOST:PORT:ADDR[,ADDR...]`, IPv6 addresses in brackets or bare after the port.
fn resolve_entry(entry: &str) -> Result<ResolveEntry, String> {
    let bad = || format!("--resolve {entry:?}: expected HOST:PORT:ADDR");
    let (host, rest) = entry.split_once(':').ok_or_else(bad)?;
    let (p, addrs) = rest.split_once(':').ok_or_else(bad)?;
    let addrs = addrs
        .split(',')
        .map(|a| {
            a.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .map_err(|_| format!("--resolve {entry:?}: {a:?} is not an IP address"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if host.is_empty() {
        return Err(bad());
    }
    Ok(ResolveEntry {
        host: host.to_ascii_lowercase(),
        port: port(p, &format!("--resolve {entry:?}"))?,
        addrs,
    })
}

fn connect_to_entry(entry: &str) -> Result<ConnectTo, String> {
    let parts: Vec<&str> = entry.split(':').collect();
    let [h1, p1, h2, p2] = parts[..] else {
        return Err(format!(
            "--connect-to {entry:?}: expected HOST1:PORT1:HOST2:PORT2"
        ));
    };
    let what = format!("--connect-to {entry:?}");
    Ok(ConnectTo {
        from: (h1.to_ascii_lowercase(), port(p1, &what)?),
        to: (h2.to_owned(), port(p2, &what)?),
    })
}

/// An absolute `http://` or `https://` URL with a host, or why not (the URL redacted).
pub(crate) fn check_url(url: &str) -> Result<(), String> {
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

impl Options {
    /// The checked options of `a`. A URL is not checked here: as curl, a bad one fails its
    /// own exchange (exit code 3), after the ones before it ran.
    pub(crate) fn from_args(a: Args) -> Result<Options, String> {
        let mut headers = a
            .headers
            .iter()
            .map(|h| header(h))
            .collect::<Result<Vec<_>, _>>()?;
        let value = |flag: &str, v: &str| {
            HeaderValue::try_from(v)
                .map_err(|e| format!("{flag} {:?}: {e}", httptrace::redact_url(v)))
        };
        if let Some(agent) = &a.user_agent {
            headers.push((USER_AGENT, value("-A", agent)?));
        }
        if let Some(referer) = &a.referer {
            headers.push((REFERER, value("-e", referer)?));
        }
        if let Some(user) = &a.user {
            let encoded = base64(user.as_bytes());
            let mut v = value("-u", &format!("Basic {encoded}"))
                .map_err(|_| "-u: the user and password must be printable text".to_owned())?;
            v.set_sensitive(true);
            headers.push((AUTHORIZATION, v));
        }
        let data = a
            .data
            .as_deref()
            .map(|d| literal_or_file("-d", d).map(Bytes::from))
            .transpose()?;
        let method = match (&a.method, a.head, &data) {
            (Some(m), _, _) => m
                .parse()
                .map_err(|_| format!("-X {m:?}: not an HTTP method"))?,
            (None, true, _) => Method::HEAD,
            (None, false, Some(_)) => Method::POST,
            (None, false, None) => Method::GET,
        };
        let write_out = a
            .write_out
            .as_deref()
            .map(|f| literal_or_file("-w", f).map(|b| String::from_utf8_lossy(&b).into_owned()))
            .transpose()?;
        let proxy = a
            .proxy
            .as_deref()
            .map(|p| {
                let shown = httptrace::redact_url(p);
                let uri: http::Uri = p.parse().map_err(|e| format!("-x {shown:?}: {e}"))?;
                match (uri.scheme_str(), uri.host()) {
                    (Some("http"), Some(_)) => Ok(uri),
                    _ => Err(format!("-x {shown:?}: expected http://HOST:PORT")),
                }
            })
            .transpose()?;
        let colour = match a.color.as_str() {
            "always" => Colour::On,
            "auto" if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() => {
                Colour::On
            }
            _ => Colour::Off,
        };
        if a.repeat == 0 {
            return Err("--repeat 0: nothing to send".to_owned());
        }
        let output = if a.json {
            Output::Json
        } else if a.events {
            Output::Events
        } else if a.timeline {
            Output::Timeline
        } else {
            Output::Waterfall
        };
        Ok(Options {
            urls: a.urls,
            output,
            write_out,
            body_to: a.output,
            colour,
            read_body: !a.no_read && !a.head,
            reveal_sensitive: a.reveal_sensitive,
            method,
            headers,
            data,
            follow: a.location.then_some(a.max_redirs),
            insecure: a.insecure,
            cacert: a.cacert,
            family: match (a.ipv4, a.ipv6) {
                (true, _) => Family::V4,
                (_, true) => Family::V6,
                _ => Family::Any,
            },
            resolve: a
                .resolve
                .iter()
                .map(|r| resolve_entry(r))
                .collect::<Result<_, _>>()?,
            connect_to: a
                .connect_to
                .iter()
                .map(|c| connect_to_entry(c))
                .collect::<Result<_, _>>()?,
            max_time: seconds("-m", a.max_time)?,
            connect_timeout: seconds("--connect-timeout", a.connect_timeout)?,
            proxy,
            protocol: if a.http1_1 {
                Protocol::Http1
            } else if a.http2 {
                Protocol::Http2
            } else {
                Protocol::Either
            },
            many: a.repeat > 1 || a.concurrency > 1,
            silent: a.silent,
            show_error: a.show_error,
            fail: a.fail,
            retry: a.retry,
            retry_delay: seconds("--retry-delay", a.retry_delay)?.filter(|d| !d.is_zero()),
            retry_max_time: seconds("--retry-max-time", a.retry_max_time)?.filter(|d| !d.is_zero()),
            referer: a.referer.clone(),
            certs: a.certs,
            repeat: a.repeat,
            concurrency: a.concurrency,
        })
    }
}

/// Standard base64 with padding (RFC 4648), for `-u`'s Basic credentials.
fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_rfc_4648_base64() {
        assert_eq!(base64(b"user:pa55word"), "dXNlcjpwYTU1d29yZA==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    #[test]
    fn resolve_and_connect_to_entries_parse_or_say_why() {
        let e = resolve_entry("Example.test:443:127.0.0.1,[::1]").unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.addrs.len()),
            ("example.test", 443, 2)
        );
        assert!(resolve_entry("example.test:443").is_err());
        assert!(resolve_entry("example.test:x:127.0.0.1").is_err());
        let c = connect_to_entry("a.test:443:127.0.0.1:8443").unwrap();
        assert_eq!(c.to, ("127.0.0.1".to_owned(), 8443));
        assert!(connect_to_entry("a.test:443").is_err());
    }
}
