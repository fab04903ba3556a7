//! tidemarkd as a library: the binary is a thin `main` over [`cli::main_from`], so tests and the
//! `tidemark` client (which can start its built-in daemon) run exactly the same code.

pub mod accept;
pub mod auth;
pub mod cli;
pub mod connect;
pub mod context;
pub mod crypto;
pub mod data_dir;
pub mod failpoint;
pub mod github;
pub mod lifecycle;
pub mod logging;
pub mod ops;
pub mod paths;
pub mod rpc;
pub mod settings;
pub mod store;
pub mod sync;
pub mod teams;
pub mod webhooks;
pub mod wire;
