// mimalloc: the webhook path allocates a 21 KB body per delivery, and glibc's allocator spent
// about a sixth of the daemon's CPU on it under load (see webhook-bench).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tidemark_daemon::cli::main_from(std::env::args_os())
}
