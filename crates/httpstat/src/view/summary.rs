//! After `--repeat` / `--concurrency`: each phase's spread over the run, reuse counted, and
//! a histogram of the totals drawn in the terminal.

use std::fmt::Write as _;
use std::time::Duration;

use httptrace::{Phase, Timings};
use httptrace_tower::{ClosedBy, DestinationStats};
use serde_json::{json, Value};

use super::waterfall::millis;
use crate::exchange::Exchange;

/// The phases summarised, as the waterfall names them.
const ROWS: [&str; 6] = [
    "DNS Lookup",
    "TCP Connection",
    "TLS Handshake",
    "Server Processing",
    "Content Transfer",
    "Total",
];

fn row_of(phase: Phase) -> Option<usize> {
    Some(match phase {
        Phase::Dns => 0,
        Phase::Connect => 1,
        Phase::Tls => 2,
        Phase::Send | Phase::Wait => 3,
        Phase::Receive => 4,
        _ => return None,
    })
}

/// The value at quantile `q` of sorted `values` (nearest rank).
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The run's figures: per row, each request's duration (phases a request lacked are not
/// counted for that row).
pub(crate) struct Summary {
    rows: Vec<Vec<Duration>>,
    pub(crate) requests: usize,
    pub(crate) failed: usize,
    pub(crate) reused: usize,
    pub(crate) fresh: usize,
    /// The client's connection counters per destination at the end of the run.
    connections: Vec<DestinationStats>,
}

impl Summary {
    pub(crate) fn of(exchanges: &[Exchange]) -> Self {
        let mut rows = vec![Vec::new(); ROWS.len()];
        let (mut failed, mut reused, mut fresh) = (0, 0, 0);
        for ex in exchanges {
            let last = ex.last();
            if ex.failed() {
                failed += 1;
            }
            match last.timings.as_ref() {
                Some(t) if t.reused => reused += 1,
                Some(_) => fresh += 1,
                None => {}
            }
            if let Some(t) = last.timings.as_ref().filter(|t| t.is_complete()) {
                let mut per_row = [None::<Duration>; 5];
                for (phase, d) in t.phases() {
                    if let Some(row) = row_of(phase) {
                        *per_row[row].get_or_insert(Duration::ZERO) += d;
                    }
                }
                for (row, d) in per_row.into_iter().enumerate() {
                    if let Some(d) = d {
                        rows[row].push(d);
                    }
                }
                rows[5].extend(t.total());
            }
        }
        for row in &mut rows {
            row.sort_unstable();
        }
        Summary {
            rows,
            requests: exchanges.len(),
            failed,
            reused,
            fresh,
            connections: Vec::new(),
        }
    }

    /// `[min, median, p95, p99, max]` of row `i`, if any request had it.
    fn figures(&self, i: usize) -> Option<[Duration; 5]> {
        let v = &self.rows[i];
        (!v.is_empty()).then(|| {
            [
                v[0],
                quantile(v, 0.5),
                quantile(v, 0.95),
                quantile(v, 0.99),
                v[v.len() - 1],
            ]
        })
    }

    /// With the client's connection counters at the end of the run.
    pub(crate) fn with_connections(mut self, connections: Vec<DestinationStats>) -> Self {
        self.connections = connections;
        self
    }

    /// The client's connections, a line per destination still connected.
    fn connections_text(&self) -> String {
        let mut out = String::new();
        if self.connections.is_empty() {
            return out;
        }
        out.push_str("\nConnections at the end (the client's counters)\n");
        for d in &self.connections {
            let reuse = d
                .reuse_ratio()
                .map_or_else(|| "-".to_owned(), |r| format!("{:.0}%", r * 100.0));
            let _ = writeln!(
                out,
                "  {}: {} open ({} HTTP/2, {} streams open), {} dialled, {} failed, {} requests, {} reused ({reuse}), {} closed",
                d.destination,
                d.open,
                d.http2_open,
                d.http2_streams_open,
                d.dials_made,
                d.dials_failed,
                d.requests,
                d.reused,
                closed(&d.closed),
            );
        }
        out
    }

    /// The summary as a table and a histogram of the totals.
    pub(crate) fn text(&self) -> String {
        let mut out = format!(
            "\n{} requests: {} ok, {} failed; {} on a fresh connection, {} reused\n\n",
            self.requests,
            self.requests - self.failed,
            self.failed,
            self.fresh,
            self.reused
        );
        let _ = writeln!(
            out,
            "{:<18} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "", "count", "min", "median", "p95", "p99", "max"
        );
        for (i, title) in ROWS.iter().enumerate() {
            if let Some(f) = self.figures(i) {
                let _ = writeln!(
                    out,
                    "{title:<18} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}",
                    self.rows[i].len(),
                    millis(f[0]),
                    millis(f[1]),
                    millis(f[2]),
                    millis(f[3]),
                    millis(f[4])
                );
            }
        }
        out.push_str(&self.histogram());
        out.push_str(&self.connections_text());
        out
    }

    /// Ten buckets of the totals from min to max, bars up to 40 wide.
    fn histogram(&self) -> String {
        let totals = &self.rows[5];
        let (Some(min), Some(max)) = (totals.first(), totals.last()) else {
            return String::new();
        };
        let span = (*max - *min).as_secs_f64();
        let mut counts = [0usize; 10];
        for t in totals {
            let at = if span > 0.0 {
                (((*t - *min).as_secs_f64() / span) * 10.0) as usize
            } else {
                0
            };
            counts[at.min(9)] += 1;
        }
        let most = counts.iter().copied().max().unwrap_or(1).max(1);
        let mut out = String::from("\nTotal\n");
        for (i, n) in counts.iter().enumerate() {
            let from = *min + (*max - *min).mul_f64(i as f64 / 10.0);
            let bar = "█".repeat(n * 40 / most);
            let _ = writeln!(out, "{:>10} │{bar} {n}", millis(from));
        }
        out
    }

    /// The summary as one JSON object (milliseconds).
    pub(crate) fn json(&self) -> Value {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let phases: serde_json::Map<String, Value> = ROWS
            .iter()
            .enumerate()
            .filter_map(|(i, title)| {
                let f = self.figures(i)?;
                let key = title.to_ascii_lowercase().replace(' ', "_");
                Some((
                    key,
                    json!({
                        "count": self.rows[i].len(),
                        "min_ms": ms(f[0]), "median_ms": ms(f[1]), "p95_ms": ms(f[2]),
                        "p99_ms": ms(f[3]), "max_ms": ms(f[4]),
                    }),
                ))
            })
            .collect();
        json!({
            "summary": {
                "requests": self.requests,
                "failed": self.failed,
                "fresh": self.fresh,
                "reused": self.reused,
                "phases": phases,
                "connections": self.connections.iter().map(|d| json!({
                    "destination": d.destination,
                    "open": d.open,
                    "http2_open": d.http2_open,
                    "http2_streams_open": d.http2_streams_open,
                    "dials_made": d.dials_made,
                    "dials_failed": d.dials_failed,
                    "requests": d.requests,
                    "reused": d.reused,
                    "closed": closed(&d.closed),
                })).collect::<Vec<_>>(),
            }
        })
    }
}

/// How many connections closed, whatever why.
fn closed(c: &ClosedBy) -> u64 {
    c.server
        + c.idle_timeout
        + c.error
        + c.pool_shutdown
        + c.dropped_unread_body
        + c.not_reusable
        + c.abandoned
        + c.unexplained
}

/// A request's one line in a long run.
pub(crate) fn line(ex: &Exchange, url: &str) -> String {
    let last = ex.last();
    let status = last
        .answer
        .as_ref()
        .map_or_else(|| "---".to_owned(), |a| a.status.as_u16().to_string());
    let how = match last.timings.as_ref() {
        Some(t) if t.reused => "reused",
        Some(_) => "fresh ",
        None => "      ",
    };
    let total = last.timings.as_ref().and_then(Timings::total);
    let total = total.map_or_else(|| "-".to_owned(), millis);
    match &last.error {
        Some(e) => format!(
            "#{:<5} {status} {how} {total:>10}  {url}  error: {e}",
            last.n
        ),
        None => format!("#{:<5} {status} {how} {total:>10}  {url}", last.n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&v, 0.95), Duration::from_millis(95));
        assert_eq!(quantile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&v[..1], 0.99), Duration::from_millis(1));
    }
}
