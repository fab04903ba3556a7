//! The client's tests, one binary: the TUI's screens and flows (driven through the update
//! function, the real link and a fake daemon) and the `tidemark` binary's CLI against the fake
//! daemon. A module per area; `support/` holds the fake daemon, the connect helpers and the TUI's
//! key helpers. Snapshots (insta) are named after the module: `client__<module>__<name>.snap`.

mod support;

mod agreements_cli;
mod alerts_cli;
mod alerts_screens;
mod config_file;
mod connect_cli;
mod connect_tui;
mod delivery_cli;
mod delivery_screens;
mod fake_daemon;
mod real_daemon;
mod screens;
mod setup_screens;
mod setup_tui;
mod sync_cli;
mod table_widths;
mod team_screens;
