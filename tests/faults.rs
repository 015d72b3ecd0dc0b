//! Faults from real servers on loopback: for each, the request's result is the same with and
//! without the layer, and its events hold the invariants (`assert_well_formed`).

mod support;

use std::time::Duration;

use http_body_util::BodyExt;
use httptrace::{EventKind, EventLog};
use support::*;

/// What the caller saw: the status and the body's outcome, or the error chain.
async fn outcome(client: &TestClient, url: &str) -> String {
    match within("the request", client.request(get(url))).await {
        Ok(res) => {
            let status = res.status();
            match res.into_body().collect().await {
                Ok(body) => format!("{status} body {:?}", body.to_bytes()),
                Err(e) => format!("{status} body error {:?}", error_chain(&e)),
            }
        }
        Err(e) => format!("error {:?}", error_chain(&e)),
    }
}

async fn plain_outcome(url: &str) -> String {
    let client = untraced_client(TestResolver::new());
    match within("the request", client.request(get(url))).await {
        Ok(res) => {
            let status = res.status();
            match res.into_body().collect().await {
                Ok(body) => format!("{status} body {:?}", body.to_bytes()),
                Err(e) => format!("{status} body error {:?}", error_chain(&e)),
            }
        }
        Err(e) => format!("error {:?}", error_chain(&e)),
    }
}

/// Runs `url` traced and untraced; returns the traced log after checking both agree.
async fn same_outcome_well_formed(url: &str) -> (String, Vec<httptrace::Event>) {
    let log = EventLog::new();
    let traced = outcome(&client(TestResolver::new(), log.trace()), url).await;
    let plain = plain_outcome(url).await;
    assert_eq!(traced, plain, "the layer changed the outcome");
    tokio::time::sleep(Duration::from_millis(50)).await; // hooks from the connection's task
    let events = log.take();
    assert_well_formed(&events);
    (traced, events)
}

fn put_idle_errors(events: &[httptrace::Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::PutIdleConn(p) => Some(
                p.err
                    .as_ref()
                    .map_or("none".to_owned(), ToString::to_string),
            ),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn reset_in_the_middle_of_the_response_head() {
    let (addr, _s) = misbehaving_server(b"HTTP/1.1 200 OK\r\ncontent-le", true, false).await;
    let (outcome, events) = same_outcome_well_formed(&format!("http://{addr}/")).await;
    assert!(outcome.starts_with("error"), "{outcome}");
    assert!(names(&events).contains(&"GotFirstResponseByte".to_owned()));
    assert!(put_idle_errors(&events).is_empty());
}

#[tokio::test]
async fn reset_in_the_middle_of_the_response_body() {
    let (addr, _s) = misbehaving_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n0123456789",
        true,
        false,
    )
    .await;
    let (outcome, events) = same_outcome_well_formed(&format!("http://{addr}/")).await;
    assert!(outcome.starts_with("200 OK body error"), "{outcome}");
    let errors = put_idle_errors(&events);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("response body failed"), "{errors:?}");
}

#[tokio::test]
async fn a_malformed_response_fails_the_same_way() {
    let (addr, _s) = misbehaving_server(b"HTTP/1.1 abc\r\n\r\n", false, false).await;
    let (outcome, events) = same_outcome_well_formed(&format!("http://{addr}/")).await;
    assert!(outcome.starts_with("error"), "{outcome}");
    assert_eq!(names(&events).last().unwrap(), "GotFirstResponseByte");
}

#[tokio::test]
async fn a_truncated_chunked_body_reports_the_connection_not_reused() {
    let (addr, _s) = misbehaving_server(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhel",
        false,
        false,
    )
    .await;
    let (outcome, events) = same_outcome_well_formed(&format!("http://{addr}/")).await;
    assert!(outcome.starts_with("200 OK body error"), "{outcome}");
    assert_eq!(put_idle_errors(&events).len(), 1);
}

#[tokio::test]
async fn a_server_that_never_answers_leaves_a_well_formed_log() {
    let (addr, _s) = misbehaving_server(b"", false, true).await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    let gave_up = tokio::time::timeout(
        Duration::from_millis(300),
        client.request(get(&format!("http://{addr}/"))),
    )
    .await;
    assert!(gave_up.is_err(), "nothing came");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let events = log.take();
    assert_well_formed(&events);
    assert_eq!(names(&events).last().unwrap(), "WroteRequest");
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_not_used_again() {
    // Answers keep-alive, then closes the connection shortly after.
    let (addr, _s) = misbehaving_server(
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
        false,
        false,
    )
    .await;
    let url = format!("http://{addr}/");
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    for _ in 0..2 {
        assert_eq!(outcome(&client, &url).await, "200 OK body b\"ok\"");
        tokio::time::sleep(Duration::from_millis(300)).await; // the server has closed it by now
        let events = log.take();
        assert_well_formed(&events);
        assert!(!got_conn(&events).reused, "a fresh connection each time");
    }
}
