//! tidemarkd as a library: the binary is a thin `main` over [`cli::main_from`], so tests and the
//! `tidemark` client (which can start its built-in daemon) run exactly the same code.
//!
//! Code map, from the bottom up (a module imports only from those above it in this list):
//! - Foundations: [`failpoint`] (crash points for tests), [`logging`] (with a throttle for
//!   repeated lines), [`paths`] and [`data_dir`] (where things live), [`accept`] (accept loops
//!   that never spin), [`loopback`] (the browser pages' small HTTP server), [`crypto`] (Fernet keys, secrets), [`store`] (sled records, the
//!   webhook spool, the per-PR figures), [`auth`] (callers, roles, uids), [`github`] (the only
//!   module that knows GitHub), [`settings`], [`wire`] (records as the wire shows them).
//! - [`context`]: the handle every service takes, with the event bus.
//! - Services: [`delivery`] (the DORA measures computed from the store, the team's rules),
//!   [`agreements`] (working agreements: breaches checked live, alerts, adherence),
//!   [`slack`] (the only module that knows Slack: connecting, posting breaches),
//!   [`sync`] (full and incremental syncs, the schedule, delivery data), [`webhooks`] (the
//!   receiver, the applier, the hooks on GitHub), [`teams`] (tracked repositories, reports,
//!   activity), [`connect`] (OAuth flows).
//! - [`rpc`]: the socket and a thin adapter from the `Tidemark` trait to the services.
//! - Top: [`ops`] (backup, doctor, service install, the control socket, the disk watch),
//!   [`lifecycle`] (start, serve, stop), [`cli`] (the command line).

pub mod accept;
pub mod agreements;
pub mod auth;
pub mod cli;
pub mod connect;
pub mod context;
pub mod crypto;
pub mod data_dir;
pub mod delivery;
pub mod failpoint;
pub mod github;
pub mod lifecycle;
pub mod logging;
pub mod loopback;
pub mod ops;
pub mod paths;
pub mod rpc;
pub mod settings;
pub mod slack;
pub mod store;
pub mod sync;
pub mod teams;
pub mod webhooks;
pub mod wire;
