//! A connector whose new dials wait while the test holds them: the event-driven way to know a
//! request was served by a pooled connection.
//!
//! hyper-util puts an HTTP/1 connection back in its pool from a task of its own once the
//! response is over, and meanwhile a next request starts a dial of its own; on a busy machine
//! the dial can win, and a test asserting reuse fails. With dials held, the next request can
//! only get the connection coming back (hyper-util hands it to the request waiting for one),
//! or wait until the test's timeout says it never came. The held dial is not polled, so it
//! fires no hook.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Notify;
use tower::Service;

/// `inner`, whose dials wait while [`DialHold::hold`] is in force.
#[derive(Clone)]
pub struct HoldDials<C> {
    inner: C,
    hold: DialHold,
}

/// Holds or releases the dials of the [`HoldDials`] it came from.
#[derive(Clone, Default)]
pub struct DialHold(Arc<Hold>);

#[derive(Default)]
struct Hold {
    held: AtomicBool,
    released: Notify,
}

impl DialHold {
    /// Dials started from now on wait (until [`release`](Self::release)).
    pub fn hold(&self) {
        self.0.held.store(true, Ordering::SeqCst);
    }

    /// Lets held dials, and later ones, go.
    pub fn release(&self) {
        self.0.held.store(false, Ordering::SeqCst);
        self.0.released.notify_waiters();
    }

    async fn until_released(&self) {
        loop {
            let released = self.0.released.notified();
            if !self.0.held.load(Ordering::SeqCst) {
                return;
            }
            released.await;
        }
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
        // Called now (the trace in effect is read here), polled only once released: the
        // dialer's futures do nothing, and fire no hook, before their first poll.
        let dialing = self.inner.call(uri);
        let hold = self.hold.clone();
        Box::pin(async move {
            hold.until_released().await;
            dialing.await
        })
    }
}
