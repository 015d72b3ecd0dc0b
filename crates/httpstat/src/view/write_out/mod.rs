//! `-w` / `--write-out`: curl's format of an exchange — `%{variables}` with curl's meaning and
//! type, `%{json}` with curl's key set, and the function forms `%header{name}`,
//! `%output{file}` (`%output{>>file}` appends) and `%time{format}`.

mod clock;
mod vars;

use std::io::Write as _;

use serde_json::Value;

use crate::exchange::Exchange;
pub(crate) use vars::{header_size, sent_head_size, Context};

/// Where the format's output goes now.
enum Dest {
    Stdout,
    Stderr,
    File(std::fs::File),
}

impl Dest {
    fn put(&mut self, bytes: &[u8]) {
        let written = match self {
            Dest::Stdout => std::io::stdout().write_all(bytes),
            Dest::Stderr => std::io::stderr().write_all(bytes),
            Dest::File(f) => f.write_all(bytes),
        };
        if written.is_err() && matches!(self, Dest::Stdout) {
            std::process::exit(0); // nobody reads stdout any more
        }
    }
}

/// The answer whose headers `%header{…}` and `%{header_json}` read: the last one, except
/// after a redirect `-L` would follow but `--max-redirs` forbids, where curl has already
/// let go of them (its other variables still describe that answer).
fn headers_kept(ex: &Exchange) -> Option<&crate::exchange::Answer> {
    let too_many = ex
        .failure
        .as_ref()
        .is_some_and(|f| f.code == crate::failure::code::TOO_MANY_REDIRECTS);
    ex.last().answer.as_ref().filter(|_| !too_many)
}

/// The final response's headers as curl's `%{header_json}` writes them: an object with a
/// line per name (lower case, in the order received) and its values, secrets redacted.
fn header_json(ex: &Exchange, cx: &Context<'_>) -> String {
    let mut entries = Vec::new();
    if let Some(answer) = headers_kept(ex) {
        for name in answer.headers.keys() {
            let values: Vec<Value> = answer
                .headers
                .get_all(name)
                .iter()
                .map(|v| {
                    let text = String::from_utf8_lossy(v.as_bytes());
                    Value::from(cx.redaction.header_value(name.as_str(), &text))
                })
                .collect();
            let name = Value::from(name.as_str());
            entries.push(format!("{name}:{}", Value::Array(values)));
        }
    }
    format!("{{{}\n}}", entries.join(",\n"))
}

/// `%header{name}`: the final response's values of `name`, comma-separated, redacted.
fn header(ex: &Exchange, cx: &Context<'_>, name: &str) -> String {
    let Some(answer) = headers_kept(ex) else {
        return String::new();
    };
    answer
        .headers
        .get_all(name)
        .iter()
        .map(|v| {
            let text = String::from_utf8_lossy(v.as_bytes());
            cx.redaction.header_value(name, text.trim()).into_owned()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `%{curl_version}`: ours.
fn curl_version() -> String {
    format!("httpstat/{}", env!("CARGO_PKG_VERSION"))
}

/// `%{json}`: curl's keys in curl's order, `curl_version` last.
fn json_object(vars: &[(&str, vars::Var)]) -> String {
    let mut out = String::from("{");
    for (name, value) in vars {
        out.push_str(&format!("\"{name}\":{},", value.json()));
    }
    out.push_str(&format!(
        "\"curl_version\":{}}}",
        Value::from(curl_version())
    ));
    out
}

/// Prints `format` for `ex`, as curl's `-w` does: to stdout, or where `%{stderr}`,
/// `%{stdout}` and `%output{…}` send it.
pub(crate) fn write_out(format: &str, ex: &Exchange, cx: &Context<'_>) {
    let vars = vars::variables(ex, cx);
    let ours = vars::ours(ex);
    let mut dest = Dest::Stdout;
    let mut rest = format;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("%%") {
            dest.put(b"%");
            rest = after;
        } else if let Some((function, arg, after)) = function_form(rest) {
            rest = after;
            match function {
                "header" => dest.put(header(ex, cx, arg).as_bytes()),
                "time" => dest.put(clock::format_utc(arg, std::time::SystemTime::now()).as_bytes()),
                _ => {
                    let (append, path) = match arg.strip_prefix(">>") {
                        Some(path) => (true, path),
                        None => (false, arg),
                    };
                    let file = std::fs::OpenOptions::new()
                        .create(true)
                        .write(true)
                        .append(append)
                        .truncate(!append)
                        .open(path);
                    match file {
                        Ok(f) => dest = Dest::File(f),
                        Err(e) => eprintln!("httpstat: %output{{{path}}}: {e}"),
                    }
                }
            }
        } else if let Some(after) = rest.strip_prefix("%{") {
            let Some(end) = after.find('}') else {
                dest.put(rest.as_bytes());
                break;
            };
            let name = &after[..end];
            rest = &after[end + 1..];
            match name {
                "stderr" => dest = Dest::Stderr,
                "stdout" => dest = Dest::Stdout,
                "onerror" if !ex.failed() => break,
                "onerror" => {}
                "json" => dest.put(json_object(&vars).as_bytes()),
                "header_json" => dest.put(header_json(ex, cx).as_bytes()),
                "curl_version" => dest.put(curl_version().as_bytes()),
                _ => {
                    let value = vars
                        .iter()
                        .chain(&ours)
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v.text())
                        .or_else(|| vars::url_part(name, ex, cx.redaction));
                    match value {
                        Some(text) => dest.put(text.as_bytes()),
                        None => eprintln!("httpstat: unknown --write-out variable: '{name}'"),
                    }
                }
            }
        } else if let Some(after) = rest.strip_prefix('\\') {
            let (text, skip) = match after.chars().next() {
                Some('n') => ("\n", 1),
                Some('r') => ("\r", 1),
                Some('t') => ("\t", 1),
                Some('\\') => ("\\", 1),
                _ => ("\\", 0),
            };
            dest.put(text.as_bytes());
            rest = &after[skip..];
        } else {
            let next = rest[1..].find(['%', '\\']).map_or(rest.len(), |i| i + 1);
            dest.put(&rest.as_bytes()[..next]);
            rest = &rest[next..];
        }
    }
    let _ = std::io::stdout().flush();
}

/// `%header{name}`, `%output{file}` or `%time{format}` at the start of `rest`: the function,
/// its argument and what follows.
fn function_form(rest: &str) -> Option<(&str, &str, &str)> {
    let after = rest.strip_prefix('%')?;
    let (function, after) = ["header{", "output{", "time{"]
        .iter()
        .find_map(|f| after.strip_prefix(f).map(|a| (&f[..f.len() - 1], a)))?;
    let end = after.find('}')?;
    Some((function, &after[..end], &after[end + 1..]))
}
