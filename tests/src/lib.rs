//! tidemark's end-to-end harness: start the real binaries in a temp dir and talk to them.
//! (The GitHub simulator joins this crate with its own issue.)

pub mod harness;
