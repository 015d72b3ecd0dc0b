//! An axum service whose handler calls another service through a traced client and answers
//! with what that call did: its status, its hooks in order, and its timings.
//!
//! Every answer carries a `Server-Timing` header with the timings of the outbound calls its
//! handler made ([`httptrace_tower::ServerTimingLayer`]): a browser's developer tools show
//! where the handler's time went. `GET /checkout` calls upstream twice, adds a metric of its
//! own (`checkout`, its whole time) and answers `ok`.
//!
//! `GET /inventory` calls the upstream URL the service was built with. The answer is JSON:
//! `{"upstream_status": 200, "events": [...], "timings": {...}}`, the events in the format of
//! [`httptrace::Event::to_json`] (sensitive header values redacted), the timings that of
//! [`httptrace::Timings::to_json`].

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use httptrace::{with_client_trace, ClientTrace, EventLog, TimingsRecorder};
use httptrace_tower::server_timing::{Metric, ServerTimingMetrics};
use httptrace_tower::{ServerTimingLayer, TracedClient};
use serde_json::{json, Value};

/// What every handler shares: the traced client and where it calls.
#[derive(Clone)]
struct Upstream {
    client: TracedClient<Empty<Bytes>>,
    url: Arc<str>,
}

/// The service: `GET /inventory` calls `upstream_url` through a traced client that records
/// timings, with an event log attached to that one call.
pub fn router(upstream_url: &str) -> Router {
    router_with(upstream_url, ServerTimingLayer::new())
}

/// [`router`] with the `Server-Timing` layer given.
pub fn router_with(upstream_url: &str, server_timing: ServerTimingLayer) -> Router {
    let client = httptrace_tower::http_client(ClientTrace::new()).record_timings();
    Router::new()
        .route("/inventory", get(inventory))
        .route("/checkout", get(checkout))
        .with_state(Upstream {
            client,
            url: upstream_url.into(),
        })
        .layer(server_timing)
}

async fn inventory(State(upstream): State<Upstream>) -> Response {
    let log = EventLog::new();
    let mut req = match http::Request::get(&*upstream.url).body(Empty::new()) {
        Ok(req) => req,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    with_client_trace(&mut req, log.trace_beyond_go());
    let res = match upstream.client.request(req).await {
        Ok(res) => res,
        Err(e) => {
            let body = json!({ "error": e.to_string(), "events": events(&log) });
            return (StatusCode::BAD_GATEWAY, Json(body)).into_response();
        }
    };
    let status = res.status().as_u16();
    let recorder = res.extensions().get::<TimingsRecorder>().cloned();
    if let Err(e) = res.into_body().collect().await {
        let body = json!({ "error": e.to_string(), "events": events(&log) });
        return (StatusCode::BAD_GATEWAY, Json(body)).into_response();
    }
    let timings = recorder
        .and_then(|r| serde_json::from_str::<Value>(&r.timings().to_json()).ok())
        .unwrap_or(Value::Null);
    Json(json!({
        "upstream_status": status,
        "events": events(&log),
        "timings": timings,
    }))
    .into_response()
}

/// Calls upstream twice, one after the other, reads both bodies, and tells its own time.
async fn checkout(
    State(upstream): State<Upstream>,
    Extension(metrics): Extension<ServerTimingMetrics>,
) -> Response {
    let started = Instant::now();
    for _ in 0..2 {
        let req = match http::Request::get(&*upstream.url).body(Empty::new()) {
            Ok(req) => req,
            Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        };
        let read = match upstream.client.request(req).await {
            Ok(res) => res
                .into_body()
                .collect()
                .await
                .map(drop)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = read {
            return (StatusCode::BAD_GATEWAY, e).into_response();
        }
    }
    if let Ok(metric) = Metric::new("checkout") {
        metrics.add(
            metric
                .duration(started.elapsed())
                .description("the whole checkout"),
        );
    }
    "ok".into_response()
}

/// The log's events as JSON values.
fn events(log: &EventLog) -> Vec<Value> {
    log.events()
        .iter()
        .filter_map(|e| serde_json::from_str(&e.to_json()).ok())
        .collect()
}
