//! `httpstat`: sends requests and shows what happened inside each one: the lookup, each
//! connect attempt, the TLS handshake, reuse, the server's time (and what the server says of
//! it in `Server-Timing`), the transfer, sizes and speed; traced by `httptrace`.
//!
//! ```text
//! httpstat [OPTIONS] [URL]...
//! cargo install --path crates/httpstat      # or, in the repository: cargo run --example httpstat
//! ```
//!
//! With no URL it starts a plain and an HTTPS server on loopback and sends two requests to
//! each, so it works offline and shows every phase. Views: a waterfall per request (as Go's
//! and Python's httpstat draw it; coloured on a terminal, plain when piped), `--json`,
//! `--events` (Go's event-log format), `--timeline`, and curl's `-w`. `--repeat` and
//! `--concurrency` end with a summary per phase and a histogram of the totals. No view shows
//! a secret (sensitive headers, URL userinfo, signed query values) unless
//! `--reveal-sensitive` says so.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// `println!` that ends the program quietly once nobody reads its output (piped into
/// `head`, say) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

mod body;
mod cli;
mod connect;
mod connections;
mod exchange;
mod failure;
mod local_servers;
mod options;
mod run;
mod stage;
mod view;

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{CommandFactory as _, Parser as _};

/// What every view hides: set once from `--reveal-sensitive`.
static REDACTION: OnceLock<httptrace::Redaction> = OnceLock::new();

/// What every view hides (everything secret, unless `--reveal-sensitive`).
fn redaction() -> &'static httptrace::Redaction {
    REDACTION.get_or_init(httptrace::Redaction::new)
}

/// Runs httpstat on this process's arguments.
pub fn main() -> ExitCode {
    main_with(std::env::args_os())
}

/// Runs httpstat on `args` (the program's name first): 0 when every request succeeded;
/// when one failed, curl's exit code for the last failure (7: could not connect, 28: timed
/// out, 60: the peer's certificate, ...); 2 for a mistake in the arguments. Each mistake or
/// failure is one line on stderr (`-s` silences a failure's, `-S` brings it back).
pub fn main_with(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let args = match cli::Args::try_parse_from(args) {
        Ok(args) => args,
        Err(e) if e.use_stderr() => {
            // One line, as every other mistake: clap's message without its hint.
            let text = e.to_string();
            let line = text.lines().next().unwrap_or_default();
            eprintln!("httpstat: {}", line.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    if let Some(shell) = args.completions {
        clap_complete::generate(
            shell,
            &mut cli::Args::command(),
            "httpstat",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    let options = match options::Options::from_args(args) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("httpstat: {message}");
            return ExitCode::from(2);
        }
    };
    let _ = REDACTION.set(if options.reveal_sensitive {
        httptrace::Redaction::new().reveal_secrets()
    } else {
        httptrace::Redaction::new()
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("httpstat: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run::run(options)) {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(failure)) => ExitCode::from(failure.code),
        Err(message) => {
            eprintln!("httpstat: {message}");
            ExitCode::from(2)
        }
    }
}
