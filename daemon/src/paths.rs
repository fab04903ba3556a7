//! Where tidemark keeps things: defined in [`tidemark_protocol::paths`], shared with the client.

pub use tidemark_protocol::paths::*;
