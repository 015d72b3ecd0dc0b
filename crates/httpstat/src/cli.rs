//! The command line, parsed by clap; grouped as curl's `--help` groups its options.

use std::path::PathBuf;

use clap::Parser;

/// What `--help` says after the options: where httpstat's meanings differ from curl's, and
/// what no view shows.
const NOTES: &str = "\
With no URL, starts a plain HTTP server (reached as localhost, so the DNS lookup shows) and
an HTTPS one (HTTP/2 by ALPN) on loopback, and sends two requests to each: a fresh and a
reused connection.

-w variables are curl 8's, %{json} with curl's keys and types, and the forms %header{name},
%output{file} (%output{>>file} appends) and %time{format}. Times are measured from the hooks
(time_* in seconds with microsecond digits; a phase that did not happen repeats the mark
before it, as curl's cumulative times do; time_appconnect is 0 without TLS); size_header and
size_request count heads as HTTP/1.1 carries them, for HTTP/2 too; ssl_verify_result is
OpenSSL's code, as curl's (20: unknown issuer, 19: self-signed in the chain, 18:
self-signed, 10: expired, 62: name mismatch); %{certs} has curl's layout, not OpenSSL's
field texts.
Exit codes are curl's (3 bad URL, 6 lookup, 7 connect, 22 -f, 28 timeout, 35 TLS, 47
redirects, 52 empty reply, 56 receive, 60 certificate), with curl's one-line error on stderr
and the phase it failed in.

Our own -w variables, only the hooks know: %{httptrace.reused} (1 if the connection was
reused), %{httptrace.idle_time} (how long it had been idle), %{httptrace.stream_wait} (an
HTTP/2 stream's wait for a place under the server's limit), %{httptrace.server_timing} (the
answer's Server-Timing).

Values of authorization, proxy-authorization, cookie and set-cookie are shown as [redacted],
a URL's user:password as REDACTED:REDACTED and its signature parameters (X-Amz-Signature,
sig, ...) as REDACTED, in every view, unless --reveal-sensitive is given.";

/// Shows what happens inside HTTP requests: DNS, connect, TLS, reuse, the server's time and
/// the transfer, as a waterfall per request, JSON, events, a timeline, or curl's -w.
#[derive(Parser, Debug)]
#[command(name = "httpstat", version, after_help = NOTES, max_term_width = 100)]
pub(crate) struct Args {
    /// URLs to trace, all on one client (its connections reused across them)
    #[arg(value_name = "URL")]
    pub(crate) urls: Vec<String>,

    /// Each request's timings as one JSON object a line, then a summary object
    #[arg(long, help_heading = "Output", conflicts_with_all = ["events", "timeline"])]
    pub(crate) json: bool,
    /// The raw event log, one JSON object a line (Go's format)
    #[arg(long, help_heading = "Output", conflicts_with = "timeline")]
    pub(crate) events: bool,
    /// Every event of each request, in words
    #[arg(long, help_heading = "Output")]
    pub(crate) timeline: bool,
    /// After each request, print FORMAT with curl's %{variables} (@FILE reads it from FILE)
    #[arg(
        short = 'w',
        long = "write-out",
        value_name = "FORMAT",
        help_heading = "Output"
    )]
    pub(crate) write_out: Option<String>,
    /// Write the response body to FILE instead of reading it to nowhere
    #[arg(short = 'o', long, value_name = "FILE", help_heading = "Output")]
    pub(crate) output: Option<PathBuf>,
    /// After a waterfall whose connection was new over TLS, the peer's chain: subject,
    /// issuer, names, validity and days left, key type
    #[arg(long, help_heading = "Output")]
    pub(crate) certs: bool,
    /// Colour the waterfall
    #[arg(long, alias = "colour", value_name = "WHEN", default_value = "auto",
          value_parser = ["auto", "always", "never"], help_heading = "Output")]
    pub(crate) color: String,
    /// Drop each response body unread
    #[arg(long, help_heading = "Output")]
    pub(crate) no_read: bool,
    /// Print secrets (sensitive headers, URL userinfo, signatures) as they are
    #[arg(long, help_heading = "Output")]
    pub(crate) reveal_sensitive: bool,
    /// Quiet, as curl's -s: no waterfall and no error line; the body goes to stdout
    /// (unless -o), so `httpstat -s -o /dev/null -w FORMAT URL` prints what curl prints
    #[arg(short = 's', long, help_heading = "Output")]
    pub(crate) silent: bool,
    /// With -s, still print the error line
    #[arg(short = 'S', long, help_heading = "Output")]
    pub(crate) show_error: bool,
    /// Print a completion script for SHELL and exit
    #[arg(long, value_name = "SHELL", help_heading = "Output")]
    pub(crate) completions: Option<clap_complete::Shell>,

    /// The request method (POST when -d is given, HEAD with -I)
    #[arg(
        short = 'X',
        long = "request",
        value_name = "METHOD",
        help_heading = "Request"
    )]
    pub(crate) method: Option<String>,
    /// Add a request header (repeatable)
    #[arg(
        short = 'H',
        long = "header",
        value_name = "'Name: value'",
        help_heading = "Request"
    )]
    pub(crate) headers: Vec<String>,
    /// Send DATA as the request body (@FILE reads it from FILE)
    #[arg(
        short = 'd',
        long = "data",
        value_name = "DATA",
        help_heading = "Request"
    )]
    pub(crate) data: Option<String>,
    /// The User-Agent header
    #[arg(
        short = 'A',
        long = "user-agent",
        value_name = "NAME",
        help_heading = "Request"
    )]
    pub(crate) user_agent: Option<String>,
    /// The Referer header
    #[arg(
        short = 'e',
        long = "referer",
        value_name = "URL",
        help_heading = "Request"
    )]
    pub(crate) referer: Option<String>,
    /// Basic authentication (shown redacted in every view)
    #[arg(
        short = 'u',
        long = "user",
        value_name = "USER:PASSWORD",
        help_heading = "Request"
    )]
    pub(crate) user: Option<String>,
    /// Send HEAD and read no body
    #[arg(short = 'I', long = "head", help_heading = "Request")]
    pub(crate) head: bool,

    /// Follow redirects: each hop its own waterfall, then the whole call's total
    #[arg(short = 'L', long = "location", help_heading = "Connection")]
    pub(crate) location: bool,
    /// How many redirects -L follows
    #[arg(
        long,
        value_name = "N",
        default_value_t = 50,
        help_heading = "Connection"
    )]
    pub(crate) max_redirs: u32,
    /// Accept any server certificate (ssl_verify_result still tells)
    #[arg(short = 'k', long, help_heading = "Connection")]
    pub(crate) insecure: bool,
    /// Trust the certificates of this PEM file for https:// (instead of the platform's)
    #[arg(long, value_name = "FILE", help_heading = "Connection")]
    pub(crate) cacert: Option<PathBuf>,
    /// Connect over IPv4 only
    #[arg(
        short = '4',
        long,
        conflicts_with = "ipv6",
        help_heading = "Connection"
    )]
    pub(crate) ipv4: bool,
    /// Connect over IPv6 only
    #[arg(short = '6', long, help_heading = "Connection")]
    pub(crate) ipv6: bool,
    /// Resolve HOST on PORT to ADDR (repeatable; the lookup still shows)
    #[arg(long, value_name = "HOST:PORT:ADDR", help_heading = "Connection")]
    pub(crate) resolve: Vec<String>,
    /// Connect to HOST2:PORT2 for requests to HOST1:PORT1 (repeatable; TLS and Host keep
    /// HOST1)
    #[arg(
        long,
        value_name = "HOST1:PORT1:HOST2:PORT2",
        help_heading = "Connection"
    )]
    pub(crate) connect_to: Vec<String>,
    /// Give up a request (body included) after SECONDS
    #[arg(short = 'm', long, value_name = "SECONDS", help_heading = "Connection")]
    pub(crate) max_time: Option<f64>,
    /// Give up connecting after SECONDS: lookup, TCP, a proxy's tunnel and TLS together
    /// (without it, a TLS handshake gives up after 10 s)
    #[arg(long, value_name = "SECONDS", help_heading = "Connection")]
    pub(crate) connect_timeout: Option<f64>,
    /// Go through this HTTP proxy, with a CONNECT tunnel for every URL (curl's -p)
    #[arg(
        short = 'x',
        long,
        value_name = "http://HOST:PORT",
        help_heading = "Connection"
    )]
    pub(crate) proxy: Option<String>,
    /// Offer only HTTP/1.1 by ALPN
    #[arg(
        long = "http1.1",
        conflicts_with = "http2",
        help_heading = "Connection"
    )]
    pub(crate) http1_1: bool,
    /// Offer only HTTP/2 by ALPN; on http:// speak it without asking (prior knowledge)
    #[arg(long, help_heading = "Connection")]
    pub(crate) http2: bool,

    /// Fail on an answer of 400 or more: no body, curl's exit code 22
    #[arg(short = 'f', long, help_heading = "Request")]
    pub(crate) fail: bool,
    /// Try a transient failure again, up to N times: a timeout, or an answer of 408, 429,
    /// 500, 502, 503 or 504 (curl's rules)
    #[arg(long, value_name = "N", default_value_t = 0, help_heading = "Request")]
    pub(crate) retry: u32,
    /// Wait SECONDS before each retry (default: 1 s, doubling each time; Retry-After wins)
    #[arg(long, value_name = "SECONDS", help_heading = "Request")]
    pub(crate) retry_delay: Option<f64>,
    /// Start no retry after SECONDS since the first attempt
    #[arg(long, value_name = "SECONDS", help_heading = "Request")]
    pub(crate) retry_max_time: Option<f64>,

    /// Send each URL N times (on one client: see the connection reused)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1,
        help_heading = "Many requests"
    )]
    pub(crate) repeat: u64,
    /// Keep C requests in flight at once
    #[arg(long, value_name = "C", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..=1024), help_heading = "Many requests")]
    pub(crate) concurrency: u64,
}
