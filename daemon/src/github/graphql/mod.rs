//! GitHub's GraphQL API: the transport (`client`), every document tidemark sends
//! (`documents`), and the typed answers they decode into (`nodes`). Nothing outside `github/`
//! writes GraphQL text or reads GraphQL JSON by hand.

pub mod client;
pub mod delivery;
pub mod documents;
pub mod nodes;

pub use client::{Answer, GqlError, GraphQl, endpoint, parse_time};
