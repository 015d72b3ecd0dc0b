//! A connector whose dials a test can hold for good: the event-driven way to know a request
//! was served by a pooled connection.
//!
//! hyper-util puts an HTTP/1 connection back in its pool from a task of its own once the
//! response is over, and meanwhile a next request starts a dial of its own; on a busy machine
//! the dial can win, and a test asserting reuse fails. With dials held, the next request can
//! only get the connection coming back (hyper-util hands it to the request waiting for one),
//! or wait until the test's timeout says it never came. A held dial is never polled, so it
//! fires no hook.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tower::Service;

/// `inner`, whose dials never go once [`DialHold::hold`] was called: a test that holds them
/// wants the pool or nothing.
#[derive(Clone)]
pub struct HoldDials<C> {
    inner: C,
    hold: DialHold,
}

/// Holds the dials of the [`HoldDials`] it came from.
#[derive(Clone, Default)]
pub struct DialHold(Arc<AtomicBool>);

impl DialHold {
    /// Dials polled from now on wait for ever.
    pub fn hold(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn is_held(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl<C> HoldDials<C> {
    /// `inner`, its dials not held yet; the handle holds them.
    pub fn new(inner: C) -> (Self, DialHold) {
        let hold = DialHold::default();
        (
            HoldDials {
                inner,
                hold: hold.clone(),
            },
            hold,
        )
    }
}

impl<C> Service<http::Uri> for HoldDials<C>
where
    C: Service<http::Uri>,
    C::Future: Send + 'static,
{
    type Response = C::Response;
    type Error = C::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<C::Response, C::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), C::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        // Called now (the trace in effect is read here), polled only if not held: the
        // dialer's futures do nothing, and fire no hook, before their first poll.
        let dialing = self.inner.call(uri);
        let hold = self.hold.clone();
        Box::pin(async move {
            if hold.is_held() {
                std::future::pending::<()>().await;
            }
            dialing.await
        })
    }
}
