//! `PullRequest.timelineItems`: commits, reviews and the events a sync needs (ready for review,
//! converted to draft, closed, reopened, merged) in time order, as GitHub's union
//! `PullRequestTimelineItems`.

use super::Env;
use super::accounts::Actor;
use super::commits::{Commit, PullRequestCommit};
use super::paging::Key;
use super::pulls::{PullRequest, PullRequestReview};
use super::schema::DateTime;
use crate::sim::json::node_id;
use crate::sim::world::{Pull, TimelineKind};
use async_graphql::{Enum, ID, Object, Union};
use std::sync::Arc;

/// Everything on a pull request's timeline, keyed by (time, a sequence number that keeps items
/// of one kind in order and puts a merge before the close GitHub records with it).
pub(super) fn timeline(env: &Arc<Env>, p: &Arc<Pull>) -> Vec<(Key, PullRequestTimelineItems)> {
    type T = PullRequestTimelineItems;
    let mut items: Vec<(Key, T)> = Vec::new();
    for (i, c) in p.commits.iter().enumerate() {
        items.push((
            (c.committed_at, i as u64),
            T::PullRequestCommit(PullRequestCommit::new(env, p, i)),
        ));
    }
    for (i, r) in p.reviews.iter().enumerate() {
        let key = (r.submitted_at, 1_000_000 + i as u64);
        items.push((key, T::PullRequestReview(PullRequestReview::new(env, p, i))));
    }
    for (i, e) in p.timeline.iter().enumerate() {
        let ev = |seq: u64| Event {
            env: env.clone(),
            p: p.clone(),
            at: e.at,
            actor_id: e.actor_id,
            seq,
        };
        let seq = 2_000_000 + 2 * i as u64;
        let item = match e.kind {
            TimelineKind::ReadyForReview => T::ReadyForReviewEvent(ReadyForReviewEvent(ev(seq))),
            TimelineKind::ConvertedToDraft => T::ConvertToDraftEvent(ConvertToDraftEvent(ev(seq))),
            TimelineKind::Closed => T::ClosedEvent(ClosedEvent(ev(seq))),
            TimelineKind::Reopened => T::ReopenedEvent(ReopenedEvent(ev(seq))),
            TimelineKind::Merged => {
                // GitHub records a merge as a MergedEvent and a ClosedEvent at the same time.
                items.push(((e.at, seq + 1), T::ClosedEvent(ClosedEvent(ev(seq + 1)))));
                T::MergedEvent(MergedEvent(ev(seq)))
            }
        };
        items.push(((e.at, seq), item));
    }
    items.sort_by_key(|(k, _)| *k);
    items
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PullRequestTimelineItemsItemType {
    PullRequestCommit,
    PullRequestReview,
    ReadyForReviewEvent,
    ConvertToDraftEvent,
    ClosedEvent,
    ReopenedEvent,
    MergedEvent,
}

/// An item in a pull request timeline.
#[derive(Union, Clone)]
pub enum PullRequestTimelineItems {
    PullRequestCommit(PullRequestCommit),
    PullRequestReview(PullRequestReview),
    ReadyForReviewEvent(ReadyForReviewEvent),
    ConvertToDraftEvent(ConvertToDraftEvent),
    ClosedEvent(ClosedEvent),
    ReopenedEvent(ReopenedEvent),
    MergedEvent(MergedEvent),
}

impl PullRequestTimelineItems {
    pub(super) fn kind(&self) -> PullRequestTimelineItemsItemType {
        use PullRequestTimelineItemsItemType as K;
        match self {
            Self::PullRequestCommit(_) => K::PullRequestCommit,
            Self::PullRequestReview(_) => K::PullRequestReview,
            Self::ReadyForReviewEvent(_) => K::ReadyForReviewEvent,
            Self::ConvertToDraftEvent(_) => K::ConvertToDraftEvent,
            Self::ClosedEvent(_) => K::ClosedEvent,
            Self::ReopenedEvent(_) => K::ReopenedEvent,
            Self::MergedEvent(_) => K::MergedEvent,
        }
    }
}

/// What every timeline event has.
#[derive(Clone)]
pub struct Event {
    env: Arc<Env>,
    p: Arc<Pull>,
    at: i64,
    actor_id: u64,
    seq: u64,
}

/// A timeline event type: `id`, `actor`, `createdAt`, `pullRequest` (plus `$extra` fields).
macro_rules! event_type {
    ($t:ident $(, $extra:item)*) => {
        #[derive(Clone)]
        pub struct $t(Event);

        #[Object]
        impl $t {
            pub async fn id(&self) -> ID {
                // Not resolvable through `node`; unique and stable is enough.
                ID(node_id(stringify!($t), self.0.p.id * 10_000_000 + self.0.seq))
            }

            async fn actor(&self) -> Option<Actor> {
                Actor::new(&self.0.env, self.0.actor_id)
            }

            async fn created_at(&self) -> DateTime {
                DateTime(self.0.at)
            }

            async fn pull_request(&self) -> PullRequest {
                PullRequest::new(&self.0.env, self.0.p.clone())
            }

            $($extra)*
        }
    };
}

event_type!(ReadyForReviewEvent);
event_type!(ConvertToDraftEvent);
event_type!(ClosedEvent);
event_type!(ReopenedEvent);
event_type!(
    MergedEvent,
    async fn commit(&self) -> Option<Commit> {
        self.0.p.merge_commit_sha.as_ref()?;
        Some(Commit::merge(&self.0.env, &self.0.p))
    },
    async fn merge_ref_name(&self) -> &str {
        &self.0.p.base_ref
    }
);
