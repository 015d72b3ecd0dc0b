//! What the server says of its own time: a `Server-Timing` response header read into its
//! metrics (W3C syntax), bounded against a hostile server.

use http::HeaderMap;

/// At most this many metrics are read; the rest are counted.
const MAX_METRICS: usize = 16;
/// A name or description longer than this is cut.
const MAX_TEXT: usize = 64;

/// One metric: `name;dur=12.3;desc="..."`.
#[derive(Debug, PartialEq)]
pub(crate) struct Metric {
    pub(crate) name: String,
    pub(crate) millis: Option<f64>,
    pub(crate) desc: Option<String>,
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}

/// Splits `s` on `sep` outside double quotes.
fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut quoted, mut start) = (false, 0);
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c == sep && !quoted => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The metrics of every `Server-Timing` field of `headers`, and how many more were left out.
pub(crate) fn metrics(headers: &HeaderMap) -> (Vec<Metric>, usize) {
    let mut out = Vec::new();
    let mut more = 0;
    for value in headers.get_all("server-timing") {
        let Ok(value) = value.to_str() else { continue };
        for entry in split_unquoted(value, ',') {
            let mut params = split_unquoted(entry, ';').into_iter();
            let name = params.next().unwrap_or_default().trim();
            if name.is_empty() {
                continue;
            }
            if out.len() == MAX_METRICS {
                more += 1;
                continue;
            }
            let mut metric = Metric {
                name: cut(name),
                millis: None,
                desc: None,
            };
            for param in params {
                let Some((key, val)) = param.split_once('=') else {
                    continue;
                };
                let val = val.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "dur" => metric.millis = val.parse().ok().filter(|d: &f64| d.is_finite()),
                    "desc" => metric.desc = Some(cut(val)),
                    _ => {}
                }
            }
            out.push(metric);
        }
    }
    (out, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_read_with_quotes_and_bounds() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "server-timing",
            r#"db;dur=53.2;desc="select, then join", cache;desc=hit, total;dur=80"#
                .parse()
                .unwrap(),
        );
        let (m, more) = metrics(&headers);
        assert_eq!(more, 0);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].name, "db");
        assert_eq!(m[0].millis, Some(53.2));
        assert_eq!(m[0].desc.as_deref(), Some("select, then join"));
        assert_eq!(m[1].millis, None);
        let many = (0..40)
            .map(|i| format!("m{i};dur=1"))
            .collect::<Vec<_>>()
            .join(",");
        headers.insert("server-timing", many.parse().unwrap());
        let (m, more) = metrics(&headers);
        assert_eq!((m.len(), more), (MAX_METRICS, 40 - MAX_METRICS));
    }
}
