//! The `bareflow` command line.
mod cli;
fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
