//! The `Server-Timing` value (W3C Server Timing) of the outbound requests collected.

use std::fmt::Write;

use http::HeaderValue;

use crate::state::timings_sink::Calls;

/// `up1;dur=12.345;desc="GET api.test:443", up1-dns;dur=0.120, up1-connect;dur=0.310, ...`:
/// for each outbound request, numbered from 1 in the order they started, its total (once its
/// response body has ended) and each of its phases ([`httptrace::Phase::key`]), in
/// milliseconds; past the sink's bound, `up-more;desc="N more calls"`. `None` when there
/// was none.
pub(crate) fn server_timing(calls: &Calls) -> Option<HeaderValue> {
    if calls.kept.is_empty() {
        return None;
    }
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let mut value = String::new();
    for (i, call) in calls.kept.iter().enumerate() {
        let n = i + 1;
        let timings = call.recorder.timings();
        if !value.is_empty() {
            value.push_str(", ");
        }
        let _ = write!(value, "up{n}");
        if let Some(total) = timings.total() {
            let _ = write!(value, ";dur={:.3}", ms(total));
        }
        // A method and a `GetConn` host:port hold no quote or backslash.
        let _ = write!(value, ";desc=\"{} {}\"", call.method, call.host_port);
        for (phase, took) in timings.phases() {
            let _ = write!(value, ", up{n}-{};dur={:.3}", phase.key(), ms(took));
        }
    }
    if calls.more > 0 {
        let _ = write!(value, ", up-more;desc=\"{} more calls\"", calls.more);
    }
    HeaderValue::from_str(&value).ok()
}

#[cfg(test)]
mod tests {
    use http::Method;
    use httptrace::TimingsRecorder;

    use super::*;
    use crate::state::timings_sink::{TimingsSink, MAX_CALLS};

    /// A handler that makes many calls: the first `MAX_CALLS` are reported, the rest counted.
    #[test]
    fn calls_past_the_bound_are_counted_not_listed() {
        let sink = TimingsSink::default();
        for _ in 0..MAX_CALLS + 8 {
            sink.collect(Method::GET, "api.test:443", TimingsRecorder::new());
        }
        let value = server_timing(&sink.take()).unwrap();
        let value = value.to_str().unwrap();
        let names: Vec<&str> = value
            .split(", ")
            .map(|m| m.split(';').next().unwrap())
            .collect();
        let mut expected: Vec<String> = (1..=MAX_CALLS).map(|n| format!("up{n}")).collect();
        expected.push("up-more".to_owned());
        assert_eq!(names, expected, "{value}");
        assert!(value.ends_with("up-more;desc=\"8 more calls\""), "{value}");
        assert!(
            server_timing(&sink.take()).is_none(),
            "the sink kept nothing"
        );
    }
}
