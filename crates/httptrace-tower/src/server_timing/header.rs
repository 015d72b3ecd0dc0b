//! The `Server-Timing` value (W3C Server Timing) of what a sink collected.

use std::fmt::Write;
use std::time::Duration;

use http::HeaderValue;

use super::options::CallDescriptions;
use crate::state::timings_sink::Calls;

/// The handler's own metrics first (`db;dur=12.000;desc="the stock query"`), then for each
/// outbound request, numbered from 1 in the order they started, its total (once its
/// response body has ended) and each of its phases ([`httptrace::Phase::key`]), in
/// milliseconds: `up1;dur=12.345, up1-dns;dur=0.120, up1-connect;dur=0.310, ...`, the total
/// described as `desc="GET api.test:443"` only with
/// [`CallDescriptions::MethodAndDestination`]; past the sink's bounds,
/// `more;desc="N more metrics"` and `up-more;desc="N more calls"`. `None` when there was
/// nothing.
pub(crate) fn server_timing(calls: &Calls, descriptions: CallDescriptions) -> Option<HeaderValue> {
    if calls.kept.is_empty() && calls.own.is_empty() {
        return None;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut entries: Vec<String> = Vec::new();
    for metric in &calls.own {
        let mut entry = metric.name.clone();
        if let Some(took) = metric.duration {
            let _ = write!(entry, ";dur={:.3}", ms(took));
        }
        if let Some(text) = &metric.description {
            let _ = write!(entry, ";desc=\"{}\"", quoted(text));
        }
        entries.push(entry);
    }
    if calls.more_own > 0 {
        entries.push(format!("more;desc=\"{} more metrics\"", calls.more_own));
    }
    for (i, call) in calls.kept.iter().enumerate() {
        let n = i + 1;
        let timings = call.recorder.timings();
        let mut entry = format!("up{n}");
        if let Some(total) = timings.total() {
            let _ = write!(entry, ";dur={:.3}", ms(total));
        }
        if descriptions == CallDescriptions::MethodAndDestination {
            // A method and a `GetConn` host:port hold no quote or backslash.
            let _ = write!(entry, ";desc=\"{} {}\"", call.method, call.host_port);
        }
        entries.push(entry);
        for (phase, took) in timings.phases() {
            entries.push(format!("up{n}-{};dur={:.3}", phase.key(), ms(took)));
        }
    }
    if calls.more > 0 {
        entries.push(format!("up-more;desc=\"{} more calls\"", calls.more));
    }
    HeaderValue::from_str(&entries.join(", ")).ok()
}

/// `text` (printable ASCII) as the inside of a quoted-string.
fn quoted(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::Method;
    use httptrace::TimingsRecorder;

    use super::*;
    use crate::server_timing::{Metric, ServerTimingMetrics};
    use crate::state::timings_sink::{TimingsSink, MAX_CALLS};

    fn names(value: &str) -> Vec<&str> {
        value
            .split(", ")
            .map(|m| m.split(';').next().unwrap())
            .collect()
    }

    /// A handler that makes many calls: the first `MAX_CALLS` are reported, the rest counted.
    #[test]
    fn calls_past_the_bound_are_counted_not_listed() {
        let sink = TimingsSink::default();
        for _ in 0..MAX_CALLS + 8 {
            sink.collect(Method::GET, "api.test:443", TimingsRecorder::new());
        }
        let value = server_timing(&sink.take(), CallDescriptions::None).unwrap();
        let value = value.to_str().unwrap();
        let mut expected: Vec<String> = (1..=MAX_CALLS).map(|n| format!("up{n}")).collect();
        expected.push("up-more".to_owned());
        assert_eq!(names(value), expected, "{value}");
        assert!(value.ends_with("up-more;desc=\"8 more calls\""), "{value}");
        assert!(!value.contains("api.test"), "{value}");
        assert!(
            server_timing(&sink.take(), CallDescriptions::None).is_none(),
            "the sink kept nothing"
        );
    }

    /// A handler's own metrics come first, quoted and bounded; the calls' descriptions only
    /// when asked for.
    #[test]
    fn own_metrics_come_first_quoted_and_bounded() {
        let sink = Arc::new(TimingsSink::default());
        let metrics = ServerTimingMetrics::reported(sink.clone());
        let db = Metric::new("db")
            .unwrap()
            .duration(Duration::from_micros(12_500));
        metrics.add(db.description("say \"hi\" \\ caf\u{e9}\r\n"));
        for _ in 0..MAX_CALLS {
            metrics.add(Metric::new("cache-hit").unwrap());
        }
        sink.collect(Method::GET, "api.test:443", TimingsRecorder::new());
        let value = server_timing(&sink.take(), CallDescriptions::MethodAndDestination).unwrap();
        let value = value.to_str().unwrap();
        let mut expected = vec!["db"];
        expected.extend(std::iter::repeat_n("cache-hit", MAX_CALLS - 1));
        expected.extend(["more", "up1"]);
        assert_eq!(names(value), expected, "{value}");
        assert!(
            value.starts_with(r#"db;dur=12.500;desc="say \"hi\" \\ caf???", cache-hit, "#),
            "{value}"
        );
        assert!(value.contains(r#"more;desc="1 more metrics""#), "{value}");
        assert!(value.ends_with(r#"up1;desc="GET api.test:443""#), "{value}");
    }

    #[test]
    fn a_metric_name_must_be_a_token() {
        for bad in [
            "",
            "a b",
            "a;b",
            "a,b",
            "\"a\"",
            "caf\u{e9}",
            &"x".repeat(65),
        ] {
            assert!(Metric::new(bad).is_err(), "{bad:?}");
        }
        for good in ["db", "x".repeat(64).as_str(), "a.b-c_d~e|f"] {
            assert!(Metric::new(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn a_withheld_answer_keeps_nothing() {
        let metrics = ServerTimingMetrics::withheld();
        metrics.add(Metric::new("db").unwrap());
        assert!(!metrics.is_reported());
    }
}
