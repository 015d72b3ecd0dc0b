//! The HTTP methods `http.request.method` names; any other is `_OTHER`.

use std::borrow::Cow;
use std::sync::Arc;

use http::Method;

/// The environment variable the HTTP conventions name for a full list of known methods.
pub(super) const KNOWN_METHODS_VAR: &str = "OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS";

/// The methods named as they are: the conventions' nine by default, or a full replacement
/// (from [`KNOWN_METHODS_VAR`], or given to the layer).
#[derive(Clone, Debug)]
pub(super) struct KnownMethods(Option<Arc<[Method]>>);

impl KnownMethods {
    /// The conventions' nine (RFC 9110's and PATCH).
    pub(super) fn standard() -> Self {
        KnownMethods(None)
    }

    /// Exactly `methods`.
    pub(super) fn only(methods: impl IntoIterator<Item = Method>) -> Self {
        KnownMethods(Some(methods.into_iter().collect()))
    }

    /// From the environment variable when set: a comma-separated, case-sensitive list (names
    /// that are not HTTP tokens are left out); else the conventions' nine.
    pub(super) fn from_env() -> Self {
        match std::env::var(KNOWN_METHODS_VAR) {
            Ok(list) => Self::only(
                list.split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .filter_map(|m| Method::from_bytes(m.as_bytes()).ok()),
            ),
            Err(_) => Self::standard(),
        }
    }

    /// `method`'s name for `http.request.method`, if it is known.
    pub(super) fn name(&self, method: &Method) -> Option<Cow<'static, str>> {
        match &self.0 {
            None => standard(method).map(Cow::Borrowed),
            Some(known) if known.contains(method) => Some(match standard(method) {
                Some(name) => Cow::Borrowed(name),
                None => Cow::Owned(method.as_str().to_owned()),
            }),
            Some(_) => None,
        }
    }
}

/// The conventions' default known methods.
fn standard(method: &Method) -> Option<&'static str> {
    Some(match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::CONNECT => "CONNECT",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::PATCH => "PATCH",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_replaces_the_default_and_is_case_sensitive() {
        let purge = Method::from_bytes(b"PURGE").unwrap();
        let standard = KnownMethods::standard();
        assert_eq!(standard.name(&Method::GET).as_deref(), Some("GET"));
        assert_eq!(standard.name(&purge), None);
        let only = KnownMethods::only([Method::GET, purge.clone()]);
        assert_eq!(only.name(&purge).as_deref(), Some("PURGE"));
        assert_eq!(only.name(&Method::POST), None, "a full replacement");
        let lower = Method::from_bytes(b"get").unwrap();
        assert_eq!(only.name(&lower), None, "case-sensitive");
    }
}
