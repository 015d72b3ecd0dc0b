//! The rules hooks live by (the core's `ClientTrace` docs): a hook may fire from a `Drop` in
//! the caller's context; a request a hook sends is not traced by the request that fired it;
//! a hook may call back into the library (no lock of ours is held while it runs).

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use httptrace::{with_client_trace, ClientTrace, EventLog};
use support::*;
use tokio::task::JoinHandle;

type Spawned = Arc<Mutex<Vec<JoinHandle<()>>>>;

/// Sends a GET of `url` on `client` from inside a hook, at most `limit` times in all.
fn send_from_hook(
    client: &Arc<TestClient>,
    url: &str,
    sent: &Arc<AtomicUsize>,
    spawned: &Spawned,
    limit: usize,
) {
    if sent.fetch_add(1, Ordering::SeqCst) >= limit {
        return;
    }
    // (An assertion here would be a panicking hook, which the library contains.)
    let fut = client.request(get(url));
    spawned.lock().unwrap().push(tokio::spawn(async move {
        read_body(fut.await.unwrap().into_body()).await;
    }));
}

#[tokio::test]
async fn a_request_sent_from_a_hook_is_not_traced_by_the_request_that_fired_it() {
    let server = TestServer::start().await;
    let url = server.url("127.0.0.1", "/");
    let client = Arc::new(client(TestResolver::new(), ClientTrace::new()));
    let (sent, spawned): (Arc<AtomicUsize>, Spawned) = Default::default();
    let log = EventLog::new();
    // GetConn fires where the request is sent (in the scope), ConnectStart inside the
    // request's poll (its trace in effect for the connector): both send a request.
    let (c1, u1, s1, j1) = (client.clone(), url.clone(), sent.clone(), spawned.clone());
    let (c2, u2, s2, j2) = (client.clone(), url.clone(), sent.clone(), spawned.clone());
    let outer = log.trace().compose(
        &ClientTrace::new()
            .on_get_conn(move |_| send_from_hook(&c1, &u1, &s1, &j1, 4))
            .on_connect_start(move |_| send_from_hook(&c2, &u2, &s2, &j2, 4)),
    );
    let sending = outer.scope(async { client.request(get(&url)).await });
    let res = within("the request", sending).await.unwrap();
    read_body(res.into_body()).await;
    let inner: Vec<_> = std::mem::take(&mut *spawned.lock().unwrap());
    for handle in inner {
        within("a request sent from a hook", handle).await.unwrap();
    }
    let names = names(&log.take());
    assert_eq!(
        sent.load(Ordering::SeqCst),
        2,
        "one per hook of the outer request: {names:?}"
    );
    let count = |n: &str| names.iter().filter(|m| *m == n).count();
    assert_eq!(count("GetConn"), 1, "{names:?}");
    assert_eq!(count("ConnectStart"), 1, "{names:?}");
}

#[tokio::test]
async fn every_hook_may_call_back_into_the_library() {
    let server = TestServer::start().await;
    let url = server.url("127.0.0.1", "/");
    let client = Arc::new(client(TestResolver::new(), ClientTrace::new()));
    let (sent, spawned): (Arc<AtomicUsize>, Spawned) = Default::default();
    let called = Arc::new(AtomicUsize::new(0));
    let outside = Arc::new(AtomicUsize::new(0));
    let log = EventLog::new();
    // Every hook sends a request of its own and reads the library's counters.
    let mut trace = log.trace_beyond_go();
    let each = |trace: ClientTrace| {
        let (c, u, s, j, n, o) = (
            client.clone(),
            url.clone(),
            sent.clone(),
            spawned.clone(),
            called.clone(),
            outside.clone(),
        );
        move || {
            n.fetch_add(1, Ordering::SeqCst);
            if !httptrace::in_hook() || httptrace::current_trace().is_some() {
                o.fetch_add(1, Ordering::SeqCst);
            }
            let _ = (
                httptrace_tower::live_connection_states(),
                httptrace::hook_panics(),
            );
            send_from_hook(&c, &u, &s, &j, 64);
            let _ = trace.is_empty();
        }
    };
    let on = each(trace.clone());
    trace = trace.compose(
        &ClientTrace::new()
            .on_get_conn({
                let f = on.clone();
                move |_| f()
            })
            .on_connect_start({
                let f = on.clone();
                move |_| f()
            })
            .on_connect_done({
                let f = on.clone();
                move |_| f()
            })
            .on_got_conn({
                let f = on.clone();
                move |_| f()
            })
            .on_wrote_header_field({
                let f = on.clone();
                move |_| f()
            })
            .on_wrote_headers({
                let f = on.clone();
                move || f()
            })
            .on_wrote_request({
                let f = on.clone();
                move |_| f()
            })
            .on_got_first_response_byte({
                let f = on.clone();
                move || f()
            })
            .on_put_idle_conn({
                let f = on.clone();
                move |_| f()
            })
            .on_request_body_done({
                let f = on.clone();
                move |_| f()
            })
            .on_response_body_done({
                let f = on.clone();
                move |_| f()
            })
            .on_conn_closed({
                let f = on.clone();
                move |_| f()
            }),
    );
    for _ in 0..2 {
        let mut req = get(&url);
        with_client_trace(&mut req, trace.clone());
        let res = within("the request", client.request(req)).await.unwrap();
        read_body(res.into_body()).await;
    }
    let inner: Vec<_> = std::mem::take(&mut *spawned.lock().unwrap());
    for handle in inner {
        within("a request sent from a hook", handle).await.unwrap();
    }
    assert!(called.load(Ordering::SeqCst) >= 20, "every hook ran");
    assert!(!log.take().is_empty());
    assert_eq!(
        outside.load(Ordering::SeqCst),
        0,
        "a hook saw a trace in effect"
    );
}

thread_local! {
    static DROPPING: Cell<bool> = const { Cell::new(false) };
}

#[tokio::test]
async fn dropping_a_response_body_fires_its_hooks_in_the_callers_context() {
    let server = TestServer::start().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (a, b) = (seen.clone(), seen.clone());
    let trace = ClientTrace::new()
        .on_put_idle_conn(move |_| a.lock().unwrap().push(("PutIdleConn", DROPPING.get())))
        .on_response_body_done(move |_| {
            b.lock().unwrap().push(("ResponseBodyDone", DROPPING.get()))
        });
    let client = client(TestResolver::new(), trace);
    let res = within(
        "the request",
        client.request(get(&server.url("127.0.0.1", "/big"))),
    )
    .await
    .unwrap();
    let body = res.into_body();
    DROPPING.set(true);
    drop(body);
    DROPPING.set(false);
    assert_eq!(
        *seen.lock().unwrap(),
        [("PutIdleConn", true), ("ResponseBodyDone", true)],
        "fired from the drop, on the caller's thread, before it returned"
    );
}
