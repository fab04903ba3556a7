//! GitHub's published descriptions of its APIs, committed in `tests/contract/` (see its
//! README), as validators for tests: [`graphql`] (the schema; documents and variables checked
//! as GitHub checks them, deprecated fields), [`openapi`] (REST operations and their documented
//! responses) and [`webhooks`] (payload schemas per event). The files are compiled in
//! (`include_str!`): no file or network is needed at run time. Each description is parsed once
//! per process.

pub mod graphql;
mod graphql_errors;
mod graphql_parse;
mod graphql_values;
pub mod openapi;
pub mod webhooks;
