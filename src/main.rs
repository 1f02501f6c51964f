//! The `trailpq` binary: everything lives in the library.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    trailpq::commands::main(std::env::args_os())
}
