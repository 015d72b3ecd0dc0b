//! The response body [`ReqwestTrace`](crate::ReqwestTrace) hands back: its end fires
//! `PutIdleConn` (when the connection returns to the pool) and `ResponseBodyDone`, and
//! completes the request's timings.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use httptrace::{BodyDoneInfo, ClientTrace, PutIdleConnInfo, TimingsRecorder, TraceError};
use pin_project_lite::pin_project;

use httptrace::wire::{BODY_FAILED, DROPPED_UNREAD};

pin_project! {
    /// reqwest's response body, reporting its end.
    pub(crate) struct ReportingBody {
        // Before `inner`: a body dropped unread reports it before its connection closes.
        end: BodyEnd,
        #[pin]
        inner: reqwest::Body,
    }
}

/// What the body's end reports to.
pub(crate) struct BodyEnd {
    pub(crate) trace: ClientTrace,
    pub(crate) timings: Option<TimingsRecorder>,
    /// HTTP/1 keep-alive: the connection goes back to the pool at the end.
    pub(crate) returns_to_pool: bool,
    pub(crate) bytes: u64,
    pub(crate) reported: bool,
}

impl BodyEnd {
    /// Timings, `PutIdleConn` (HTTP/1 keep-alive only), then `ResponseBodyDone`; once.
    fn ended(&mut self, cut_short: Option<&'static str>) {
        if std::mem::replace(&mut self.reported, true) {
            return;
        }
        if let Some(timings) = &self.timings {
            timings.response_ended(self.bytes, cut_short);
        }
        if self.returns_to_pool {
            let err = cut_short.map(TraceError::msg);
            self.trace.put_idle_conn(&PutIdleConnInfo::new(err));
        }
        let err = cut_short.map(TraceError::msg);
        self.trace
            .response_body_done(&BodyDoneInfo::new(self.bytes, err));
    }
}

impl Drop for BodyEnd {
    fn drop(&mut self) {
        self.ended(Some(DROPPED_UNREAD));
    }
}

impl ReportingBody {
    pub(crate) fn new(inner: reqwest::Body, end: BodyEnd) -> Self {
        let mut body = ReportingBody { end, inner };
        // No body at all (HEAD, 204, `Content-Length: 0`): the connection is back in the
        // pool before the response reaches the caller.
        if body.inner.is_end_stream() {
            body.end.ended(None);
        }
        body
    }
}

impl Body for ReportingBody {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, reqwest::Error>>> {
        let mut this = self.project();
        let frame = ready!(this.inner.as_mut().poll_frame(cx));
        match &frame {
            Some(Ok(f)) => {
                if let Some(data) = f.data_ref() {
                    this.end.bytes += data.len() as u64;
                }
                // Trailers, or the last data (`Content-Length` reached): the end, even if
                // the caller never polls again.
                if f.is_trailers() || this.inner.is_end_stream() {
                    this.end.ended(None);
                }
            }
            Some(Err(_)) => this.end.ended(Some(BODY_FAILED)),
            None => this.end.ended(None),
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
