fn main() -> std::process::ExitCode {
    tidemark_daemon::cli::main_from(std::env::args_os())
}
