//! Logs go to a file, never to the terminal: the TUI owns the screen, and the CLI's stdout is
//! for its output. `RUST_LOG` overrides the default filter.

use std::fs::OpenOptions;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

pub const LOG_FILE: &str = "tui.log";
const DEFAULT_FILTER: &str = "warn,tidemark_tui=info";

/// Send this process's logs to `path` (appended, mode 0600).
pub fn init(path: &Path) -> io::Result<()> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .try_init()
        .map_err(io::Error::other)
}
