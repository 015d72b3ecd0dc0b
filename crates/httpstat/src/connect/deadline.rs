//! [`Deadline`]: `--connect-timeout` over the whole connect, as curl's: the lookup, each TCP
//! attempt, a proxy's tunnel and the TLS handshake together.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use httptrace::BoxError;
use tower_service::Service;

/// A connector whose connects fail (`io::ErrorKind::TimedOut`) once `limit` has passed.
#[derive(Clone)]
pub(crate) struct Deadline<C> {
    inner: C,
    limit: Option<Duration>,
}

impl<C> Deadline<C> {
    pub(crate) fn new(inner: C, limit: Option<Duration>) -> Self {
        Deadline { inner, limit }
    }
}

impl<C> Service<Uri> for Deadline<C>
where
    C: Service<Uri>,
    C::Error: Into<BoxError>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<C::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let connect = self.inner.call(dst);
        let limit = self.limit;
        Box::pin(async move {
            let Some(limit) = limit else {
                return connect.await.map_err(Into::into);
            };
            match tokio::time::timeout(limit, connect).await {
                Ok(done) => done.map_err(Into::into),
                Err(_) => Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("connect timed out after {} ms", limit.as_millis()),
                )
                .into()),
            }
        })
    }
}
