//! [`exchange`]: one request as a user asked for it: its hops (one, or each redirect `-L`
//! follows), each with its events, answer and timings.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Version};
use http_body_util::Full;
use httptrace::{
    with_client_trace, ClientTrace, Event, EventKind, EventLog, Timings, TimingsRecorder,
};

use crate::body::{read_body, BodySink, ReadFailed};
use crate::connect::{Stat, TunnelTimes, VerifyFailed};
use crate::connections::{Before, Connections};
use crate::failure::{chain_text, Failure};
use crate::options::Options;

/// A response's head, and what became of its body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    /// Body bytes read (or written to `-o`); `None` when dropped unread.
    pub(crate) body_bytes: Option<u64>,
}

/// One request on the wire.
#[derive(Debug)]
pub(crate) struct Hop {
    /// The request's number in the run, from 1.
    pub(crate) n: u64,
    pub(crate) url: String,
    pub(crate) method: Method,
    pub(crate) events: Vec<Event>,
    pub(crate) answer: Option<Answer>,
    pub(crate) error: Option<String>,
    /// Why it failed, as curl numbers it.
    pub(crate) failure: Option<Failure>,
    pub(crate) timings: Option<Timings>,
    pub(crate) request_body_bytes: u64,
    /// `-k` let an unverified certificate through on this hop's handshake.
    pub(crate) verify_result: u64,
    /// `-x`: how long the CONNECT tunnel took after the proxy's TCP connection.
    pub(crate) tunnel: Option<Duration>,
    /// What was known of its destination's connections when it made a new one.
    pub(crate) before: Option<Before>,
    /// Its TLS handshake was a full one though the run held a session with the server.
    pub(crate) tls_not_resumed: bool,
    /// Its HTTP/2 stream got its place (`Http2StreamOpened`): after how long a wait.
    pub(crate) stream_opened: Option<httptrace::Http2StreamOpenedInfo>,
}

impl Hop {
    /// The connection this hop went over: its id, local and remote addresses.
    pub(crate) fn conn(&self) -> Option<&httptrace::ConnectionInfo> {
        self.events.iter().find_map(|e| match &e.kind {
            EventKind::GotConn(i) => Some(&i.conn),
            _ => None,
        })
    }

    /// The chain its connection's TLS handshake presented (empty: no handshake in this hop).
    pub(crate) fn peer_chain(&self) -> &[Vec<u8>] {
        self.events
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::TlsHandshakeDone(i) => Some(&i.state.peer_certificates[..]),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// `GetConn`'s `host:port`: where it asked for a connection.
    pub(crate) fn destination(&self) -> Option<String> {
        self.events.iter().find_map(|e| match &e.kind {
            EventKind::GetConn(i) => Some(i.host_port.to_string()),
            _ => None,
        })
    }

    /// Whether it made a connection of its own (not reused).
    pub(crate) fn connected(&self) -> bool {
        self.events.iter().any(|e| match &e.kind {
            EventKind::GotConn(i) => !i.reused,
            _ => false,
        })
    }
}

/// A request and the redirects followed from it.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub(crate) hops: Vec<Hop>,
    /// From the first hop's start to the last one's end.
    pub(crate) total: Duration,
    /// The URL as given, and its place among the run's URLs (from 0).
    pub(crate) url: String,
    pub(crate) urlnum: usize,
    /// Why it failed, as curl numbers it: the last hop's failure, or `-f`'s or `-L`'s.
    pub(crate) failure: Option<Failure>,
    /// `--retry`: the attempts made before this one.
    pub(crate) retries: u32,
}

impl Exchange {
    pub(crate) fn last(&self) -> &Hop {
        self.hops.last().expect("an exchange has a hop")
    }

    pub(crate) fn failed(&self) -> bool {
        self.failure.is_some()
    }

    /// Where the last answer redirects to, followed or not (curl's `redirect_url`).
    pub(crate) fn redirect_url(&self) -> Option<String> {
        let last = self.last();
        let answer = last.answer.as_ref()?;
        if !matches!(answer.status.as_u16(), 301 | 302 | 303 | 307 | 308) {
            return None;
        }
        let location = answer.headers.get(http::header::LOCATION)?.to_str().ok()?;
        resolve_location(&last.url.parse().ok()?, location)
    }

    /// Whether `--retry` may try again: a timeout, or an answer curl calls transient.
    pub(crate) fn is_transient(&self) -> bool {
        if self.failure.as_ref().is_some_and(Failure::is_transient) {
            return true;
        }
        let status = self.last().answer.as_ref().map(|a| a.status.as_u16());
        matches!(status, Some(408 | 429 | 500 | 502 | 503 | 504))
    }
}

/// Where `location` points from `base` (absolute, scheme-relative, absolute-path or
/// relative-path references).
fn resolve_location(base: &http::Uri, location: &str) -> Option<String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Some(location.to_owned());
    }
    let scheme = base.scheme_str()?;
    let authority = base.authority()?.as_str();
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{scheme}://{rest}"));
    }
    if location.starts_with('/') {
        return Some(format!("{scheme}://{authority}{location}"));
    }
    let path = base.path();
    let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    Some(format!("{scheme}://{authority}{dir}{location}"))
}

/// The next hop of a redirect, if `-L` follows it: its URL and method.
fn next_hop(hop: &Hop, from: &http::Uri) -> Option<(String, Method)> {
    let answer = hop.answer.as_ref()?;
    let method = match answer.status.as_u16() {
        303 if hop.method != Method::HEAD => Method::GET,
        301 | 302 if hop.method == Method::POST => Method::GET,
        301 | 302 | 303 | 307 | 308 => hop.method.clone(),
        _ => return None,
    };
    let location = answer.headers.get(http::header::LOCATION)?.to_str().ok()?;
    Some((resolve_location(from, location)?, method))
}

/// The run's shared parts an exchange uses.
pub(crate) struct Sender<'a> {
    pub(crate) options: &'a Options,
    pub(crate) client: &'a Stat,
    pub(crate) verify_failed: &'a Arc<VerifyFailed>,
    pub(crate) tunnels: &'a Arc<TunnelTimes>,
    /// `-o`: every body goes there, one after another.
    pub(crate) body_to: Option<&'a tokio::sync::Mutex<BodySink>>,
    /// The live line on a terminal, told of each hop.
    pub(crate) progress: Option<&'a crate::view::progress::Progress>,
    /// What the run learned of its connections.
    pub(crate) connections: &'a Arc<Connections>,
}

impl Sender<'_> {
    /// Sends `url`, the run's URL number `urlnum` (and, with `-L`, the redirects from it), as
    /// request number `n`.
    pub(crate) async fn exchange(&self, url: &str, urlnum: usize, n: u64) -> Exchange {
        let o = self.options;
        let started = Instant::now();
        let mut hops = Vec::new();
        let input = url.to_owned();
        let mut failure = None;
        if let Err(why) = crate::options::check_url(url) {
            let mut hop = Hop::unsent(n, url, o.method.clone());
            hop.error = Some(why.clone());
            return Exchange {
                hops: vec![hop],
                total: Duration::ZERO,
                url: input,
                urlnum,
                failure: Some(Failure::bad_url(&why)),
                retries: 0,
            };
        }
        let mut url = url.to_owned();
        let mut method = o.method.clone();
        let mut body = o.data.clone();
        let mut headers = o.headers.clone();
        loop {
            let hop = self
                .hop(&url, method.clone(), &headers, body.clone(), n)
                .await;
            let from: http::Uri = url.parse().expect("checked before it was sent");
            let next = match o.follow {
                Some(max) => next_hop(&hop, &from).filter(|_| {
                    let within = hops.len() < max as usize;
                    if !within {
                        failure = Some(Failure::too_many_redirects(max));
                    }
                    within
                }),
                None => None,
            };
            let failed = hop.failure.clone();
            hops.push(hop);
            if failed.is_some() {
                failure = failed;
                break;
            }
            let Some((next_url, next_method)) = next else {
                break;
            };
            if next_method != method {
                body = None;
            }
            let next_uri: Option<http::Uri> = next_url.parse().ok();
            if next_uri.as_ref().and_then(http::Uri::host) != from.host() {
                // As curl: credentials stay with the host they were given for.
                headers.retain(|(name, _)| {
                    name != http::header::AUTHORIZATION && name != http::header::COOKIE
                });
            }
            if next_uri.is_none() || crate::options::check_url(&next_url).is_err() {
                break;
            }
            url = next_url;
            method = next_method;
        }
        Exchange {
            hops,
            total: started.elapsed(),
            url: input,
            urlnum,
            failure,
            retries: 0,
        }
    }

    async fn hop(
        &self,
        url: &str,
        method: Method,
        headers: &[(HeaderName, HeaderValue)],
        body: Option<Bytes>,
        n: u64,
    ) -> Hop {
        let o = self.options;
        let log = EventLog::new();
        let mut hop = Hop {
            request_body_bytes: body.as_ref().map_or(0, |b| b.len() as u64),
            ..Hop::unsent(n, url, method.clone())
        };
        let mut req = Request::builder().method(method).uri(url);
        for (name, value) in headers {
            req = req.header(name, value);
        }
        let mut req = match req.body(Full::new(body.unwrap_or_default())) {
            Ok(req) => req,
            Err(e) => {
                hop.error = Some(format!("bad request: {e}"));
                hop.failure = Some(Failure::bad_url(&format!("bad request: {e}")));
                return hop;
            }
        };
        // Go's hooks only: `--events` is Go's event-log format. The timeline shows the HTTP/2
        // stream's place and reset too.
        let trace = if o.output == crate::options::Output::Timeline {
            log.http2_stream_trace().compose(&log.trace())
        } else {
            log.trace()
        };
        let opened = Arc::new(std::sync::Mutex::new(None));
        let signals = {
            let opened = opened.clone();
            ClientTrace::new().on_http2_stream_opened(move |info| {
                *opened.lock().unwrap_or_else(|e| e.into_inner()) = Some(info.clone());
            })
        };
        let trace = trace.compose(&signals).compose(&self.connections.trace());
        with_client_trace(&mut req, trace);
        log.request(n.saturating_sub(1));
        if let Some(progress) = self.progress {
            progress.begin(n, &log, &crate::redaction().url(url));
        }
        let received = std::sync::atomic::AtomicU64::new(0);
        let send = async {
            let res = self
                .client
                .request(req)
                .await
                .map_err(|e| Failed::Request(e.into()))?;
            let (parts, body) = res.into_parts();
            let recorder = parts.extensions.get::<TimingsRecorder>().cloned();
            // `-f`: an error status's body is not read (curl writes none of it).
            let fails = o.fail && parts.status.as_u16() >= 400;
            let read = if o.read_body && !fails {
                read_body(body, self.body_to, &received).await.map(Some)
            } else {
                drop(body);
                Ok(None)
            };
            Ok::<_, Failed>((parts, recorder, read))
        };
        let outcome = match o.max_time {
            Some(limit) => tokio::time::timeout(limit, send)
                .await
                .unwrap_or(Err(Failed::MaxTime(limit))),
            None => send.await,
        };
        let (host, port) = host_port(url);
        match outcome {
            Ok((parts, recorder, read)) => {
                log.response(parts.status.as_u16(), format!("{:?}", parts.version));
                hop.timings = recorder.map(|r| r.timings());
                if let Err(e) = &read {
                    hop.error = Some(e.to_string());
                }
                if o.fail && parts.status.as_u16() >= 400 {
                    hop.failure = Some(Failure::http_error(parts.status));
                }
                hop.answer = Some(Answer {
                    status: parts.status,
                    version: parts.version,
                    headers: parts.headers,
                    body_bytes: read.as_ref().ok().copied().flatten(),
                });
                if let Err(e) = read {
                    hop.failure = Some(match e {
                        ReadFailed::Body(e) => Failure::of_error(&*e, &log.events(), &host, port),
                        ReadFailed::Write(e) => Failure::write_failed(&e),
                    });
                }
            }
            Err(Failed::Request(e)) => {
                let text = chain_text(&*e);
                log.error(&text);
                hop.failure = Some(Failure::of_error(&*e, &log.events(), &host, port));
                hop.error = Some(text);
            }
            Err(Failed::MaxTime(limit)) => {
                let text = format!("timed out after {}", seconds(limit));
                log.error(&text);
                let got = received.load(std::sync::atomic::Ordering::Relaxed);
                hop.failure = Some(Failure::max_time(limit, got, &log.events()));
                hop.error = Some(text);
            }
        }
        if let (Some(f), None) = (&hop.failure, &hop.error) {
            hop.error = Some(f.message.clone());
        }
        if let Some(progress) = self.progress {
            progress.end(n, hop.failure.is_some());
        }
        // hyper-util puts a connection back in its pool from a task of its own, after the
        // body's end, and a dial that lost to a pooled connection finishes in the
        // background: a short grace lets both land before the events are taken and the
        // next request asks for a connection (the tool's pace, not its measurements).
        tokio::time::sleep(Duration::from_millis(5)).await;
        hop.events = log.take();
        (hop.before, hop.tls_not_resumed) =
            self.connections.hop_done(hop.destination(), &hop.events);
        hop.stream_opened = opened.lock().unwrap_or_else(|e| e.into_inner()).take();
        let handshake_cert = hop.events.iter().find_map(|e| match &e.kind {
            EventKind::TlsHandshakeDone(i) => i.state.peer_certificates.first().cloned(),
            _ => None,
        });
        if let Some(conn) = hop.conn().map(|c| c.id.as_u64()) {
            hop.verify_result = self.verify_failed.verdict(conn, handshake_cert.as_deref());
        }
        let local = hop.conn().and_then(|c| c.local_addr);
        let up = local.and_then(|local| self.tunnels.take(local));
        let connected = hop.timings.as_ref().and_then(|t| t.connect_end);
        hop.tunnel = up
            .zip(connected)
            .map(|(up, at)| up.saturating_duration_since(at));
        hop
    }
}

/// Why a hop's request failed before its body was read.
enum Failed {
    Request(httptrace::BoxError),
    MaxTime(Duration),
}

/// The host and port `url` names (its scheme's port when it names none).
fn host_port(url: &str) -> (String, u16) {
    let uri: Option<http::Uri> = url.parse().ok();
    let host = uri
        .as_ref()
        .and_then(http::Uri::host)
        .unwrap_or_default()
        .to_owned();
    let port = uri.as_ref().and_then(http::Uri::port_u16).unwrap_or(
        if uri.as_ref().and_then(http::Uri::scheme_str) == Some("https") {
            443
        } else {
            80
        },
    );
    (host, port)
}

impl Hop {
    /// A hop of request `n` to `url` before anything of it is sent.
    pub(crate) fn unsent(n: u64, url: &str, method: Method) -> Hop {
        Hop {
            n,
            url: url.to_owned(),
            method,
            events: Vec::new(),
            answer: None,
            error: None,
            failure: None,
            timings: None,
            request_body_bytes: 0,
            verify_result: 0,
            tunnel: None,
            before: None,
            tls_not_resumed: false,
            stream_opened: None,
        }
    }
}

/// `d` as curl prints seconds: microsecond digits.
pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.6}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_resolve_as_browsers_do() {
        let base: http::Uri = "http://a.test:8080/dir/page?q=1".parse().unwrap();
        let at = |l| resolve_location(&base, l).unwrap();
        assert_eq!(at("https://b.test/x"), "https://b.test/x");
        assert_eq!(at("//c.test/y"), "http://c.test/y");
        assert_eq!(at("/root"), "http://a.test:8080/root");
        assert_eq!(at("next"), "http://a.test:8080/dir/next");
    }
}
