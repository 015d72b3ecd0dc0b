//! [`ServerTimingMetrics`]: how a handler adds metrics of its own to its answer's
//! `Server-Timing`.

use std::sync::Arc;
use std::time::Duration;

use crate::state::timings_sink::{OwnMetric, TimingsSink};

/// The longest metric name taken, in bytes.
const MAX_NAME: usize = 64;
/// The longest description kept, in bytes; a longer one is cut there.
const MAX_DESCRIPTION: usize = 256;

/// The `Server-Timing` of the answer being made: [`ServerTiming`](super::ServerTiming) puts
/// one in each request's extensions, where the handler finds it (`Extension<ServerTimingMetrics>`
/// in axum), and adds the metrics it is given to the header, before the outbound calls'.
///
/// ```
/// use std::time::Duration;
/// use httptrace_tower::server_timing::{Metric, ServerTimingMetrics};
///
/// fn handler(req: &http::Request<()>) {
///     if let Some(metrics) = req.extensions().get::<ServerTimingMetrics>() {
///         let db = Metric::new("db").unwrap().duration(Duration::from_millis(12));
///         metrics.add(db.description("the stock query"));
///     }
/// }
/// # handler(&http::Request::new(()));
/// ```
#[derive(Clone)]
pub struct ServerTimingMetrics {
    /// `None` when the layer's predicate withheld the header.
    sink: Option<Arc<TimingsSink>>,
}

impl ServerTimingMetrics {
    pub(crate) fn reported(sink: Arc<TimingsSink>) -> Self {
        ServerTimingMetrics { sink: Some(sink) }
    }

    pub(crate) fn withheld() -> Self {
        ServerTimingMetrics { sink: None }
    }

    /// Adds `metric` to the answer's header, after those added before it; past 32 metrics,
    /// they are counted in one `more;desc="N more metrics"`. Nothing when the answer gets no
    /// header.
    pub fn add(&self, metric: Metric) {
        if let Some(sink) = &self.sink {
            sink.add_own(metric.0);
        }
    }

    /// Whether the answer carries the header (the layer's predicate accepted the request).
    pub fn is_reported(&self) -> bool {
        self.sink.is_some()
    }
}

impl std::fmt::Debug for ServerTimingMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTimingMetrics")
            .field("reported", &self.is_reported())
            .finish()
    }
}

/// One `Server-Timing` metric: a name, and optionally a duration and a description.
pub struct Metric(OwnMetric);

impl Metric {
    /// A metric named `name`: an HTTP token (letters, digits and ``!#$%&'*+-.^_`|~``) of at
    /// most 64 bytes.
    pub fn new(name: &str) -> Result<Self, InvalidMetricName> {
        let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
        if name.is_empty() || name.len() > MAX_NAME || !name.bytes().all(is_tchar) {
            return Err(InvalidMetricName { _private: () });
        }
        Ok(Metric(OwnMetric {
            name: name.to_owned(),
            duration: None,
            description: None,
        }))
    }

    /// Its duration (`dur`, written in milliseconds).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.0.duration = Some(duration);
        self
    }

    /// Its description (`desc`): characters outside printable ASCII become `?`, and it is
    /// cut at 256 bytes. Every client that gets the answer reads it.
    pub fn description(mut self, text: &str) -> Self {
        let printable = text
            .chars()
            .take(MAX_DESCRIPTION)
            .map(|c| {
                if c == ' ' || c.is_ascii_graphic() {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        self.0.description = Some(printable);
        self
    }
}

impl std::fmt::Debug for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metric")
            .field("name", &self.0.name)
            .field("duration", &self.0.duration)
            .field("description", &self.0.description)
            .finish()
    }
}

/// A metric name that is not an HTTP token, is empty or is longer than 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMetricName {
    _private: (),
}

impl std::fmt::Display for InvalidMetricName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Server-Timing metric name must be an HTTP token of 1 to 64 bytes")
    }
}

impl std::error::Error for InvalidMetricName {}
