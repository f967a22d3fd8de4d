//! The `staffroom` binary; see `staffroom --help`.

/// mimalloc rather than glibc's malloc: the request path allocates and frees on the HTTP
/// workers and the blocking pool's threads alike, which glibc serves from per-thread arenas
/// that fragment and grow (docs/decisions.md, "The allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    staffroom_api::cli::main()
}
