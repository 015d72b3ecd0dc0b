//! What the ready-made outputs (the event log's JSON, httpstat, the `tracing` and
//! OpenTelemetry adapters) keep out of sight unless the user opts in: the values of
//! sensitive header fields, a URL's userinfo, and the values of signed-URL query parameters.
//! Hooks themselves get the raw data.

use std::borrow::Cow;

/// Header fields whose values carry credentials or session state: `authorization`,
/// `proxy-authorization`, `cookie` and `set-cookie`.
pub const SENSITIVE_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// What a redacted header value is shown as.
pub const REDACTED: &str = "[redacted]";

/// What a URL's userinfo parts and signed query values are shown as (OpenTelemetry's word:
/// `https://REDACTED:REDACTED@host/?sig=REDACTED`).
pub const URL_REDACTED: &str = "REDACTED";

/// Query parameters whose values sign a URL or carry a credential: OpenTelemetry's list for
/// `url.full` (`AWSAccessKeyId`, `Signature`, `sig`, `X-Goog-Signature`) and the other
/// parts of AWS's and Google's signed URLs. Matched in any case.
pub const SIGNED_QUERY_PARAMETERS: [&str; 8] = [
    "AWSAccessKeyId",
    "Signature",
    "sig",
    "X-Goog-Signature",
    "X-Goog-Credential",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "X-Amz-Security-Token",
];

/// Header fields whose value is a URL, shown with its secrets redacted: HTTP/2's `:path`, a
/// redirect's `location` (often to a signed URL), `content-location` and `referer`.
const URL_HEADERS: [&str; 4] = [":path", "location", "content-location", "referer"];

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

/// `url` with its userinfo as `REDACTED:REDACTED` and the values of the
/// [`SIGNED_QUERY_PARAMETERS`] as `REDACTED`; borrowed when there is nothing to hide. Works
/// on absolute URLs and on origin-form targets (`/path?query`).
///
/// ```
/// use httptrace::redact_url;
///
/// assert_eq!(
///     redact_url("https://user:pw@s3.test/k?X-Amz-Signature=abc&x=1#f"),
///     "https://REDACTED:REDACTED@s3.test/k?X-Amz-Signature=REDACTED&x=1#f"
/// );
/// assert_eq!(redact_url("/p?sig=abc"), "/p?sig=REDACTED");
/// assert_eq!(redact_url("http://example.com/"), "http://example.com/");
/// ```
pub fn redact_url(url: &str) -> Cow<'_, str> {
    let (before_fragment, fragment) = match url.find('#') {
        Some(at) => url.split_at(at),
        None => (url, ""),
    };
    let (target, query) = match before_fragment.find('?') {
        Some(at) => (&before_fragment[..at], Some(&before_fragment[at + 1..])),
        None => (before_fragment, None),
    };
    let authority = redact_userinfo_in(target);
    let query = query.map(redact_query);
    if matches!(authority, Cow::Borrowed(_)) && matches!(query, None | Some(Cow::Borrowed(_))) {
        return Cow::Borrowed(url);
    }
    let mut out = authority.into_owned();
    if let Some(query) = query {
        out.push('?');
        out.push_str(&query);
    }
    out.push_str(fragment);
    Cow::Owned(out)
}

/// An authority (`user:pw@host:port`, as HTTP/2's `:authority`) with its userinfo redacted.
///
/// ```
/// assert_eq!(httptrace::redact_authority("u:p@h.test:8443"), "REDACTED:REDACTED@h.test:8443");
/// assert_eq!(httptrace::redact_authority("h.test"), "h.test");
/// ```
pub fn redact_authority(authority: &str) -> Cow<'_, str> {
    match authority.rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{URL_REDACTED}:{URL_REDACTED}@{}",
            &authority[at + 1..]
        )),
        None => Cow::Borrowed(authority),
    }
}

/// The userinfo of the authority in `target` (scheme, authority and path; no query).
fn redact_userinfo_in(target: &str) -> Cow<'_, str> {
    let Some(scheme_end) = target.find("://") else {
        return Cow::Borrowed(target);
    };
    let start = scheme_end + 3;
    let end = target[start..]
        .find('/')
        .map_or(target.len(), |i| start + i);
    match redact_authority(&target[start..end]) {
        Cow::Borrowed(_) => Cow::Borrowed(target),
        Cow::Owned(authority) => {
            Cow::Owned(format!("{}{authority}{}", &target[..start], &target[end..]))
        }
    }
}

/// A query string (after `?`) with the values of signed-URL parameters redacted.
fn redact_query(query: &str) -> Cow<'_, str> {
    let signs = |pair: &str| {
        pair.split_once('=').is_some_and(|(key, _)| {
            SIGNED_QUERY_PARAMETERS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(key))
        })
    };
    if !query.split('&').any(signs) {
        return Cow::Borrowed(query);
    }
    let pairs: Vec<Cow<'_, str>> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if signs(pair) => Cow::Owned(format!("{key}={URL_REDACTED}")),
            _ => Cow::Borrowed(pair),
        })
        .collect();
    Cow::Owned(pairs.join("&"))
}

/// What one ready-made output hides: by default the values of the [`SENSITIVE_HEADERS`] and
/// of any header added with [`redact_header`](Redaction::redact_header) (names in any case),
/// URL userinfo and signed query values, in URLs and in the header fields that hold one
/// (HTTP/2's `:authority` and `:path`, `location`, `content-location`, `referer`).
/// [`reveal_secrets`](Redaction::reveal_secrets) is the one opt-out.
///
/// ```
/// use httptrace::Redaction;
///
/// let hide = Redaction::new().redact_header("X-Api-Key");
/// assert_eq!(hide.header_value("Cookie", "s=1"), "[redacted]");
/// assert_eq!(hide.header_value("x-api-key", "k"), "[redacted]");
/// assert_eq!(hide.header_value(":path", "/a?sig=x"), "/a?sig=REDACTED");
/// assert_eq!(hide.url("http://u:p@h/"), "http://REDACTED:REDACTED@h/");
/// assert_eq!(Redaction::new().reveal_secrets().header_value("cookie", "s=1"), "s=1");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Redaction {
    reveal: bool,
    also: Vec<String>,
}

impl Redaction {
    /// Hides every secret named above.
    pub fn new() -> Self {
        Self::default()
    }

    /// Shows everything as it is, the headers added with `redact_header` excepted. Only for
    /// debugging a setup whose output nobody else reads.
    pub fn reveal_secrets(mut self) -> Self {
        self.reveal = true;
        self
    }

    /// Hides the value of header `name` (any case) too, even when revealing secrets.
    pub fn redact_header(mut self, name: impl Into<String>) -> Self {
        self.also.push(name.into());
        self
    }

    /// Whether secrets are shown ([`reveal_secrets`](Redaction::reveal_secrets)).
    pub fn reveals_secrets(&self) -> bool {
        self.reveal
    }

    /// Whether the value of header `name` (any case) is hidden whole.
    pub fn hides_header(&self, name: &str) -> bool {
        (!self.reveal && is_sensitive_header(name))
            || self.also.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// A header field's value as this output shows it: [`REDACTED`] for a hidden header,
    /// HTTP/2's `:authority` and `:path`, `location`, `content-location` and `referer` with
    /// their URL secrets redacted.
    pub fn header_value<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        if self.hides_header(name) {
            return Cow::Borrowed(REDACTED);
        }
        if self.reveal {
            return Cow::Borrowed(value);
        }
        if name == ":authority" {
            return redact_authority(value);
        }
        if URL_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) {
            return redact_url(value);
        }
        Cow::Borrowed(value)
    }

    /// A URL as this output shows it ([`redact_url`], unless revealing secrets).
    pub fn url<'a>(&self, url: &'a str) -> Cow<'a, str> {
        if self.reveal {
            Cow::Borrowed(url)
        } else {
            redact_url(url)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_secret_of_a_signed_url_is_hidden_and_the_rest_kept() {
        let cases = [
            (
                "http://user:password@host/path?X-Amz-Signature=abc&X-Amz-Credential=k&a=1",
                "http://REDACTED:REDACTED@host/path?X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&a=1",
            ),
            (
                "https://user@h:8443?AWSAccessKeyId=a&signature=b&SIG=c&x-goog-signature=d",
                "https://REDACTED:REDACTED@h:8443?AWSAccessKeyId=REDACTED&signature=REDACTED&SIG=REDACTED&x-goog-signature=REDACTED",
            ),
            ("http://h/a@b?q=1&sig", "http://h/a@b?q=1&sig"),
            ("http://h/?sig=1#sig=2", "http://h/?sig=REDACTED#sig=2"),
            ("http://a:b@c@h/", "http://REDACTED:REDACTED@h/"),
            ("", ""),
            ("?", "?"),
            ("/?sig=", "/?sig=REDACTED"),
        ];
        for (url, shown) in cases {
            assert_eq!(redact_url(url), shown, "{url}");
        }
    }

    #[test]
    fn revealing_is_told_and_extra_headers_stay_hidden() {
        let hide = Redaction::new().redact_header("X-Key");
        assert!(!hide.reveals_secrets());
        let show = hide.reveal_secrets();
        assert!(show.reveals_secrets());
        assert_eq!(show.header_value("x-key", "k"), REDACTED);
        assert_eq!(show.url("http://u:p@h/?sig=1"), "http://u:p@h/?sig=1");
    }

    #[test]
    fn nothing_to_hide_borrows() {
        assert!(matches!(
            redact_url("https://h.test/p?a=1#f"),
            Cow::Borrowed(_)
        ));
    }
}
