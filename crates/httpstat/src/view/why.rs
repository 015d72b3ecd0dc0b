//! "Why was it slow", in one line: the phase that took longest, then what only the hooks
//! know — why the connection was new, how long the HTTP/2 stream waited for a place, a full
//! TLS handshake where a session could have been resumed, a redirect that reconnected. Each
//! clause comes from a hook's data; none is guessed.

use httptrace::{CloseReason, EventKind, Phase};

use crate::connections::Before;
use crate::exchange::Hop;
use crate::view::waterfall::millis;

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Backoff => "the wait before a retry",
        Phase::Queue => "waiting for a connection",
        Phase::Dns => "the DNS lookup",
        Phase::Connect => "the TCP connect",
        Phase::Tls => "the TLS handshake",
        Phase::Send => "sending the request",
        Phase::Wait => "the server's processing",
        _ => "the transfer",
    }
}

fn closed_why(reason: &CloseReason) -> String {
    match reason {
        CloseReason::ServerClosed => "the server closed it".to_owned(),
        CloseReason::IdleTimeout => "it passed the pool's idle timeout".to_owned(),
        CloseReason::NotReusable => "its last answer said not to reuse it".to_owned(),
        CloseReason::DroppedUnreadBody => "a body was dropped unread on it".to_owned(),
        CloseReason::Error(e) => format!("it failed ({e})"),
        other => format!("it closed ({other:?})"),
    }
}

/// The clauses of `hop`'s line; `redirected` if it follows a redirect.
pub(crate) fn clauses(hop: &Hop, redirected: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(t) = &hop.timings {
        let total = t.total().unwrap_or_default();
        if let Some((phase, took)) = t.phases().into_iter().max_by_key(|(_, took)| *took) {
            let share = if total.is_zero() {
                0.0
            } else {
                took.as_secs_f64() / total.as_secs_f64() * 100.0
            };
            out.push(format!(
                "longest was {}, {} of {} ({share:.0}%)",
                phase_name(phase),
                millis(took),
                millis(total)
            ));
        }
    }
    let destination = hop.destination();
    let new = if redirected {
        "the redirect needed a new connection"
    } else {
        "a new connection"
    };
    let dest = destination.unwrap_or_default();
    match &hop.before {
        Some(Before::First) if redirected => out.push(format!("{new} (the first to {dest})")),
        Some(Before::First) => {}
        Some(Before::Closed(reason)) => out.push(format!(
            "{new}: the last one to {dest} closed because {}",
            closed_why(reason)
        )),
        Some(Before::Open) => out.push(format!(
            "{new}: the last one to {dest} was busy with another request"
        )),
        None => {}
    }
    if let Some(i) = hop.stream_opened.as_ref().filter(|i| !i.waited.is_zero()) {
        let limit = i
            .max_concurrent_streams
            .map_or_else(String::new, |n| format!(" of {n} streams"));
        out.push(format!(
            "the stream waited {} for a place under the server's limit{limit}",
            millis(i.waited)
        ));
    }
    let shared = hop.events.iter().any(|e| match &e.kind {
        EventKind::DnsDone(i) => i.coalesced,
        _ => false,
    });
    if shared {
        out.push("the DNS lookup was another request's, shared".to_owned());
    }
    if hop.tls_not_resumed {
        out.push("a full TLS handshake, though a session with the server was held".to_owned());
    }
    out
}

/// The line under a waterfall, if there is anything to say.
pub(crate) fn line(hop: &Hop, redirected: bool) -> Option<String> {
    let clauses = clauses(hop, redirected);
    (!clauses.is_empty()).then(|| format!("Why: {}.", clauses.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use httptrace::{Event, GetConnInfo, Http2StreamOpenedInfo};
    use std::time::Duration;

    fn hop() -> Hop {
        let mut hop = Hop::unsent(2, "http://a.test/", http::Method::GET);
        hop.events = vec![Event {
            at: Duration::ZERO,
            kind: EventKind::GetConn(GetConnInfo::new("a.test:80").into_owned()),
        }];
        hop
    }

    /// Each clause comes from one signal, in its own words.
    #[test]
    fn each_signal_gives_its_clause() {
        assert!(clauses(&hop(), false).is_empty(), "nothing to say");

        let mut closed = hop();
        closed.before = Some(Before::Closed(CloseReason::IdleTimeout));
        assert_eq!(
            clauses(&closed, false),
            ["a new connection: the last one to a.test:80 closed because it passed the pool's idle timeout"]
        );
        let mut busy = hop();
        busy.before = Some(Before::Open);
        assert_eq!(
            clauses(&busy, true),
            ["the redirect needed a new connection: the last one to a.test:80 was busy with another request"]
        );
        let mut first = hop();
        first.before = Some(Before::First);
        assert!(
            clauses(&first, false).is_empty(),
            "a first connection is no surprise"
        );
        assert_eq!(
            clauses(&first, true),
            ["the redirect needed a new connection (the first to a.test:80)"]
        );

        let mut waited = hop();
        waited.stream_opened = Some(Http2StreamOpenedInfo::new(
            Duration::from_millis(5),
            Some(1),
        ));
        assert_eq!(
            clauses(&waited, false),
            ["the stream waited 5.00ms for a place under the server's limit of 1 streams"]
        );
        waited.stream_opened = Some(Http2StreamOpenedInfo::new(Duration::ZERO, Some(1)));
        assert!(clauses(&waited, false).is_empty(), "it had room");

        let mut tls = hop();
        tls.tls_not_resumed = true;
        assert_eq!(
            line(&tls, false).unwrap(),
            "Why: a full TLS handshake, though a session with the server was held."
        );
    }
}
