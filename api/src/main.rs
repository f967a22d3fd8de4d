//! The `staffroom` binary; see `staffroom --help`.

fn main() -> std::process::ExitCode {
    staffroom_api::cli::main()
}
