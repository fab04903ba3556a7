//! tidemark end to end: the real `tidemarkd` and `tidemark` binaries (built by cargo beside
//! this test binary) against the GitHub simulator, in temp dirs, through the helpers of
//! `tidemark_tests::harness`. One test binary, one module per area; the simulator's own tests
//! are in `tests/sim/`.
//!
//! Tests this machine cannot run are ignored with the reason (`tests/build.rs` sets the cfgs).
//! Under `cargo nextest` each test runs in a process of its own; under `cargo test` they share
//! one: the only process-wide change a test makes is `webhooks_attack` raising the open-files
//! soft limit to the hard limit, which the daemon does for itself anyway.

// The daemon's lifecycle, its control commands and the socket.
mod daemon_control;
mod daemon_lifecycle;
mod delivery;
mod rpc_limits;
mod rpc_round_trip;

// The CLI.
mod cli;
mod connect_cli;
mod sync_cli;

// Connecting GitHub, roles and tokens.
mod connect_github;
mod connect_roles;
mod key_rotation;
mod other_users;
mod secrets_canary;
mod token_refresh;

// Sync, metrics and the RPCs over synced data.
mod activity_rpc;
mod sync_crash;
mod sync_github;
mod sync_metrics;

// Working agreements and Slack.
mod agreements;
mod slack;

// Webhooks.
mod org_hooks;
mod webhooks;
mod webhooks_attack;
mod webhooks_flood;
mod webhooks_http;
mod webhooks_order;
mod webhooks_push;

// Operations: backups, doctor, a full disk, the store's crash atomicity.
mod disk_full;
mod ops_cli;
mod ops_data;
mod store_crash;

// The TUI against the real daemon.
mod tui_sim_screens;
mod tui_tmux;

// GitHub's published descriptions, and real GitHub (ignored without a token).
mod github_contract;
mod live_github;
