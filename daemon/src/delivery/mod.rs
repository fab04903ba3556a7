//! Delivery (DORA) metrics: the team's rules ([`rules`]), and the measures computed from the
//! stored deployments, pull requests and incidents ([`engine`]).

pub mod engine;
#[cfg(test)]
mod engine_tests;
pub mod rules;
