//! tidemarkd as a library: the binary is a thin `main` over [`cli::main_from`], so tests and the
//! `tidemark` client (which can start its built-in daemon) run exactly the same code.

pub mod cli;
pub mod crypto;
pub mod metrics;
pub mod paths;
pub mod store;
