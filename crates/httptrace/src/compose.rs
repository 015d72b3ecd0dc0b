//! [`RequestTraces`]: the traces one request is sent with, composed in the one documented
//! order every layer and integration uses.

use crate::{ClientTrace, TimingsRecorder};

/// Where a request's hooks come from, composed by [`compose`](RequestTraces::compose) in
/// this order of precedence (each one's hooks run before those after it):
///
/// 1. the request's own trace (`with_client_trace`, in its extensions);
/// 2. the trace in effect where it is sent (`scope`, `Scoped`);
/// 3. a trace made for each request by the layer;
/// 4. the layer's own trace;
/// 5. a timings recorder's hooks, last, so that every other hook has run when it marks a
///    phase.
///
/// ```
/// use httptrace::{ClientTrace, EventLog, RequestTraces};
///
/// let (own, layer) = (EventLog::new(), EventLog::new());
/// let trace = RequestTraces::new()
///     .own(Some(&own.trace()))
///     .layer(Some(&layer.trace()))
///     .compose();
/// trace.wrote_headers();
/// assert_eq!((own.names(), layer.names()), (vec!["WroteHeaders"], vec!["WroteHeaders"]));
/// ```
#[derive(Debug, Default)]
pub struct RequestTraces<'a> {
    own: Option<&'a ClientTrace>,
    ambient: Option<ClientTrace>,
    per_request: Option<ClientTrace>,
    layer: Option<&'a ClientTrace>,
    timings: Option<&'a TimingsRecorder>,
}

impl<'a> RequestTraces<'a> {
    /// No trace yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The request's own trace.
    pub fn own(mut self, trace: Option<&'a ClientTrace>) -> Self {
        self.own = trace;
        self
    }

    /// The trace in effect where the request is sent (`current_trace()`).
    pub fn ambient(mut self, trace: Option<ClientTrace>) -> Self {
        self.ambient = trace;
        self
    }

    /// A trace the layer made for this request.
    pub fn per_request(mut self, trace: Option<ClientTrace>) -> Self {
        self.per_request = trace;
        self
    }

    /// The layer's own trace.
    pub fn layer(mut self, trace: Option<&'a ClientTrace>) -> Self {
        self.layer = trace;
        self
    }

    /// The recorder of the request's timings.
    pub fn timings(mut self, recorder: Option<&'a TimingsRecorder>) -> Self {
        self.timings = recorder;
        self
    }

    /// The request's trace: each given one composed in the order of precedence.
    pub fn compose(self) -> ClientTrace {
        let mut trace = self.layer.cloned().unwrap_or_default();
        for over in [self.per_request, self.ambient, self.own.cloned()]
            .into_iter()
            .flatten()
        {
            trace = over.compose(&trace);
        }
        match self.timings {
            Some(timings) => Self::timed(trace, timings),
            None => trace,
        }
    }

    /// `trace`, composed already, with `timings`' hooks after all of its own: for a layer
    /// that decides on a recorder once it has looked at the rest.
    pub fn timed(trace: ClientTrace, timings: &TimingsRecorder) -> ClientTrace {
        trace.compose(&timings.trace())
    }
}
