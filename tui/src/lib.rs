//! `tidemark`: the terminal UI and scriptable CLI of tidemark, as a library so tests can drive
//! every part of it (the binary is a thin `main` over [`cli::main_from`]).
//!
//! Code map:
//! - [`cli`] parses the command line and dispatches; [`commands`] runs the subcommands and
//!   [`output`] words their human output.
//! - [`client`] is the only place that speaks tarpc; [`autostart`] starts the built-in daemon.
//! - [`browser`] opens links (CLI and TUI alike); [`clipboard`] builds the OSC 52 sequence.
//! - [`columns`] lays out every table, the CLI's and the TUI's: numbers whole, text cut with `…`.
//! - The TUI: [`app`] (state, actions, events, update; no I/O), [`views`] (pure rendering),
//!   [`widgets`], [`link`] (the connection task), [`runtime`] (terminal and event loop).

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
