//! Tests that count or change process-wide state, one at a time: live connection states
//! (`httptrace_tower::live_connection_states`), the process's resident size, a panic hook
//! counting every panic, OpenTelemetry's global propagator. Every test here starts with
//! [`one_at_a_time`], so none sees another's connections, memory, panics or propagator.

extern crate httptrace_test_support as support;

mod cancellation;
mod hostile_heads;
mod leaks;
mod memory;
mod otel_conventions;

/// Held for a whole test: the tests of this binary run one after another.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}
