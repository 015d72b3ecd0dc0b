//! The suite: every end-to-end test that can share a process, one module per area, against
//! real servers on loopback. Tests that change or count process-wide state are in
//! `own_process/`, each binary saying why in its first line.

extern crate httptrace_test_support as support;

mod attribution;
mod composition;
mod facts;
mod faults;
mod go;
mod http1;
mod http2;
mod httpstat_cli;
mod informational;
mod integrations;
mod matrix;
mod records;
mod stats;
mod tls;
