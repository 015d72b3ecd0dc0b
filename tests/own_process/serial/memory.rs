//! Memory stays flat against a server that streams informational responses forever: each
//! request fails after five (Go's limit) and keeps nothing. In the serial binary: it reads
//! the process's resident size (Linux's `/proc/self/status`).

use httptrace::EventLog;
use support::*;

/// The process's resident set, in KiB; `None` where `/proc` has no such line.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_1xx_responses_leave_memory_flat() {
    let _serial = super::one_at_a_time().await;
    let Some(_) = resident_kib() else {
        eprintln!("no /proc/self/status here: nothing to measure");
        return;
    };
    let (addr, mut ends) = endless_continue_server().await;
    let log = EventLog::new();
    let client = client(TestResolver::new(), log.trace());
    let url = format!("http://{addr}/");
    let mut before = 0;
    // 20 to warm up (the runtime, the buffers, the allocator's pools), then 300 measured.
    for round in 0..320 {
        if round == 20 {
            before = resident_kib().unwrap();
        }
        let err = within("the request", client.request(get(&url)))
            .await
            .unwrap_err();
        assert!(err.is_too_many_informational(), "{err}");
        assert!(
            ends.recv().await.unwrap() < 1_000_000,
            "the client closed it"
        );
        let kept = log.take().len();
        assert!(
            kept <= 18,
            "round {round}: {kept} events kept (five 1xx, each two hooks)"
        );
    }
    let after = resident_kib().unwrap();
    println!("resident: {before} KiB before 300 endless-1xx requests, {after} KiB after");
    assert!(
        after < before + 8 * 1024,
        "memory grew from {before} KiB to {after} KiB"
    );
}
