//! The layer's per-request path and the response body wrapper, in isolation: no sockets, no
//! runtime. The inner service answers at once, and futures and bodies are polled by hand.
//!
//! Run with `cargo bench --bench layer`. Each case has a `plain` twin (the same service
//! without the layer) to read the layer's own cost against.

use std::convert::Infallible;
use std::future::{ready, Future};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use httptrace::ClientTrace;
use httptrace_tower::HttpTrace;
use tower::{service_fn, Service};

static HITS: httptrace_suite::Hits = httptrace_suite::Hits::new();

/// Polls a future that is ready at once.
fn now<F: Future>(fut: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(fut).poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("the inner service answers at once"),
    }
}

/// Polls a body that is ready at once to its end.
fn drain<B: Body>(body: B) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut body = pin!(body);
    while let Poll::Ready(Some(frame)) = body.as_mut().poll_frame(&mut cx) {
        let _ = std::hint::black_box(frame);
    }
}

fn answer<B>(_req: Request<B>) -> std::future::Ready<Result<Response<Full<Bytes>>, Infallible>> {
    ready(Ok(Response::new(Full::new(Bytes::from_static(b"ok")))))
}

fn request() -> Request<Full<Bytes>> {
    Request::get("http://127.0.0.1:8080/")
        .body(Full::new(Bytes::new()))
        .unwrap()
}

fn layer(c: &mut Criterion) {
    let mut group = c.benchmark_group("request");
    let mut plain = service_fn(answer);
    group.bench_function("plain", |b| {
        b.iter_batched(request, |req| now(plain.call(req)), BatchSize::SmallInput)
    });
    let mut untraced = HttpTrace::new(service_fn(answer), ClientTrace::new());
    group.bench_function("layer_no_trace", |b| {
        b.iter_batched(
            request,
            |req| now(untraced.call(req)),
            BatchSize::SmallInput,
        )
    });
    let mut traced = HttpTrace::new(
        service_fn(answer),
        httptrace_suite::every_hook_counting(&HITS),
    );
    group.bench_function("layer_every_hook", |b| {
        b.iter_batched(request, |req| now(traced.call(req)), BatchSize::SmallInput)
    });
    group.finish();

    let mut group = c.benchmark_group("response_body");
    group.bench_function("plain", |b| {
        b.iter_batched(
            || now(plain.call(request())).unwrap(),
            |res| drain(res.into_body()),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("layer_no_trace", |b| {
        b.iter_batched(
            || now(untraced.call(request())).unwrap(),
            |res| drain(res.into_body()),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("layer_every_hook", |b| {
        b.iter_batched(
            || now(traced.call(request())).unwrap(),
            |res| drain(res.into_body()),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
