//! The `bareflow` command line: see `bareflow --help` and [`cli`].
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
