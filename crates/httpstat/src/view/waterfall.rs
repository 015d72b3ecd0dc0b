//! The default output: for each request, how its connection was got, the status line and
//! headers, and a waterfall of its phases with curl's cumulative marks under them, as Go's
//! and Python's httpstat draw it.

use std::fmt::Write as _;
use std::time::Duration;

use http::{HeaderMap, StatusCode, Version};
use httptrace::{Phase, Timings};

/// Whether to colour the output (ANSI), decided once from `--color` and the terminal.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Colour {
    On,
    Off,
}

impl Colour {
    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Colour::On => format!("\x1b[{code}m{text}\x1b[0m"),
            Colour::Off => text.to_owned(),
        }
    }
    fn value(self, text: &str) -> String {
        self.paint("36", text)
    }
    fn good(self, text: &str) -> String {
        self.paint("32", text)
    }
    fn dim(self, text: &str) -> String {
        self.paint("90", text)
    }
}

/// A duration as httpstat prints it: hundredths of a millisecond below 100 ms.
pub(crate) fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 100.0 {
        format!("{ms:.2}ms")
    } else {
        format!("{ms:.0}ms")
    }
}

/// One column of the waterfall: a title, its duration, and the name of the cumulative mark
/// at its end.
struct Column {
    title: &'static str,
    took: Duration,
    mark: &'static str,
}

/// The columns of `t`: the phases that happened, with writing the request and waiting for
/// the answer merged into "Server Processing" (as Go's httpstat counts it, from having the
/// connection to the first byte).
fn columns(t: &Timings) -> Vec<Column> {
    let mut out: Vec<Column> = Vec::new();
    for (phase, took) in t.phases() {
        let (title, mark) = match phase {
            Phase::Queue => ("Queue", "queue"),
            Phase::Dns => ("DNS Lookup", "namelookup"),
            Phase::Connect => ("TCP Connection", "connect"),
            Phase::Tls => ("TLS Handshake", "appconnect"),
            Phase::Send | Phase::Wait => ("Server Processing", "starttransfer"),
            Phase::Receive => ("Content Transfer", "total"),
            _ => continue,
        };
        match out.last_mut() {
            Some(last) if last.title == title => last.took += took,
            _ => out.push(Column { title, took, mark }),
        }
    }
    out
}

/// The waterfall of `t`, with a newline after each line; `tunnel`: how long `-x`'s CONNECT
/// took after the proxy's TCP connection, shown as its own column (out of the next one).
pub(crate) fn waterfall(t: &Timings, tunnel: Option<Duration>, colour: Colour) -> String {
    let mut cols = columns(t);
    if let (Some(took), Some(at)) = (
        tunnel,
        cols.iter().position(|c| c.title == "TCP Connection"),
    ) {
        if let Some(next) = cols.get_mut(at + 1) {
            next.took = next.took.saturating_sub(took);
        }
        let column = Column {
            title: "Proxy Tunnel",
            took,
            mark: "tunnel",
        };
        cols.insert(at + 1, column);
    }
    let values: Vec<String> = cols.iter().map(|c| millis(c.took)).collect();
    let widths: Vec<usize> = cols
        .iter()
        .zip(&values)
        .map(|(c, v)| c.title.len().max(v.len()) + 4)
        .collect();
    // The column of the bar closing column `i`.
    let ends: Vec<usize> = widths
        .iter()
        .scan(0, |at, w| {
            *at += w + 1;
            Some(*at)
        })
        .collect();
    let mut out = String::new();

    out.push(' ');
    for (c, w) in cols.iter().zip(&widths) {
        let _ = write!(out, "{:^w$} ", c.title);
    }
    out.truncate(out.trim_end().len());
    out.push('\n');

    out.push('[');
    for (i, (v, w)) in values.iter().zip(&widths).enumerate() {
        let cell = format!("{v:^w$}");
        // Colour the value, not its padding.
        out.push_str(&cell.replace(v.as_str(), &colour.value(v)));
        out.push(if i + 1 == cols.len() { ']' } else { '|' });
    }
    out.push('\n');

    let bars = |from: usize| {
        let mut line = String::new();
        for &end in &ends[from..] {
            let pad = end + 1 - line.chars().count();
            let _ = write!(line, "{:>pad$}", "|");
        }
        line
    };
    out.push_str(&bars(0));
    out.push('\n');

    let mut cumulative = Duration::ZERO;
    for (i, c) in cols.iter().enumerate() {
        cumulative += c.took;
        let text = format!("{}:{}", c.mark, millis(cumulative));
        let start = (ends[i] + 1).saturating_sub(text.len());
        let mut line = " ".repeat(start);
        line.push_str(&format!("{}:{}", c.mark, colour.value(&millis(cumulative))));
        let mut visible = start + text.len();
        for &end in &ends[i + 1..] {
            let pad = (end + 1).saturating_sub(visible).max(1);
            let _ = write!(line, "{:>pad$}", "|");
            visible += pad;
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The line that says how the request got its connection.
pub(crate) fn connection_line(t: &Timings, conn_id: Option<u64>, colour: Colour) -> String {
    let to = t
        .remote_addr
        .map_or_else(|| "?".to_owned(), |a| a.to_string());
    let id = conn_id.map_or_else(String::new, |id| format!(" #{id}"));
    if t.reused {
        format!(
            "Reused connection{id} to {} (idle for {})",
            colour.value(&to),
            millis(t.idle_time)
        )
    } else {
        format!("Connected{id} to {}", colour.value(&to))
    }
}

/// The status line and the response headers, sensitive values redacted.
pub(crate) fn head(
    version: Version,
    status: StatusCode,
    headers: &HeaderMap,
    colour: Colour,
) -> String {
    let version = match version {
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_11 => "HTTP/1.1",
        Version::HTTP_2 => "HTTP/2",
        Version::HTTP_3 => "HTTP/3",
        _ => "HTTP",
    };
    let mut out = format!(
        "{} {}\n",
        colour.good(version),
        colour.value(&status.to_string())
    );
    for (name, value) in headers {
        let value = crate::view::timeline::shown(name.as_str(), value);
        let _ = writeln!(
            out,
            "{}: {}",
            colour.dim(name.as_str()),
            colour.value(&value)
        );
    }
    out
}

/// The server's own account of its time (`Server-Timing`), under the waterfall: one line per
/// metric, or nothing when the server sent none.
pub(crate) fn server_timing(headers: &HeaderMap, colour: Colour) -> String {
    let (metrics, more) = super::server_timing::metrics(headers);
    if metrics.is_empty() {
        return String::new();
    }
    let mut out = String::from("Server Processing, as the server tells it (Server-Timing):\n");
    for m in metrics {
        let dur = m
            .millis
            .map(|ms| colour.value(&millis(Duration::from_secs_f64(ms.max(0.0) / 1000.0))));
        let _ = write!(out, "  {:<16} {:>10}", m.name, dur.unwrap_or_default());
        if let Some(desc) = &m.desc {
            let _ = write!(out, "  {}", colour.dim(desc));
        }
        out.push('\n');
    }
    if more > 0 {
        let _ = writeln!(out, "  ... and {more} more");
    }
    out
}

/// Sizes each way and the download speed, as reorx/httpstat shows them.
pub(crate) fn sizes(
    sent_head: u64,
    sent_body: u64,
    got_head: u64,
    got_body: Option<u64>,
    transfer: Option<Duration>,
) -> String {
    let mut out =
        format!("Sent {sent_head} B head, {sent_body} B body; received {got_head} B head");
    match got_body {
        Some(n) => {
            let _ = write!(out, ", {n} B body");
            if let Some(t) = transfer.filter(|t| !t.is_zero()) {
                let kib_s = n as f64 / 1024.0 / t.as_secs_f64();
                let _ = write!(out, " at {kib_s:.1} KiB/s");
            }
        }
        None => out.push_str(", body unread"),
    }
    out.push('\n');
    out
}
