//! The conventions' opt-in attributes of a request span, each turned on by an
//! [`OtelLayer`](super::OtelLayer) builder method: `user_agent.original`, `url.scheme`,
//! `url.template` (from a closure of the user's), and `http.request.header.<key>` /
//! `http.response.header.<key>` for the header names the user lists, their values redacted
//! by the rule every output of this crate follows.

use std::sync::Arc;

use http::{HeaderMap, HeaderName, Request};
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_semantic_conventions::attribute::{
    URL_SCHEME, URL_TEMPLATE, USER_AGENT_ORIGINAL,
};

/// What gives `url.template` for a request: the route it was made from.
pub(super) type UrlTemplate =
    Arc<dyn Fn(&http::Method, &http::Uri) -> Option<String> + Send + Sync>;

/// Which opt-in attributes a layer records.
#[derive(Clone, Default)]
pub(super) struct OptIn {
    pub(super) user_agent: bool,
    pub(super) url_scheme: bool,
    pub(super) url_template: Option<UrlTemplate>,
    pub(super) request_headers: Arc<[HeaderName]>,
    pub(super) response_headers: Arc<[HeaderName]>,
}

/// `http.<side>.header.<name>` for each of `names` present in `headers`: its values, as an
/// array of strings, redacted.
fn header_attributes(side: &str, names: &[HeaderName], headers: &HeaderMap) -> Vec<KeyValue> {
    let redaction = httptrace::Redaction::new();
    names
        .iter()
        .filter(|name| headers.contains_key(*name))
        .map(|name| {
            let values: Vec<StringValue> = headers
                .get_all(name)
                .iter()
                .map(|v| {
                    let text = String::from_utf8_lossy(v.as_bytes());
                    redaction
                        .header_value(name.as_str(), &text)
                        .into_owned()
                        .into()
                })
                .collect();
            KeyValue::new(
                format!("http.{side}.header.{}", name.as_str()),
                Value::Array(Array::String(values)),
            )
        })
        .collect()
}

impl OptIn {
    /// The request span's opt-in attributes known from `req`.
    pub(super) fn of_request<B>(&self, req: &Request<B>) -> Vec<KeyValue> {
        let mut out = Vec::new();
        if self.user_agent {
            if let Some(agent) = req
                .headers()
                .get(http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
            {
                out.push(KeyValue::new(USER_AGENT_ORIGINAL, agent.to_owned()));
            }
        }
        if self.url_scheme {
            if let Some(scheme) = req.uri().scheme_str() {
                out.push(KeyValue::new(URL_SCHEME, scheme.to_owned()));
            }
        }
        if let Some(template) = self
            .url_template
            .as_ref()
            .and_then(|t| t(req.method(), req.uri()))
        {
            out.push(KeyValue::new(URL_TEMPLATE, template));
        }
        out.extend(header_attributes(
            "request",
            &self.request_headers,
            req.headers(),
        ));
        out
    }

    /// The request span's opt-in attributes known from the response's `headers`.
    pub(super) fn of_response(&self, headers: &HeaderMap) -> Vec<KeyValue> {
        header_attributes("response", &self.response_headers, headers)
    }
}
