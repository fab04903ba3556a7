//! tidemark's end-to-end harness (start the real binaries in a temp dir and talk to them) and the
//! GitHub and Slack simulators the tests and the offline demo run against.

// serde_json's json! macro recurses once per field; GitHub's repository object has ~80.
#![recursion_limit = "256"]

pub mod contract;
pub mod harness;
pub mod seed;
pub mod sim;
pub mod slack_sim;
pub mod truth;
pub mod tui_state;
