//! Composition, attaching and scoping, pinned against Go's rules.

use std::future::Future;
use std::sync::{Arc, Mutex};

use httptrace::{
    client_trace, current_trace, hook_panics, with_client_trace, ClientTrace, GetConnInfo,
    Got1xxResponseInfo, HookKind,
};

type Log = Arc<Mutex<Vec<String>>>;

fn tagged(log: &Log, tag: &'static str) -> ClientTrace {
    let (a, b, c) = (log.clone(), log.clone(), log.clone());
    ClientTrace::new()
        .on_get_conn(move |i| {
            a.lock()
                .unwrap()
                .push(format!("{tag} GetConn {}", i.host_port))
        })
        .on_wrote_headers(move || b.lock().unwrap().push(format!("{tag} WroteHeaders")))
        .on_got_1xx_response(move |i| {
            c.lock()
                .unwrap()
                .push(format!("{tag} Got1xx {}", i.status.as_u16()));
            Err(format!("{tag} refuses").into())
        })
}

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn newer_trace_hooks_run_before_older_ones() {
    let log = Log::default();
    let trace = tagged(&log, "new").compose(&tagged(&log, "old"));
    trace.get_conn(&GetConnInfo::new("a:80"));
    trace.wrote_headers();
    assert_eq!(
        take(&log),
        [
            "new GetConn a:80",
            "old GetConn a:80",
            "new WroteHeaders",
            "old WroteHeaders"
        ]
    );
}

#[test]
fn a_hook_set_on_one_side_only_survives_composition() {
    let log = Log::default();
    let only_new = {
        let l = log.clone();
        ClientTrace::new()
            .on_got_first_response_byte(move || l.lock().unwrap().push("first byte".into()))
    };
    let composed = only_new.compose(&tagged(&log, "old"));
    composed.got_first_response_byte();
    composed.wrote_headers();
    assert_eq!(take(&log), ["first byte", "old WroteHeaders"]);
    assert!(composed.is_set(HookKind::GotFirstResponseByte));
    assert!(!composed.is_set(HookKind::DnsStart));
    assert!(ClientTrace::new().is_empty());
}

#[test]
fn composing_a_trace_with_itself_runs_each_hook_twice() {
    let log = Log::default();
    let t = tagged(&log, "t");
    t.compose(&t).wrote_headers();
    assert_eq!(take(&log), ["t WroteHeaders", "t WroteHeaders"]);
}

#[test]
fn got_1xx_runs_both_hooks_and_the_newer_error_wins() {
    let log = Log::default();
    let accepting = {
        let l = log.clone();
        ClientTrace::new().on_got_1xx_response(move |_| {
            l.lock().unwrap().push("old accepts".into());
            Ok(())
        })
    };
    let info = Got1xxResponseInfo::new(http::StatusCode::CONTINUE, http::HeaderMap::new());
    let err = tagged(&log, "new")
        .compose(&accepting)
        .got_1xx_response(&info)
        .unwrap_err();
    assert_eq!(err.to_string(), "new refuses");
    assert_eq!(take(&log), ["new Got1xx 100", "old accepts"]);

    let err = tagged(&log, "b")
        .compose(&tagged(&log, "a"))
        .got_1xx_response(&info)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "b refuses",
        "the first error is the result"
    );
    assert!(ClientTrace::new().got_1xx_response(&info).is_ok());
}

#[test]
fn a_panicking_hook_is_contained_and_the_next_hook_still_runs() {
    let log = Log::default();
    let panicking = ClientTrace::new().on_wrote_headers(|| panic!("hook bug"));
    let before = hook_panics();
    panicking.compose(&tagged(&log, "old")).wrote_headers();
    assert_eq!(take(&log), ["old WroteHeaders"]);
    assert_eq!(hook_panics(), before + 1);

    let vetoing_panic = ClientTrace::new().on_got_1xx_response(|_| panic!("veto bug"));
    let info = Got1xxResponseInfo::new(http::StatusCode::CONTINUE, http::HeaderMap::new());
    assert!(
        vetoing_panic.got_1xx_response(&info).is_ok(),
        "a panic is no veto"
    );
}

#[test]
fn attaching_twice_composes_and_the_last_attached_runs_first() {
    let log = Log::default();
    let mut req = http::Request::new(());
    assert!(client_trace(&req).is_none());
    with_client_trace(&mut req, tagged(&log, "first"));
    with_client_trace(&mut req, tagged(&log, "second"));
    client_trace(&req).unwrap().wrote_headers();
    assert_eq!(take(&log), ["second WroteHeaders", "first WroteHeaders"]);
}

#[test]
fn entering_restores_the_previous_trace() {
    let log = Log::default();
    assert!(current_trace().is_none());
    let outer = tagged(&log, "outer");
    let g1 = outer.enter();
    {
        let _g2 = tagged(&log, "inner").enter();
        current_trace().unwrap().wrote_headers();
    }
    current_trace().unwrap().wrote_headers();
    drop(g1);
    assert!(current_trace().is_none());
    assert_eq!(take(&log), ["inner WroteHeaders", "outer WroteHeaders"]);
}

#[test]
fn nested_scopes_compose_innermost_first() {
    let log = Log::default();
    let (outer, inner) = (tagged(&log, "outer"), tagged(&log, "inner"));
    let fut = outer.scope(async move {
        inner
            .scope(async { current_trace().unwrap().wrote_headers() })
            .await;
        current_trace().unwrap().wrote_headers();
    });
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut fut = std::pin::pin!(fut);
    assert!(fut.as_mut().poll(&mut cx).is_ready());
    assert_eq!(
        take(&log),
        [
            "inner WroteHeaders",
            "outer WroteHeaders",
            "outer WroteHeaders"
        ]
    );
    assert!(current_trace().is_none());
}

#[test]
fn a_guard_kept_past_the_lend_it_was_made_in_ends_with_that_lend() {
    let log = Log::default();
    let mut lent = tagged(&log, "lent");
    let kept = lent.lend_while(|| tagged(&log, "kept").enter());
    assert!(!lent.is_empty(), "the lent trace is given back");
    assert!(current_trace().is_none(), "the kept guard's trace is over");
    let _later = tagged(&log, "later").enter();
    drop(kept);
    current_trace().unwrap().wrote_headers();
    assert_eq!(
        take(&log),
        ["later WroteHeaders"],
        "a late drop changes nothing"
    );
}

#[test]
fn guards_dropped_out_of_order_leave_the_outer_one_in_effect() {
    let log = Log::default();
    let outer = tagged(&log, "outer").enter();
    let inner = tagged(&log, "inner").enter();
    drop(outer);
    assert!(
        current_trace().is_none(),
        "the outer guard takes back what is above it"
    );
    drop(inner);
    assert!(current_trace().is_none());
}
