//! Building, cloning, composing and firing traces. Run with `cargo bench --bench trace`.

use criterion::{criterion_group, criterion_main, Criterion};
use httptrace::{ClientTrace, GetConnInfo, HookKind};

static HITS: httptrace_suite::Hits = httptrace_suite::Hits::new();

fn trace(c: &mut Criterion) {
    let full = httptrace_suite::every_hook_counting(&HITS);
    let empty = ClientTrace::new();
    c.bench_function("clone", |b| b.iter(|| std::hint::black_box(&full).clone()));
    c.bench_function("compose_with_empty", |b| {
        b.iter(|| std::hint::black_box(&full).compose(&empty))
    });
    c.bench_function("compose_two_full", |b| {
        b.iter(|| std::hint::black_box(&full).compose(&full))
    });
    c.bench_function("is_set", |b| {
        b.iter(|| std::hint::black_box(&full).is_set(HookKind::WroteHeaderField))
    });
    let info = GetConnInfo::new("127.0.0.1:8080");
    c.bench_function("fire_get_conn", |b| {
        b.iter(|| std::hint::black_box(&full).get_conn(&info))
    });
    let composed = full.compose(&full);
    c.bench_function("fire_get_conn_composed", |b| {
        b.iter(|| std::hint::black_box(&composed).get_conn(&info))
    });
    c.bench_function("fire_unset_hook", |b| {
        b.iter(|| std::hint::black_box(&empty).get_conn(&info))
    });
}

criterion_group!(benches, trace);
criterion_main!(benches);
