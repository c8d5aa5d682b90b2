//! Temporary stand-in for `sandlite run ...` until the `sandlite` shell's `main`
//! dispatches the `run` subcommand to [`sandlite::run::main`].

fn main() -> std::process::ExitCode {
    sandlite::run::main(std::env::args().skip(1).collect())
}
