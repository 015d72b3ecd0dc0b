//! The `httpstat` command: see the library's docs, or `httpstat --help`.

fn main() -> std::process::ExitCode {
    httpstat::main()
}
