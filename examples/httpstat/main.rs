//! `cargo run --example httpstat -- [OPTIONS] [URL]...`: the `httpstat` tool
//! (`crates/httpstat`), run from the repository; `--help` lists the options.

fn main() -> std::process::ExitCode {
    httpstat::main()
}
