pub mod cli;
pub mod connect;
pub mod fake_daemon;
pub mod real_daemon;
pub mod tui;
