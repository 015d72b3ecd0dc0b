//! The `Server-Timing` value (W3C Server Timing) of the outbound requests collected.

use std::fmt::Write;

use http::HeaderValue;

use crate::state::timings_sink::Collected;

/// `up1;dur=12.345;desc="GET api.test:443", up1-dns;dur=0.120, up1-connect;dur=0.310, ...`:
/// for each outbound request, numbered from 1 in the order they started, its total (once its
/// response body has ended) and each of its phases ([`httptrace::Phase::key`]), in
/// milliseconds. `None` when there was none.
pub(crate) fn server_timing(calls: &[Collected]) -> Option<HeaderValue> {
    if calls.is_empty() {
        return None;
    }
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let mut value = String::new();
    for (i, call) in calls.iter().enumerate() {
        let n = i + 1;
        let timings = call.recorder.timings();
        if !value.is_empty() {
            value.push_str(", ");
        }
        let _ = write!(value, "up{n}");
        if let Some(total) = timings.total().filter(|_| timings.is_complete()) {
            let _ = write!(value, ";dur={:.3}", ms(total));
        }
        // A method and a `GetConn` host:port hold no quote or backslash.
        let _ = write!(value, ";desc=\"{} {}\"", call.method, call.host_port);
        for (phase, took) in timings.phases() {
            let _ = write!(value, ", up{n}-{};dur={:.3}", phase.key(), ms(took));
        }
    }
    HeaderValue::from_str(&value).ok()
}
