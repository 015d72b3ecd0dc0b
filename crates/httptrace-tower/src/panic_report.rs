//! Reports a panicking hook once, as a `tracing` error event (feature `tracing`).
//!
//! The core crate contains and counts hook panics but depends on `http` alone; this crate
//! gives it the reporter when its first layer or connector is made.

/// Installs the reporter (once per process; a reporter set earlier by the application wins).
pub(crate) fn install() {
    #[cfg(feature = "tracing")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            httptrace::set_panic_reporter(report);
        });
    }
}

#[cfg(feature = "tracing")]
fn report(panic: &httptrace::HookPanic) {
    tracing::error!(
        target: "httptrace",
        hook = panic.hook,
        panic = %panic.message,
        "a trace hook panicked; the request carries on without it"
    );
}
