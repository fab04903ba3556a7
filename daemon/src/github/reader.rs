//! Reading GitHub for the sync, the webhook applier and self-healing alike: one set of calls
//! (members, pages of pull requests, pull requests by number, a repository by id) with one
//! retry policy, answers decoded into `graphql::nodes`.
//!
//! The policy is GitHub's: nothing leaves before a `retry-after` or a spent budget's reset (the
//! [`Budget`] waits, however long: a sync waits instead of failing); a secondary limit without
//! `retry-after` holds everything for a minute, then longer while it persists; a timeout in
//! any form returns [`ReadError::TooBig`] so the caller asks for less; 5xx, resets and broken
//! answers are retried a few times with backoff.

use super::GitHubError;
use super::budget::Budget;
use super::graphql::documents::{self, FollowUp, RepoPage};
use super::graphql::nodes::{
    Commit, Lenient, Member, MembersData, PullRequest, PullRequestRest, RepoPulls, RepositoryNode,
    Review,
};
use super::graphql::{Answer, GraphQl};
use crate::crypto::Secret;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Tries for a request that fails in a way worth retrying (limits do not count: they wait).
const ATTEMPTS: u32 = 5;
/// GitHub lists at most this many commits of a pull request.
pub const COMMIT_CAP: u64 = 250;
/// Pull requests completed per follow-up query (halved while GitHub times out).
const FOLLOW_UPS_PER_QUERY: usize = 10;

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("GitHub rejected the token (401): reconnect GitHub")]
    Unauthorized,
    /// GitHub timed out on the query: ask for less.
    #[error("GitHub timed out on a query")]
    TooBig,
    /// A webhook's re-read that would dip into the sync's share of the rate budget
    /// (`budget::webhook_hold`): it waits until this time (the budget's reset).
    #[error("webhook re-reads wait for GitHub's rate budget to reset (at {0})")]
    Held(i64),
    #[error("{0}")]
    GitHub(GitHubError),
}

/// What GitHub sent that could not be read (a node without its id, an unknown state...):
/// counted and reported, never dropped silently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skipped {
    pub count: u64,
    /// The last one, in words.
    pub last: Option<String>,
}

/// A pull request with every review and commit GitHub lists (commits up to [`COMMIT_CAP`]).
#[derive(Debug, Clone)]
pub struct FullPullRequest {
    pub pr: PullRequest,
    pub reviews: Vec<Review>,
    pub commits: Vec<Commit>,
}

/// Where a tracked repository is now, by [`Reader::repository`].
#[derive(Debug, Clone)]
pub enum RepoNow {
    /// Its node id, id and name today.
    Found(RepositoryNode),
    /// Its node id answers nothing: deleted, or no longer visible to the token.
    Gone,
    /// Not found under its stored name, and its node id is not known yet: renamed or deleted,
    /// tidemark cannot tell until a sync has learned the node id.
    NotUnderName,
}

/// One repository's page of a [`Reader::pages`] query.
pub struct PullPage {
    /// The repository's node id (what finds it again after a rename).
    pub repo_node_id: String,
    /// The pull requests that read (others are counted in [`Reader::skipped`]).
    pub pulls: Vec<PullRequest>,
    /// How many GitHub sent, readable or not.
    pub received: usize,
    pub has_next: bool,
    pub end_cursor: Option<String>,
}

pub struct Reader<'a> {
    gql: GraphQl,
    /// REST, for what GraphQL has no list of (workflow runs, compares).
    pub(super) api: super::Api,
    pub(super) token: Secret,
    budget: &'a Budget,
    on_wait: Box<dyn Fn(i64) + Send + Sync + 'a>,
    skipped: Mutex<Skipped>,
    /// Reading for webhook deliveries: kept to their share of the budget, and counted in it.
    for_webhooks: bool,
    /// Requests this reader sent (the budget's count is the integration's, all readers').
    sent: AtomicU64,
}

impl<'a> Reader<'a> {
    pub fn new(
        http: reqwest::Client,
        api_url: &str,
        token: Secret,
        budget: &'a Budget,
    ) -> Reader<'a> {
        Reader {
            gql: GraphQl::new(http.clone(), api_url),
            api: super::Api::new(http, api_url),
            token,
            budget,
            on_wait: Box::new(|_| {}),
            skipped: Mutex::new(Skipped::default()),
            for_webhooks: false,
            sent: AtomicU64::new(0),
        }
    }

    /// Requests this reader sent to GitHub.
    pub fn requests(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Reading on behalf of webhook deliveries: each request first asks the budget whether
    /// webhook re-reads may still spend ([`Budget::webhook_hold`]; else [`ReadError::Held`]),
    /// and what each answer cost is counted against their share.
    pub fn for_webhooks(mut self) -> Reader<'a> {
        self.for_webhooks = true;
        self
    }

    /// Called with the time waited for when a request must wait for GitHub's limits.
    pub fn on_wait(mut self, f: impl Fn(i64) + Send + Sync + 'a) -> Reader<'a> {
        self.on_wait = Box::new(f);
        self
    }

    pub fn budget(&self) -> &Budget {
        self.budget
    }

    pub fn skipped(&self) -> Skipped {
        self.skipped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(super) fn skip(&self, what: &str, reason: &str) {
        let mut s = self
            .skipped
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        s.count += 1;
        // The first few in full, then every hundredth: one bad field can repeat on every node.
        if s.count <= 5 || s.count.is_multiple_of(100) {
            tracing::warn!(
                what,
                reason,
                skipped = s.count,
                "GitHub sent something tidemark cannot read; skipped"
            );
        }
        s.last = Some(format!("{what}: {reason}"));
    }

    /// The items that read; the others counted as skipped.
    pub fn readable<T>(&self, what: &str, nodes: Vec<Lenient<T>>) -> Vec<T> {
        nodes
            .into_iter()
            .filter_map(|n| match n.0 {
                Ok(n) => Some(n),
                Err(reason) => {
                    self.skip(what, &reason);
                    None
                }
            })
            .collect()
    }

    /// One GraphQL document that cannot be made smaller, with GitHub's retry policy (see the
    /// module docs); a timeout is retried like a 5xx.
    pub async fn query(&self, document: &str, variables: Value) -> Result<Answer, ReadError> {
        self.send(document, variables, false).await
    }

    /// As [`Reader::query`], but a timeout returns [`ReadError::TooBig`] at once: the caller
    /// asks for less.
    pub async fn query_or_too_big(
        &self,
        document: &str,
        variables: Value,
    ) -> Result<Answer, ReadError> {
        self.send(document, variables, true).await
    }

    /// Count a request sent (REST requests are sent by `github::delivery`).
    pub(super) fn count_sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn is_for_webhooks(&self) -> bool {
        self.for_webhooks
    }

    pub(super) fn wait_hook(&self) -> &(dyn Fn(i64) + Send + Sync + 'a) {
        &*self.on_wait
    }

    async fn send(
        &self,
        document: &str,
        variables: Value,
        shrinkable: bool,
    ) -> Result<Answer, ReadError> {
        let mut failures = 0;
        loop {
            if self.for_webhooks
                && let Some(until) = self.budget.webhook_hold()
            {
                return Err(ReadError::Held(until));
            }
            self.sent.fetch_add(1, Ordering::Relaxed);
            match self
                .gql
                .query(
                    &self.token,
                    self.budget,
                    document,
                    variables.clone(),
                    &self.on_wait,
                )
                .await
            {
                Ok(a) => {
                    if self.for_webhooks {
                        // Every document asks for `rateLimit { cost }`; a point if it is missing.
                        let cost = a.data["rateLimit"]["cost"].as_u64().unwrap_or(1);
                        self.budget.webhook_spent(cost);
                    }
                    return Ok(a);
                }
                Err(GitHubError::Unauthorized) => return Err(ReadError::Unauthorized),
                Err(GitHubError::QueryTimeout { .. }) if shrinkable => {
                    return Err(ReadError::TooBig);
                }
                Err(e @ (GitHubError::SecondaryLimit { .. } | GitHubError::RateLimited { .. })) => {
                    // Recorded in the budget: the next turn waits as long as GitHub asked.
                    tracing::info!(error = %e, "GitHub asked to wait");
                }
                Err(e) if e.is_transient() || matches!(e, GitHubError::Decode { .. }) => {
                    failures += 1;
                    if failures >= ATTEMPTS {
                        return Err(ReadError::GitHub(e));
                    }
                    tracing::warn!(attempt = failures, error = %e, "GitHub request failed; retrying");
                    tokio::time::sleep(Duration::from_millis(250 << failures.min(5))).await;
                }
                Err(e) => return Err(ReadError::GitHub(e)),
            }
        }
    }

    /// The organization's members; None when the token cannot see the organization.
    pub async fn members(&self, org: &str) -> Result<Option<Vec<Member>>, ReadError> {
        let mut after: Option<String> = None;
        let mut out = Vec::new();
        loop {
            let (query, vars) = documents::members(org, after.as_deref());
            let answer = self.query(&query, vars).await?;
            let data: MembersData = answer
                .decode("organization members")
                .map_err(ReadError::GitHub)?;
            let Some(org) = data.organization else {
                return Ok(None);
            };
            let conn = org.members_with_role;
            out.extend(self.readable("an organization member", conn.nodes));
            match conn.page_info.next() {
                Some(next) => after = Some(next),
                None => return Ok(Some(out)),
            }
        }
    }

    /// One page of pull requests for each of `pages`, in one query. Per repository: its page,
    /// or why GitHub had none (not found under that name, no access).
    pub async fn pages(
        &self,
        pages: &[RepoPage<'_>],
    ) -> Result<Vec<Result<PullPage, String>>, ReadError> {
        let (query, vars) = documents::pull_request_pages(pages);
        let answer = self.query_or_too_big(&query, vars).await?;
        (0..pages.len())
            .map(|slot| {
                let alias = format!("r{slot}");
                let repo: Option<RepoPulls> = answer
                    .decode_alias(&alias, "a page of pull requests")
                    .map_err(ReadError::GitHub)?;
                Ok(match repo {
                    Some(repo) => {
                        let conn = repo.pull_requests;
                        let received = conn.nodes.len();
                        Ok(PullPage {
                            repo_node_id: repo.id,
                            pulls: self.readable("a pull request", conn.nodes),
                            received,
                            has_next: conn.page_info.has_next_page,
                            end_cursor: conn.page_info.end_cursor,
                        })
                    }
                    None => Err(answer.error_at(&alias).unwrap_or("not found").to_string()),
                })
            })
            .collect()
    }

    /// Named pull requests of one repository, whole. None: GitHub knows no repository by that
    /// name (renamed, transferred or deleted since; ask by id with `Reader::repository_by_id`).
    /// A number GitHub does not know is left out.
    pub async fn pull_requests(
        &self,
        owner: &str,
        name: &str,
        numbers: &[u64],
    ) -> Result<Option<Vec<FullPullRequest>>, ReadError> {
        let mut out = Vec::new();
        let mut per_query = documents::REFETCH_PER_QUERY;
        let mut rest = numbers;
        while !rest.is_empty() {
            let chunk = &rest[..per_query.min(rest.len())];
            let (query, vars) = documents::pull_requests_by_number(owner, name, chunk);
            let sent = if per_query > 1 {
                self.query_or_too_big(&query, vars).await
            } else {
                self.query(&query, vars).await
            };
            let answer = match sent {
                Ok(a) => a,
                Err(ReadError::TooBig) => {
                    per_query /= 2;
                    continue;
                }
                Err(e) => return Err(e),
            };
            #[derive(serde::Deserialize)]
            struct Data {
                repository: Option<HashMap<String, Option<Lenient<PullRequest>>>>,
            }
            let data: Data = answer
                .decode("pull requests by number")
                .map_err(ReadError::GitHub)?;
            let Some(mut repo) = data.repository else {
                return Ok(None);
            };
            let nodes: Vec<Lenient<PullRequest>> = (0..chunk.len())
                .filter_map(|slot| repo.remove(&format!("p{slot}")).flatten())
                .collect();
            let pulls = self.readable("a pull request", nodes);
            out.extend(self.complete(pulls).await?);
            rest = &rest[chunk.len()..];
        }
        Ok(Some(out))
    }

    /// Pull requests with every review and commit: those whose first pages did not hold them
    /// all get batched follow-ups by node id.
    pub async fn complete(
        &self,
        pulls: Vec<PullRequest>,
    ) -> Result<Vec<FullPullRequest>, ReadError> {
        struct Partial {
            full: FullPullRequest,
            reviews_after: Option<String>,
            commits_after: Option<String>,
        }
        let mut partials: Vec<Partial> = pulls
            .into_iter()
            .map(|mut pr| {
                let reviews = self.readable("a review", std::mem::take(&mut pr.reviews.nodes));
                let commits: Vec<Commit> = self
                    .readable("a commit", std::mem::take(&mut pr.commits.nodes))
                    .into_iter()
                    .map(|c| c.commit)
                    .collect();
                // GitHub lists at most 250 commits: past that there is nothing more to fetch.
                let commits_after = pr
                    .commits
                    .page_info
                    .next()
                    .filter(|_| (commits.len() as u64) < COMMIT_CAP);
                Partial {
                    reviews_after: pr.reviews.page_info.next(),
                    commits_after,
                    full: FullPullRequest {
                        pr,
                        reviews,
                        commits,
                    },
                }
            })
            .collect();
        let mut per_query = FOLLOW_UPS_PER_QUERY;
        loop {
            let pending: Vec<usize> = (0..partials.len())
                .filter(|&i| {
                    partials[i].reviews_after.is_some() || partials[i].commits_after.is_some()
                })
                .take(per_query)
                .collect();
            if pending.is_empty() {
                break;
            }
            let items: Vec<FollowUp<'_>> = pending
                .iter()
                .map(|&i| FollowUp {
                    node_id: &partials[i].full.pr.id,
                    reviews_after: partials[i].reviews_after.as_deref(),
                    commits_after: partials[i].commits_after.as_deref(),
                })
                .collect();
            let (query, vars) = documents::follow_ups(&items);
            let sent = if per_query > 1 {
                self.query_or_too_big(&query, vars).await
            } else {
                self.query(&query, vars).await
            };
            let answer = match sent {
                Ok(a) => a,
                Err(ReadError::TooBig) => {
                    per_query = (per_query / 2).max(1);
                    continue;
                }
                Err(e) => return Err(e),
            };
            for (slot, &i) in pending.iter().enumerate() {
                let p = &mut partials[i];
                let rest: Option<PullRequestRest> = answer
                    .decode_alias(&format!("p{slot}"), "a follow-up page")
                    .map_err(ReadError::GitHub)?;
                let Some(rest) = rest else {
                    // Gone meanwhile: keep what we have; the next sync sees it again.
                    p.reviews_after = None;
                    p.commits_after = None;
                    continue;
                };
                if p.reviews_after.is_some() {
                    p.reviews_after = None;
                    if let Some(conn) = rest.reviews {
                        p.reviews_after = conn.page_info.next();
                        p.full.reviews.extend(self.readable("a review", conn.nodes));
                    }
                }
                if p.commits_after.is_some() {
                    p.commits_after = None;
                    if let Some(conn) = rest.commits {
                        p.commits_after = conn.page_info.next();
                        let more = self.readable("a commit", conn.nodes);
                        p.full.commits.extend(more.into_iter().map(|c| c.commit));
                        if p.full.commits.len() as u64 >= COMMIT_CAP {
                            p.commits_after = None;
                        }
                    }
                }
            }
        }
        Ok(partials.into_iter().map(|p| p.full).collect())
    }

    /// Where a repository is now: by its node id when known (kept across renames and
    /// transfers), else by its stored name. GitHub's REST description has no lookup by
    /// database id, so this is GraphQL.
    pub async fn repository(
        &self,
        node_id: Option<&str>,
        full_name: &str,
    ) -> Result<RepoNow, ReadError> {
        let (query, vars, field) = match node_id {
            Some(id) => {
                let (q, v) = documents::repository_by_node(id);
                (q, v, "node")
            }
            None => {
                let (owner, name) = full_name.split_once('/').unwrap_or(("", full_name));
                let (q, v) = documents::repository_by_name(owner, name);
                (q, v, "repository")
            }
        };
        let answer = self.query(&query, vars).await?;
        let node = answer.data.get(field).filter(|n| !n.is_null());
        match node {
            Some(n) if field == "repository" || n["__typename"] == "Repository" => {
                let repo = RepositoryNode::deserialize(n).map_err(|e| {
                    ReadError::GitHub(GitHubError::Decode {
                        what: "a repository".into(),
                        reason: e.to_string(),
                    })
                })?;
                Ok(RepoNow::Found(repo))
            }
            // Null (with GitHub's NOT_FOUND error), or a node that is no repository.
            _ if node_id.is_some() => Ok(RepoNow::Gone),
            _ => Ok(RepoNow::NotUnderName),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader for webhooks asks the budget before each request: past their share nothing is
    /// sent (not even to a GitHub that would answer), and the caller learns until when.
    #[tokio::test]
    async fn a_webhook_reader_sends_nothing_past_the_webhooks_share() {
        let budget = Budget::default();
        let reset = crate::store::now() + 600;
        budget.observe_graphql(2_500, reset);
        // Nothing listens there: a request sent would fail otherwise.
        let webhooks = Reader::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9",
            Secret::new("gho_test"),
            &budget,
        )
        .for_webhooks();
        match webhooks
            .query("query { viewer { login } }", Value::Null)
            .await
        {
            Err(ReadError::Held(until)) => assert_eq!(until, reset),
            other => panic!("expected Held, got {other:?}"),
        }
        assert_eq!(webhooks.requests(), 0);
    }
}
