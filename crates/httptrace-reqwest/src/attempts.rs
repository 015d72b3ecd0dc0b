//! [`ReqwestAttempts`]: the inner middleware that traces each attempt of a call, for a retry
//! middleware placed between it and [`ReqwestTrace`](crate::ReqwestTrace): the call gets
//! `CallStart` and `CallDone` from the outer one, each attempt `AttemptStart` and its own
//! exchange (`GetConn`, its dial, `GotConn` with its reuse, its response) from the inner one.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::{Extensions, StatusCode};
use httptrace::{
    AttemptStartInfo, CallDoneInfo, CallStartInfo, ClientTrace, TimingsRecorder, TraceError,
};
use reqwest_middleware::{Middleware, Next};

use crate::connections::Conns;
use crate::exchange::{exchange, host_port, Exchange};

/// What a call's attempts share, from the outer middleware to the inner one, in the
/// request's extensions.
#[derive(Clone)]
pub(crate) struct CallPart {
    pub(crate) record_timings: bool,
    pub(crate) conns: Arc<Mutex<Conns>>,
}

/// One call in flight: its trace, and its attempts so far.
#[derive(Clone)]
struct Call {
    trace: ClientTrace,
    part: CallPart,
    attempts: Arc<AtomicU32>,
    previous: Arc<Mutex<Option<Previous>>>,
}

/// How the attempt before ended: its status, when its answer came, and its timings.
struct Previous {
    status: StatusCode,
    answered: Instant,
    timings: Option<TimingsRecorder>,
}

impl Previous {
    /// The end of that attempt: its body's end if it was read, else its answer.
    fn end(&self) -> Instant {
        self.timings
            .as_ref()
            .and_then(|t| t.timings().response_end)
            .unwrap_or(self.answered)
    }
}

/// Runs a call whose attempts [`ReqwestAttempts`] traces: `CallStart`, the attempts inside
/// `next`, `CallDone`.
pub(crate) async fn call(
    trace: ClientTrace,
    part: CallPart,
    req: reqwest::Request,
    extensions: &mut Extensions,
    next: Next<'_>,
) -> reqwest_middleware::Result<reqwest::Response> {
    let started = Instant::now();
    if let Ok(uri) = req.url().as_str().parse() {
        trace.call_start(&CallStartInfo::new(req.method().clone(), uri));
    }
    let call = Call {
        trace: trace.clone(),
        part,
        attempts: Arc::default(),
        previous: Arc::default(),
    };
    extensions.insert(call.clone());
    let result = next.run(req, extensions).await;
    extensions.remove::<Call>();
    let attempts = call.attempts.load(Ordering::Acquire);
    let (status, err) = match &result {
        Ok(res) => (Some(res.status()), None),
        Err(e) => (None, Some(TraceError::msg(e.to_string()))),
    };
    trace.call_done(&CallDoneInfo::new(attempts, status, err, started.elapsed()));
    result
}

/// The inner middleware of a traced call: each attempt that reaches it is traced as a
/// request of its own, after `AttemptStart`. Made by [`ReqwestTrace::attempts`](crate::ReqwestTrace::attempts); put it
/// after the retry middleware, which goes after the `ReqwestTrace` it came from.
///
/// ```no_run
/// # fn build(retry: impl reqwest_middleware::Middleware) -> reqwest::Result<()> {
/// let trace = httptrace_reqwest::ReqwestTrace::new(httptrace::ClientTrace::new());
/// let attempts = trace.attempts();
/// let inner = trace.install(reqwest::Client::builder()).build()?;
/// let client = reqwest_middleware::ClientBuilder::new(inner)
///     .with(trace)
///     .with(retry)
///     .with(attempts)
///     .build();
/// # drop(client); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ReqwestAttempts {
    /// Made by [`ReqwestTrace::attempts`](crate::ReqwestTrace::attempts) only.
    pub(crate) _made: (),
}

#[async_trait::async_trait]
impl Middleware for ReqwestAttempts {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let (Some(call), Some(host_port)) =
            (extensions.get::<Call>().cloned(), host_port(req.url()))
        else {
            return next.run(req, extensions).await;
        };
        let attempt = call.attempts.fetch_add(1, Ordering::AcqRel) + 1;
        let (previous_status, previous_end) = {
            let previous = call.previous.lock().unwrap_or_else(|e| e.into_inner());
            let previous = previous.as_ref();
            (previous.map(|p| p.status), previous.map(Previous::end))
        };
        if let Ok(uri) = req.url().as_str().parse() {
            let info = AttemptStartInfo::new(attempt, req.method().clone(), uri, previous_status);
            call.trace.attempt_start(&info);
        }
        let timings = call.part.record_timings.then(TimingsRecorder::new);
        // The wait since the attempt before is this one's backoff, not its wait.
        if let (Some(timings), Some(since)) = (&timings, previous_end) {
            timings.after_backoff(since);
        }
        let ex = Exchange {
            trace: call.trace.clone(),
            timings: timings.clone(),
            conns: &call.part.conns,
            host_port,
        };
        let result = exchange(ex, req, extensions, next).await;
        if let Ok(res) = &result {
            *call.previous.lock().unwrap_or_else(|e| e.into_inner()) = Some(Previous {
                status: res.status(),
                answered: Instant::now(),
                timings,
            });
        }
        result
    }
}
