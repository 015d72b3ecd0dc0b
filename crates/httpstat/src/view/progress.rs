//! The live line on a terminal while requests are in flight: the phase the request is in and
//! its time so far ("TLS handshake with 127.0.0.1:443 … 2.4 s"), or, for `--repeat`, the
//! count, rate and failures so far; erased before anything else is printed and when the run
//! ends. Nothing when stderr is not a terminal, or with `-s`.

use std::io::{IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use httptrace::EventLog;

use crate::stage::Stage;

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// A request in flight: its number, its events so far, when it began, where it goes.
struct Live {
    n: u64,
    log: EventLog,
    since: Instant,
    target: String,
}

#[derive(Default)]
struct State {
    live: Vec<Live>,
    done: u64,
    failed: u64,
    /// Something is drawn on the line now.
    shown: bool,
}

/// The progress line of a run (see the module docs).
pub(crate) struct Progress {
    state: Mutex<State>,
    /// `--repeat`/`--concurrency`: a bar of the whole run, out of `total` requests.
    total: Option<u64>,
    started: Instant,
}

impl Progress {
    /// A progress line, if stderr is a terminal and the run is not silent.
    pub(crate) fn on_terminal(silent: bool, total: Option<u64>) -> Option<Arc<Progress>> {
        (!silent && std::io::stderr().is_terminal()).then(|| {
            Arc::new(Progress {
                state: Mutex::new(State::default()),
                total,
                started: Instant::now(),
            })
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Request `n`, to `target`, is under way; `log` fills as its hooks fire.
    pub(crate) fn begin(&self, n: u64, log: &EventLog, target: &str) {
        self.lock().live.push(Live {
            n,
            log: log.clone(),
            since: Instant::now(),
            target: target.to_owned(),
        });
    }

    /// Request `n` is over.
    pub(crate) fn end(&self, n: u64, failed: bool) {
        let mut state = self.lock();
        state.live.retain(|l| l.n != n);
        state.done += 1;
        state.failed += u64::from(failed);
    }

    /// Erases the line, so that what is printed next starts on a clean one.
    pub(crate) fn clear(&self) {
        Self::erase(&mut self.lock());
    }

    fn erase(state: &mut State) {
        if state.shown {
            let _ = std::io::stderr().write_all(b"\r\x1b[2K");
            state.shown = false;
        }
    }

    /// Runs `print` on a clean line, the line kept from being redrawn meanwhile.
    pub(crate) fn printing(&self, print: impl FnOnce()) {
        let mut state = self.lock();
        Self::erase(&mut state);
        print();
    }

    /// Redraws the line every [`TICK`] until the task is aborted.
    pub(crate) async fn run(self: Arc<Self>) {
        loop {
            tokio::time::sleep(TICK).await;
            let mut state = self.lock();
            let line = self.line(&state);
            let mut err = std::io::stderr();
            let _ = match &line {
                Some(line) => write!(err, "\r\x1b[2K{line}"),
                None if state.shown => write!(err, "\r\x1b[2K"),
                None => Ok(()),
            };
            let _ = err.flush();
            state.shown = line.is_some();
        }
    }

    /// What the line says now, if anything.
    fn line(&self, state: &State) -> Option<String> {
        let current = state.live.first().map(|live| {
            let (stage, with) = Stage::of(&live.log.events());
            let doing = stage.doing();
            let with = with.map_or_else(|| live.target.clone(), |a| a.to_string());
            format!(
                "{doing} with {with} … {:.1} s",
                live.since.elapsed().as_secs_f64()
            )
        });
        match self.total {
            Some(total) => {
                let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
                let rate = state.done as f64 / elapsed;
                let bar = format!(
                    "[{}/{total}] {rate:.1} requests/s, {} failed",
                    state.done, state.failed
                );
                Some(match current {
                    Some(current) => format!("{bar} · {current}"),
                    None => bar,
                })
            }
            None => current,
        }
    }
}
