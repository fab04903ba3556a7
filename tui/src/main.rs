fn main() -> std::process::ExitCode {
    tidemark_tui::cli::main_from(std::env::args_os())
}
