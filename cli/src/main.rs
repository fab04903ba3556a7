//! `tidemark`: the client (the `tidemark-tui` library) with the daemon built in. The only crate
//! that links both: `tidemark daemon ARGS` runs the daemon's own entry point in this process,
//! which is how the client starts a daemon when none answers.

fn main() -> std::process::ExitCode {
    tidemark_tui::cli::main_from(std::env::args_os(), |args| {
        tidemark_daemon::cli::main_from(args)
    })
}
