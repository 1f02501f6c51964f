//! The `trailpq` binary: everything lives in the library.

fn main() -> std::process::ExitCode {
    trailpq::commands::main(std::env::args_os())
}
