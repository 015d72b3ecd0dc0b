//! Which header values the ready-made outputs (the event log's JSON, httpstat, the `tracing`
//! adapter) keep out of sight unless the user opts in.

/// Header fields whose values carry credentials or session state: `authorization`,
/// `proxy-authorization`, `cookie` and `set-cookie`.
pub const SENSITIVE_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// What a redacted value is shown as.
pub const REDACTED: &str = "[redacted]";

/// Whether `name` (any case) is one of [`SENSITIVE_HEADERS`].
///
/// ```
/// assert!(httptrace::is_sensitive_header("Authorization"));
/// assert!(!httptrace::is_sensitive_header("accept"));
/// ```
pub fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE_HEADERS
        .iter()
        .any(|sensitive| sensitive.eq_ignore_ascii_case(name))
}
