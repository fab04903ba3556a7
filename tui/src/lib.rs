//! `tidemark-tui`: the terminal UI and scriptable CLI of tidemark, as a library so tests can drive
//! every part of it. It speaks to the daemon through `tidemark-protocol` only and never links the
//! daemon: the `tidemark` binary (the `cli/` crate) calls [`cli::main_from`] with the daemon's
//! entry point for `tidemark daemon ...`.
//!
//! Code map:
//! - [`app`]: the TUI's model (state, actions, events, update; no I/O).
//! - [`autostart`] starts the built-in daemon when none answers.
//! - [`browser`] opens links (CLI and TUI alike); [`clipboard`] builds the OSC 52 sequence.
//! - [`cli`] parses the command line and dispatches; [`commands`] runs the subcommands and
//!   [`output`] words their human output.
//! - [`client`] is the only place that speaks tarpc (framing from `tidemark_protocol::transport`).
//! - [`columns`] lays out every table, the CLI's and the TUI's: numbers whole, text cut with `…`.
//! - [`config`] the config file; [`logging`] the log file; [`timefmt`] times in words.
//! - `fixtures`: fabricated protocol values, for tests only (the `fixtures` feature).
//! - [`link`] the TUI's connection task; [`runtime`] the terminal and event loop.
//! - [`tabs`]: the team screen's tabs, a folder each (state, keys, updates, RPCs, view), and the
//!   list that registers them.
//! - [`views`] pure rendering; [`widgets`] inputs, pop-ups, spinner.

pub mod app;
pub mod autostart;
pub mod browser;
pub mod cli;
pub mod client;
pub mod clipboard;
pub mod columns;
pub mod commands;
pub mod config;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod link;
pub mod logging;
pub mod output;
pub mod runtime;
pub mod tabs;
pub mod timefmt;
pub mod views;
pub mod widgets;
