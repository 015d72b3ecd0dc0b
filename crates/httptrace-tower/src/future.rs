//! [`ResponseFuture`]: runs the inner client's future with the request's trace in effect, and
//! wraps the response body.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::{header, Response, StatusCode, Version};
use httptrace::{GotConnInfo, TraceError, WroteRequestInfo};
use pin_project_lite::pin_project;

use crate::connect::ConnectionHandle;
use crate::request_state::{Once, RequestState};
use crate::response_body::TracedResponseBody;
use crate::service::is_close;

pin_project! {
    /// The future of [`HttpTrace`](crate::HttpTrace).
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        state: Option<Arc<RequestState>>,
        request_close: bool,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn untraced(inner: F) -> Self {
        ResponseFuture {
            inner,
            state: None,
            request_close: false,
        }
    }

    pub(crate) fn traced(inner: F, state: Arc<RequestState>, request_close: bool) -> Self {
        ResponseFuture {
            inner,
            state: Some(state),
            request_close,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: std::error::Error + 'static,
    B: http_body::Body,
{
    type Output = Result<Response<TracedResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Some(state) = this.state.as_ref() else {
            return this
                .inner
                .poll(cx)
                .map_ok(|res| res.map(TracedResponseBody::untraced));
        };
        let result = {
            let _entered = state.enter();
            ready!(this.inner.poll(cx))
        };
        let state = this.state.take().expect("polled after completion");
        Poll::Ready(match result {
            Ok(res) => Ok(respond(res, state, *this.request_close)),
            Err(err) => {
                if state.has(Once::GotConn) && state.first(Once::WroteRequest) {
                    state
                        .trace
                        .wrote_request(&WroteRequestInfo::new(Some(TraceError::describe(&err))));
                }
                Err(err)
            }
        })
    }
}

fn respond<B: http_body::Body>(
    res: Response<B>,
    state: Arc<RequestState>,
    request_close: bool,
) -> Response<TracedResponseBody<B>> {
    if !state.has(Once::GotConn) {
        // The connection's I/O did not see this request (HTTP/2, or a connector without
        // `TraceConnector` under it): report what is known now that the response is here.
        if let Some(conn) = res.extensions().get::<ConnectionHandle>() {
            if state.first(Once::GotConn) {
                let reused = conn
                    .shared
                    .served
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    > 0;
                state.trace.got_conn(&GotConnInfo::new(
                    conn.info().clone(),
                    reused,
                    reused,
                    Default::default(),
                ));
            }
        }
    }
    if state.first(Once::FirstByte) {
        state.trace.got_first_response_byte();
    }
    let returns_to_pool = returns_to_pool(&res, request_close);
    res.map(|body| TracedResponseBody::new(body, state, returns_to_pool))
}

/// Whether the connection goes back to the pool once the body ends: HTTP/1 keep-alive.
fn returns_to_pool<B>(res: &Response<B>, request_close: bool) -> bool {
    let keep_alive_token = || {
        res.headers().get_all(header::CONNECTION).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("keep-alive"))
            })
        })
    };
    let response_close = res
        .headers()
        .get_all(header::CONNECTION)
        .iter()
        .any(is_close);
    match res.version() {
        Version::HTTP_11 => {
            !request_close && !response_close && res.status() != StatusCode::SWITCHING_PROTOCOLS
        }
        Version::HTTP_10 => !request_close && !response_close && keep_alive_token(),
        _ => false,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("traced", &self.state.is_some())
            .finish()
    }
}
