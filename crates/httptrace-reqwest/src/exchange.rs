//! One exchange as reqwest carries it: `GetConn`, the dial's hooks (through [`RequestDial`]
//! in effect while the request is polled), `GotConn`, the first byte, and the response body
//! that reports its end. [`ReqwestTrace`](crate::ReqwestTrace) runs one per request, or
//! [`ReqwestAttempts`](crate::ReqwestAttempts) one per attempt.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Extensions;
use httptrace::wire::{connection_has, protocol_name, returns_to_pool};
use httptrace::{
    ClientTrace, ConnectionInfo, GetConnInfo, GotConnInfo, RequestTraces, TimingsRecorder,
};
use hyper_util::client::legacy::connect::HttpInfo;
use reqwest::ResponseBuilderExt as _;
use reqwest_middleware::Next;

use crate::body::{BodyEnd, ReportingBody};
use crate::connections::Conns;
use crate::dial::{Lent, RequestDial};

/// What an exchange is traced with.
pub(crate) struct Exchange<'a> {
    pub(crate) trace: ClientTrace,
    pub(crate) timings: Option<TimingsRecorder>,
    pub(crate) conns: &'a Arc<Mutex<Conns>>,
    /// `GetConn`'s `host:port`.
    pub(crate) host_port: String,
}

/// Sends `req` on through `next`, its hooks fired as `ex` says.
pub(crate) async fn exchange(
    ex: Exchange<'_>,
    req: reqwest::Request,
    extensions: &mut Extensions,
    next: Next<'_>,
) -> reqwest_middleware::Result<reqwest::Response> {
    let Exchange {
        trace,
        timings,
        conns,
        host_port,
    } = ex;
    // The recorder hears every hook but `GotConn`, which fires here only once the
    // response head is in: it learns the connection without a `request_start`.
    let with_timings = match &timings {
        Some(timings) => RequestTraces::timed(trace.clone(), timings),
        None => trace.clone(),
    };
    let request_close = connection_has(req.headers(), "close");
    if let (Some(timings), Ok(url)) = (&timings, req.url().as_str().parse()) {
        timings.request(req.method().clone(), url);
    }
    with_timings.get_conn(&GetConnInfo::new(host_port));
    let dial = RequestDial::new(with_timings.clone(), req.url());
    let res = Lent::new(next.run(req, extensions), dial.clone()).await?;
    let info = res
        .extensions()
        .get::<HttpInfo>()
        .filter(|_| !dial.has_got_conn());
    if let Some(info) = info {
        let (local, remote) = (info.local_addr(), info.remote_addr());
        let (id, reused) = conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .used((local, remote));
        let conn = ConnectionInfo::new(id, Some(local), Some(remote));
        let got = GotConnInfo::new(conn, reused, reused, Duration::ZERO);
        trace.got_conn(&got);
        if let Some(timings) = &timings {
            timings.connection_learned_late(&got);
        }
    }
    with_timings.got_first_response_byte();

    let url = res.url().clone();
    let res: http::Response<reqwest::Body> = res.into();
    let returns = returns_to_pool(&res, request_close);
    let (mut parts, body) = res.into_parts();
    // reqwest's conversion to `http::Response` drops the URL; it rides back in an
    // extension only `ResponseBuilderExt` can make.
    if let Ok(with_url) = http::Response::builder().url(url).body(()) {
        parts.extensions.extend(with_url.into_parts().0.extensions);
    }
    if let Some(timings) = &timings {
        timings.response(parts.status, protocol_name(parts.version));
        parts.extensions.insert(timings.clone());
    }
    let end = BodyEnd {
        trace,
        timings,
        returns_to_pool: returns,
        bytes: 0,
        reported: false,
    };
    let body = reqwest::Body::wrap(ReportingBody::new(body, end));
    Ok(reqwest::Response::from(http::Response::from_parts(
        parts, body,
    )))
}

/// `host:port` of `url`, as `GetConn` reports it (IPv6 literals in brackets).
pub(crate) fn host_port(url: &reqwest::Url) -> Option<String> {
    // `host_str` keeps an IPv6 literal's brackets.
    Some(format!(
        "{}:{}",
        url.host_str()?,
        url.port_or_known_default()?
    ))
}
