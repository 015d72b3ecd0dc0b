//! What every test asserts or waits for: well-formed logs, settled dials, bounded waits.

use std::time::Duration;

use http_body_util::BodyExt;
use httptrace::{Event, EventKind};

/// The event names, with header fields shown as `WroteHeaderField(name)`.
pub fn names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match &e.kind {
            EventKind::WroteHeaderField(f) => format!("WroteHeaderField({})", f.name),
            _ => e.name().to_owned(),
        })
        .collect()
}

/// Waits until `cond` holds, for hooks that fire in another task; panics after 10 s.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// An error's message followed by its sources' messages.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        out.push(s.to_string());
        source = s.source();
    }
    out
}

/// The `GotConn` of a log.
pub fn got_conn(events: &[Event]) -> httptrace::GotConnInfo {
    events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::GotConn(i) => Some(i.clone()),
            _ => None,
        })
        .expect("a GotConn")
}

/// Fails the test instead of hanging it.
pub async fn within<F: std::future::Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(20), fut)
        .await
        .unwrap_or_else(|_| panic!("{what} took more than 20 s"))
}

/// The invariants every request's log must hold, whatever went wrong (issue #5): every
/// `*Start` has exactly one matching `*Done` after it; `GotConn` at most once (one attempt);
/// `PutIdleConn` at most once, and only after a `GotConn`; `WroteRequest` at most once and
/// only after a `GotConn`; nothing before `GetConn`.
pub fn assert_well_formed(events: &[Event]) {
    let names = names(events);
    let count = |n: &str| names.iter().filter(|m| *m == n).count();
    assert_eq!(
        names.first().map(String::as_str),
        Some("GetConn"),
        "{names:?}"
    );
    assert_eq!(count("GetConn"), 1, "{names:?}");
    for (start, done) in [
        ("DNSStart", "DNSDone"),
        ("ConnectStart", "ConnectDone"),
        ("TLSHandshakeStart", "TLSHandshakeDone"),
    ] {
        assert_eq!(count(start), count(done), "{start}/{done} in {names:?}");
        let mut open = 0i32;
        for n in &names {
            if n == start {
                open += 1;
            } else if n == done {
                open -= 1;
                assert!(open >= 0, "{done} before its {start} in {names:?}");
            }
        }
    }
    // Dials are per address: each ConnectDone names an address a ConnectStart named.
    let mut dialling = std::collections::HashMap::new();
    for e in events {
        match &e.kind {
            EventKind::ConnectStart(s) => *dialling.entry(s.addr).or_insert(0) += 1,
            EventKind::ConnectDone(d) => {
                let n = dialling
                    .get_mut(&d.addr)
                    .expect("ConnectDone for an address never dialled");
                *n -= 1;
                assert!(*n >= 0);
            }
            _ => {}
        }
    }
    assert!(count("GotConn") <= 1, "{names:?}");
    for once in [
        "PutIdleConn",
        "WroteRequest",
        "WroteHeaders",
        "GotFirstResponseByte",
    ] {
        assert!(count(once) <= 1, "{once} twice in {names:?}");
        if count(once) == 1 {
            let at = names.iter().position(|n| n == once).unwrap();
            let got = names.iter().position(|n| n == "GotConn");
            assert!(
                got.is_some_and(|g| g < at),
                "{once} without a GotConn before it in {names:?}"
            );
        }
    }
}

/// What a dial in [`settle`]'s log goes through after its TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dials {
    /// Plain TCP: a connection's `ConnectDone` ends its dial.
    Tcp,
    /// TLS over TCP: a connection's `ConnectDone` is followed by its handshake.
    Tls,
}

/// Waits until every dial and lookup in `log` has its end: a dial that lost the race to an
/// idle connection finishes in the background, after its request (as in Go), and reports late.
///
/// Counting starts and ends is not enough: a lookup's `DNSDone` and its first `ConnectStart`,
/// and a connection's `ConnectDone` and its `TLSHandshakeStart`, fire in one poll of the dial
/// on another thread, and a log read between them looks balanced. So a settled log also has
/// a `ConnectStart` for every lookup that found addresses and, over TLS, a
/// `TLSHandshakeStart` for every connection made.
pub async fn settle(log: &httptrace::EventLog, dials: Dials) {
    let settled = || {
        let events = log.events();
        let count = |x: &str| events.iter().filter(|e| e.name() == x).count();
        let found = events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::DnsDone(d) if !d.addrs.is_empty()))
            .count();
        let connected = events
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::ConnectDone(d) if d.err.is_none()))
            .count();
        count("DNSStart") == count("DNSDone")
            && count("ConnectStart") == count("ConnectDone")
            && count("TLSHandshakeStart") == count("TLSHandshakeDone")
            && found <= count("ConnectStart")
            && (dials == Dials::Tcp || connected == count("TLSHandshakeStart"))
    };
    eventually("background dials to finish", settled).await;
}

/// The values `WroteHeaderField` reported for `name`, in order (one per call).
pub fn written_values(events: &[Event], name: &str) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::WroteHeaderField(f) if f.name == name => {
                Some(String::from_utf8_lossy(f.values[0].as_bytes()).into_owned())
            }
            _ => None,
        })
        .collect()
}

/// What the caller saw of `sent`: the status and the body's outcome, or the error chain;
/// "timed out" past `patience`.
pub async fn outcome_within<B, E>(
    patience: Duration,
    sent: impl std::future::Future<Output = Result<http::Response<B>, E>>,
) -> String
where
    B: http_body::Body,
    B::Error: std::error::Error + 'static,
    E: std::error::Error + 'static,
{
    match tokio::time::timeout(patience, sent).await {
        Err(_) => "timed out".to_owned(),
        Ok(Ok(res)) => {
            let status = res.status();
            match res.into_body().collect().await {
                Ok(body) => format!("{status} body {:?}", body.to_bytes()),
                Err(e) => format!("{status} body error {:?}", error_chain(&e)),
            }
        }
        Ok(Err(e)) => format!("error {:?}", error_chain(&e)),
    }
}

/// Shuts `io` down through hyper's I/O traits and checks that the socket heard it: nothing
/// can be written after.
pub async fn assert_shuts_down(io: &mut (impl hyper::rt::Write + Unpin)) {
    use std::pin::Pin;
    std::future::poll_fn(|cx| hyper::rt::Write::poll_shutdown(Pin::new(&mut *io), cx))
        .await
        .unwrap();
    let wrote =
        std::future::poll_fn(|cx| hyper::rt::Write::poll_write(Pin::new(&mut *io), cx, b"x")).await;
    assert!(wrote.is_err(), "written after shutdown");
}
