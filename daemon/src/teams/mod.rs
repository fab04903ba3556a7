//! A team's data as its members read it: the repositories it tracks and the ones it could
//! (`repos`), reports over the synced pull requests (`reports`: members, pull requests with
//! their figures, aggregates), and who reviewed what (`activity`). Reads of the store, and of
//! GitHub for the repositories a team could track.

pub mod activity;
pub mod reports;
pub mod repos;
