//! Pull requests in GitHub's GraphQL shape: `PullRequest` with its reviews, commits (capped at
//! 250 like GitHub, with the true `totalCount`) and timeline items (`commits.rs`, `timeline.rs`).
//!
//! Each object holds the pull request it belongs to (an `Arc` cloned out of the world when its
//! page was cut), so a PR and everything nested in it come from one consistent state.

use super::Env;
use super::accounts::Actor;
use super::commits::{Commit, PullRequestCommit};
use super::paging::{self, Key, PageArgs, connection};
use super::repository::{IssueOrder, IssueOrderField, OrderDirection, Repository};
use super::schema::{
    BigInt, CommentAuthorAssociation, DateTime, GitObjectId, Uri, int32_id, not_found,
};
use super::timeline::{PullRequestTimelineItems, PullRequestTimelineItemsItemType, timeline};
use crate::sim::json::node_id;
use crate::sim::rest::PR_COMMITS_CAP;
use crate::sim::world::{Pull, Review, ReviewState};
use async_graphql::{Enum, ID, Object, Result};
use std::sync::Arc;

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PullRequestState {
    Open,
    Closed,
    Merged,
}

impl PullRequestState {
    fn of(p: &Pull) -> PullRequestState {
        if p.open {
            PullRequestState::Open
        } else if p.merged() {
            PullRequestState::Merged
        } else {
            PullRequestState::Closed
        }
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum PullRequestReviewState {
    Pending,
    Commented,
    Approved,
    ChangesRequested,
    Dismissed,
}

impl From<ReviewState> for PullRequestReviewState {
    fn from(s: ReviewState) -> Self {
        match s {
            ReviewState::Approved => PullRequestReviewState::Approved,
            ReviewState::ChangesRequested => PullRequestReviewState::ChangesRequested,
            ReviewState::Commented => PullRequestReviewState::Commented,
            ReviewState::Dismissed => PullRequestReviewState::Dismissed,
        }
    }
}

/// `pullRequests(...)`'s filters and order.
pub struct PullFilter {
    pub states: Option<Vec<PullRequestState>>,
    pub head_ref_name: Option<String>,
    pub base_ref_name: Option<String>,
    pub order_by: Option<IssueOrder>,
}

/// One page of a repository's pull requests. Only the page's pull requests are cloned out of
/// the world (under one short lock, so the count and the page agree).
pub fn pull_requests(
    env: &Arc<Env>,
    repo_id: u64,
    filter: &PullFilter,
    args: &PageArgs,
) -> Result<PullRequestConnection> {
    // GitHub's default order is creation, oldest first.
    let (field, dir) = filter
        .order_by
        .map_or((IssueOrderField::CreatedAt, OrderDirection::Asc), |o| {
            (o.field, o.direction)
        });
    let desc = dir == OrderDirection::Desc;
    let page = env.with_world(|w| {
        let mut keyed: Vec<(Key, &Pull)> = w
            .repo_pulls(repo_id)
            .filter(|p| {
                filter
                    .states
                    .as_ref()
                    .is_none_or(|s| s.contains(&PullRequestState::of(p)))
            })
            .filter(|p| {
                filter
                    .head_ref_name
                    .as_ref()
                    .is_none_or(|h| *h == p.head_ref)
            })
            .filter(|p| {
                filter
                    .base_ref_name
                    .as_ref()
                    .is_none_or(|b| *b == p.base_ref)
            })
            .map(|p| {
                let v = match field {
                    IssueOrderField::CreatedAt => p.created_at,
                    IssueOrderField::UpdatedAt => p.updated_at,
                    IssueOrderField::Comments => 0,
                };
                ((v, p.number), p)
            })
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        if desc {
            keyed.reverse();
        }
        // Clone out only the page, inside the lock.
        paging::page(keyed, args, desc).map(|pg| pg.map(|p| Arc::new(p.clone())))
    })?;
    Ok(PullRequestConnection(
        page.map(|p| PullRequest::new(env, p)),
    ))
}

connection!(PullRequestConnection, PullRequestEdge, PullRequest);
connection!(
    PullRequestReviewConnection,
    PullRequestReviewEdge,
    PullRequestReview
);
connection!(
    PullRequestCommitConnection,
    PullRequestCommitEdge,
    PullRequestCommit
);
connection!(
    PullRequestTimelineItemsConnection,
    PullRequestTimelineItemsEdge,
    PullRequestTimelineItems
);

#[derive(Clone)]
pub struct PullRequest {
    env: Arc<Env>,
    p: Arc<Pull>,
}

impl PullRequest {
    pub fn new(env: &Arc<Env>, p: Arc<Pull>) -> PullRequest {
        PullRequest {
            env: env.clone(),
            p,
        }
    }

    pub(super) fn repo(&self) -> Option<Repository> {
        self.env
            .repos
            .contains_key(&self.p.repo_id)
            .then(|| Repository::new(&self.env, self.p.repo_id))
    }

    pub(super) fn html_url(&self) -> String {
        let nwo = self.repo().map(|r| r.nwo()).unwrap_or_default();
        format!("{}/{nwo}/pull/{}", self.env.web(), self.p.number)
    }
}

#[Object]
impl PullRequest {
    pub async fn id(&self) -> ID {
        ID(node_id("PullRequest", self.p.id))
    }

    #[graphql(
        deprecation = "`databaseId` will be removed because it does not support 64-bit signed integer identifiers. Use `fullDatabaseId` instead. Removal on 2024-07-01 UTC."
    )]
    async fn database_id(&self) -> Result<Option<i32>> {
        int32_id(self.p.id)
    }

    async fn full_database_id(&self) -> BigInt {
        BigInt::of(self.p.id)
    }

    async fn number(&self) -> u64 {
        self.p.number
    }

    async fn title(&self) -> &str {
        &self.p.title
    }

    async fn body(&self) -> &str {
        &self.p.body
    }

    async fn url(&self) -> Uri {
        Uri(self.html_url())
    }

    async fn permalink(&self) -> Uri {
        Uri(self.html_url())
    }

    async fn state(&self) -> PullRequestState {
        PullRequestState::of(&self.p)
    }

    async fn is_draft(&self) -> bool {
        self.p.draft
    }

    async fn closed(&self) -> bool {
        !self.p.open
    }

    async fn merged(&self) -> bool {
        self.p.merged()
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.p.created_at)
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.p.updated_at)
    }

    async fn closed_at(&self) -> Option<DateTime> {
        self.p.closed_at.map(DateTime)
    }

    async fn merged_at(&self) -> Option<DateTime> {
        self.p.merged_at.map(DateTime)
    }

    async fn merged_by(&self) -> Option<Actor> {
        Actor::new(&self.env, self.p.merged_by?)
    }

    async fn merge_commit(&self) -> Option<Commit> {
        self.p.merge_commit_sha.as_ref()?;
        Some(Commit::merge(&self.env, &self.p))
    }

    async fn additions(&self) -> u64 {
        self.p.additions()
    }

    async fn deletions(&self) -> u64 {
        self.p.deletions()
    }

    async fn changed_files(&self) -> u64 {
        self.p.changed_files
    }

    async fn head_ref_name(&self) -> &str {
        &self.p.head_ref
    }

    async fn base_ref_name(&self) -> &str {
        &self.p.base_ref
    }

    async fn labels(
        &self,
        order_by: Option<super::issues::LabelOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Option<super::issues::LabelConnection>> {
        let _ = order_by;
        let args = PageArgs::new(first, after, last, before);
        super::issues::labels_of(&self.env, self.p.repo_id, &self.p.labels, &args).map(Some)
    }

    async fn head_ref_oid(&self) -> GitObjectId {
        GitObjectId(self.p.head_sha())
    }

    async fn author(&self) -> Option<Actor> {
        Actor::new(&self.env, self.p.user_id)
    }

    async fn author_association(&self) -> CommentAuthorAssociation {
        CommentAuthorAssociation::of(&self.env, self.p.user_id)
    }

    async fn repository(&self) -> Result<Repository> {
        self.repo()
            .ok_or_else(|| not_found("The repository is gone.".into()))
    }

    /// A list of reviews associated with the pull request, in submission order.
    #[allow(clippy::too_many_arguments)]
    async fn reviews(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        states: Option<Vec<PullRequestReviewState>>,
        author: Option<String>,
    ) -> Result<PullRequestReviewConnection> {
        let author_id = match &author {
            Some(login) => {
                let a = self
                    .env
                    .accounts
                    .values()
                    .find(|a| a.login.eq_ignore_ascii_case(login));
                Some(a.map_or(0, |a| a.id))
            }
            None => None,
        };
        let items = self
            .p
            .reviews
            .iter()
            .enumerate()
            .filter(|(_, r)| states.as_ref().is_none_or(|s| s.contains(&r.state.into())))
            .filter(|(_, r)| author_id.is_none_or(|id| id == r.user_id))
            .map(|(i, r)| {
                (
                    (i as i64, r.id),
                    PullRequestReview::new(&self.env, &self.p, i),
                )
            })
            .collect();
        let page = paging::page(items, &PageArgs::new(first, after, last, before), false)?;
        Ok(PullRequestReviewConnection(page))
    }

    /// The pull request's commits: the first 250, as on GitHub (`totalCount` is the true count).
    async fn commits(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<PullRequestCommitConnection> {
        let items = (0..self.p.commits.len().min(PR_COMMITS_CAP))
            .map(|i| ((i as i64, 0), PullRequestCommit::new(&self.env, &self.p, i)))
            .collect();
        let mut page = paging::page(items, &PageArgs::new(first, after, last, before), false)?;
        page.total = self.p.commits.len();
        Ok(PullRequestCommitConnection(page))
    }

    /// What happened to the pull request, oldest first.
    #[allow(clippy::too_many_arguments)]
    async fn timeline_items(
        &self,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        since: Option<DateTime>,
        item_types: Option<Vec<PullRequestTimelineItemsItemType>>,
    ) -> Result<PullRequestTimelineItemsConnection> {
        let items = timeline(&self.env, &self.p)
            .into_iter()
            .filter(|(k, item)| {
                since.is_none_or(|s| k.0 >= s.0)
                    && item_types.as_ref().is_none_or(|t| t.contains(&item.kind()))
            })
            .collect();
        let page = paging::page(items, &PageArgs::new(first, after, last, before), false)?;
        Ok(PullRequestTimelineItemsConnection(page))
    }
}

/// A review; `i` indexes the pull request's reviews.
#[derive(Clone)]
pub struct PullRequestReview {
    env: Arc<Env>,
    p: Arc<Pull>,
    i: usize,
}

impl PullRequestReview {
    pub(super) fn new(env: &Arc<Env>, p: &Arc<Pull>, i: usize) -> PullRequestReview {
        PullRequestReview {
            env: env.clone(),
            p: p.clone(),
            i,
        }
    }

    /// `node(id:)` for a review: find its pull request in the world.
    pub fn by_id(env: &Arc<Env>, id: u64) -> Option<PullRequestReview> {
        let (p, i) = env.with_world(|w| {
            w.pulls.values().find_map(|p| {
                let i = p.reviews.iter().position(|r| r.id == id)?;
                Some((p.clone(), i))
            })
        })?;
        env.repo(p.repo_id)?;
        Some(PullRequestReview::new(env, &Arc::new(p), i))
    }

    fn r(&self) -> &Review {
        &self.p.reviews[self.i]
    }
}

#[Object]
impl PullRequestReview {
    pub async fn id(&self) -> ID {
        ID(node_id("PullRequestReview", self.r().id))
    }

    #[graphql(
        deprecation = "`databaseId` will be removed because it does not support 64-bit signed integer identifiers. Use `fullDatabaseId` instead. Removal on 2024-07-01 UTC."
    )]
    async fn database_id(&self) -> Result<Option<i32>> {
        int32_id(self.r().id)
    }

    async fn full_database_id(&self) -> BigInt {
        BigInt::of(self.r().id)
    }

    async fn author(&self) -> Option<Actor> {
        Actor::new(&self.env, self.r().user_id)
    }

    async fn author_association(&self) -> CommentAuthorAssociation {
        CommentAuthorAssociation::of(&self.env, self.r().user_id)
    }

    async fn state(&self) -> PullRequestReviewState {
        self.r().state.into()
    }

    async fn body(&self) -> &str {
        &self.r().body
    }

    async fn submitted_at(&self) -> Option<DateTime> {
        Some(DateTime(self.r().submitted_at))
    }

    async fn created_at(&self) -> DateTime {
        DateTime(self.r().submitted_at)
    }

    async fn updated_at(&self) -> DateTime {
        DateTime(self.r().submitted_at)
    }

    async fn url(&self) -> Uri {
        let pr = PullRequest::new(&self.env, self.p.clone());
        Uri(format!(
            "{}#pullrequestreview-{}",
            pr.html_url(),
            self.r().id
        ))
    }

    /// The commit the review was made on.
    async fn commit(&self) -> Option<Commit> {
        let sha = &self.r().commit_id;
        let i = self.p.commits.iter().position(|c| c.sha == *sha)?;
        Some(Commit::of(&self.env, &self.p, i))
    }

    async fn pull_request(&self) -> PullRequest {
        PullRequest::new(&self.env, self.p.clone())
    }
}
