//! Pull requests in GitHub's GraphQL shape: `PullRequest` with its reviews, commits (capped at
//! 250 like GitHub, with the true `totalCount`) and timeline items.
//!
//! Each object holds the pull request it belongs to (an `Arc` cloned out of the world when its
//! page was cut), so a PR and everything nested in it come from one consistent state.

use super::Env;
use super::paging::{self, Key, PageArgs, connection};
use super::schema::{
    Actor, CommentAuthorAssociation, DateTime, GitObjectId, GitTimestamp, IssueOrder,
    IssueOrderField, OrderDirection, Repository, User, Uri, not_found,
};
use crate::sim::json::node_id;
use crate::sim::rest::PR_COMMITS_CAP;
use crate::sim::world::{Commit as WorldCommit, Pull, Review, ReviewState, TimelineKind};
use async_graphql::{Enum, ID, Object, Result, Union};
use std::borrow::Cow;
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
        .map_or((IssueOrderField::CreatedAt, OrderDirection::Asc), |o| (o.field, o.direction));
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
            .filter(|p| filter.head_ref_name.as_ref().is_none_or(|h| *h == p.head_ref))
            .filter(|p| filter.base_ref_name.as_ref().is_none_or(|b| *b == p.base_ref))
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
        paging::page(keyed, args, desc)
            .map(|pg| paging::Page {
                nodes: pg.nodes.into_iter().map(|p| Arc::new(p.clone())).collect::<Vec<_>>(),
                cursors: pg.cursors,
                total: pg.total,
                info: pg.info,
            })
    })?;
    Ok(PullRequestConnection(paging::Page {
        nodes: page.nodes.into_iter().map(|p| PullRequest::new(env, p)).collect(),
        cursors: page.cursors,
        total: page.total,
        info: page.info,
    }))
}

connection!(PullRequestConnection, PullRequestEdge, PullRequest);
connection!(PullRequestReviewConnection, PullRequestReviewEdge, PullRequestReview);
connection!(PullRequestCommitConnection, PullRequestCommitEdge, PullRequestCommit);
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
        PullRequest { env: env.clone(), p }
    }

    fn repo(&self) -> Option<Repository> {
        self.env
            .repos
            .contains_key(&self.p.repo_id)
            .then(|| Repository::new(&self.env, self.p.repo_id))
    }

    fn html_url(&self) -> String {
        let nwo = self.repo().map(|r| r.nwo()).unwrap_or_default();
        format!("{}/{nwo}/pull/{}", self.env.web(), self.p.number)
    }
}

#[Object]
impl PullRequest {
    pub async fn id(&self) -> ID {
        ID(node_id("PullRequest", self.p.id))
    }

    async fn database_id(&self) -> u64 {
        self.p.id
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
            .map(|(i, r)| ((i as i64, r.id), PullRequestReview::new(&self.env, &self.p, i)))
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

/// Everything on a pull request's timeline, keyed by (time, a sequence number that keeps items
/// of one kind in order and puts a merge before the close GitHub records with it).
fn timeline(env: &Arc<Env>, p: &Arc<Pull>) -> Vec<(Key, PullRequestTimelineItems)> {
    type T = PullRequestTimelineItems;
    let mut items: Vec<(Key, T)> = Vec::new();
    for (i, c) in p.commits.iter().enumerate() {
        items.push(((c.committed_at, i as u64), T::PullRequestCommit(PullRequestCommit::new(env, p, i))));
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
    fn kind(&self) -> PullRequestTimelineItemsItemType {
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

/// A review; `i` indexes the pull request's reviews.
#[derive(Clone)]
pub struct PullRequestReview {
    env: Arc<Env>,
    p: Arc<Pull>,
    i: usize,
}

impl PullRequestReview {
    fn new(env: &Arc<Env>, p: &Arc<Pull>, i: usize) -> PullRequestReview {
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

    async fn database_id(&self) -> u64 {
        self.r().id
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
        Uri(format!("{}#pullrequestreview-{}", pr.html_url(), self.r().id))
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

/// A commit as part of a pull request; `i` indexes the pull request's commits.
#[derive(Clone)]
pub struct PullRequestCommit {
    env: Arc<Env>,
    p: Arc<Pull>,
    i: usize,
}

impl PullRequestCommit {
    fn new(env: &Arc<Env>, p: &Arc<Pull>, i: usize) -> PullRequestCommit {
        PullRequestCommit {
            env: env.clone(),
            p: p.clone(),
            i,
        }
    }
}

#[Object]
impl PullRequestCommit {
    pub async fn id(&self) -> ID {
        // GitHub's legacy form: "0NN:PullRequestCommit{pr id}:{sha}".
        use base64::Engine;
        let raw = format!("017:PullRequestCommit{}:{}", self.p.id, self.p.commits[self.i].sha);
        ID(base64::engine::general_purpose::STANDARD.encode(raw))
    }

    async fn commit(&self) -> Commit {
        Commit::of(&self.env, &self.p, self.i)
    }

    async fn url(&self) -> Uri {
        let pr = PullRequest::new(&self.env, self.p.clone());
        Uri(format!("{}/commits/{}", pr.html_url(), self.p.commits[self.i].sha))
    }

    async fn pull_request(&self) -> PullRequest {
        PullRequest::new(&self.env, self.p.clone())
    }
}

/// A Git commit: one of the pull request's (`Some(i)`) or its merge commit (`None`).
#[derive(Clone)]
pub struct Commit {
    env: Arc<Env>,
    p: Arc<Pull>,
    i: Option<usize>,
}

impl Commit {
    fn of(env: &Arc<Env>, p: &Arc<Pull>, i: usize) -> Commit {
        Commit {
            env: env.clone(),
            p: p.clone(),
            i: Some(i),
        }
    }

    fn merge(env: &Arc<Env>, p: &Arc<Pull>) -> Commit {
        Commit {
            env: env.clone(),
            p: p.clone(),
            i: None,
        }
    }

    /// The commit's data (a merge commit is made up from the merge).
    fn c(&self) -> Cow<'_, WorldCommit> {
        match self.i {
            Some(i) => Cow::Borrowed(&self.p.commits[i]),
            None => {
                let p = &self.p;
                let by = p.merged_by.and_then(|id| self.env.accounts.get(&id));
                let at = p.merged_at.unwrap_or(p.updated_at);
                Cow::Owned(WorldCommit {
                    sha: p.merge_commit_sha.clone().unwrap_or_default(),
                    message: format!("Merge pull request #{} from {}\n\n{}", p.number, p.head_ref, p.title),
                    author_name: by.map(|a| a.name.clone()).unwrap_or_default(),
                    author_email: by
                        .and_then(|a| a.email.clone())
                        .unwrap_or_else(|| "noreply@github.com".into()),
                    author_user_id: by.map(|a| a.id),
                    authored_at: at,
                    committed_at: at,
                    additions: p.additions(),
                    deletions: p.deletions(),
                })
            }
        }
    }

    fn sha(&self) -> &str {
        match self.i {
            Some(i) => &self.p.commits[i].sha,
            None => self.p.merge_commit_sha.as_deref().unwrap_or(""),
        }
    }
}

#[Object]
impl Commit {
    pub async fn id(&self) -> ID {
        let sha = self.sha();
        ID(node_id("Commit", u64::from_str_radix(sha.get(..12).unwrap_or("0"), 16).unwrap_or(0)))
    }

    async fn oid(&self) -> GitObjectId {
        GitObjectId(self.sha().to_string())
    }

    async fn abbreviated_oid(&self) -> String {
        self.sha().chars().take(7).collect()
    }

    async fn message(&self) -> String {
        self.c().message.clone()
    }

    async fn message_headline(&self) -> String {
        self.c().message.lines().next().unwrap_or("").to_string()
    }

    async fn authored_date(&self) -> DateTime {
        DateTime(self.c().authored_at)
    }

    async fn committed_date(&self) -> DateTime {
        DateTime(self.c().committed_at)
    }

    async fn additions(&self) -> u64 {
        self.c().additions
    }

    async fn deletions(&self) -> u64 {
        self.c().deletions
    }

    /// Authorship details of the commit.
    async fn author(&self) -> Option<GitActor> {
        let c = self.c();
        Some(GitActor::new(&self.env, &c, c.authored_at))
    }

    async fn committer(&self) -> Option<GitActor> {
        let c = self.c();
        Some(GitActor::new(&self.env, &c, c.committed_at))
    }

    async fn url(&self) -> Uri {
        let nwo = PullRequest::new(&self.env, self.p.clone())
            .repo()
            .map(|r| r.nwo())
            .unwrap_or_default();
        Uri(format!("{}/{nwo}/commit/{}", self.env.web(), self.sha()))
    }
}

/// A person in Git (name and email), and the GitHub user GitHub linked to the email, if any.
pub struct GitActor {
    env: Arc<Env>,
    name: String,
    email: String,
    date: i64,
    user_id: Option<u64>,
}

impl GitActor {
    fn new(env: &Arc<Env>, c: &WorldCommit, date: i64) -> GitActor {
        GitActor {
            env: env.clone(),
            name: c.author_name.clone(),
            email: c.author_email.clone(),
            date,
            user_id: c.author_user_id,
        }
    }
}

#[Object]
impl GitActor {
    async fn name(&self) -> &str {
        &self.name
    }

    async fn email(&self) -> &str {
        &self.email
    }

    async fn date(&self) -> GitTimestamp {
        GitTimestamp(crate::sim::clock::iso(self.date))
    }

    /// The GitHub user corresponding to the email field (null when GitHub could not link it).
    async fn user(&self) -> Option<User> {
        let id = self.user_id?;
        let a = self.env.accounts.get(&id)?;
        (!a.is_bot).then(|| User::new(&self.env, id))
    }
}
