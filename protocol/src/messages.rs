//! Words the daemon sends that a client recognises (and completes with its own command).

/// Why a team's sync or repositories are refused before it is connected. Worded for any client
/// (no command or flag: the TUI shows it too); the command line adds its command.
pub const NOT_CONNECTED: &str = "the team is not connected to GitHub: connect it first";

/// A sync's error when GitHub refused the token (a 401), worded for any client.
pub const UNAUTHORIZED: &str = "GitHub rejected the token (401): reconnect GitHub";
