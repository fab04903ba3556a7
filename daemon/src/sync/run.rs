//! One sync of one team's GitHub integration: token, members, then every tracked repository's
//! pull requests; retries what is worth retrying, never sends early (the budget waits), and
//! reports progress as it goes.

use super::pulls::{MemberIndex, RepoWalk, sync_pull_requests};
use crate::crypto::Secret;
use crate::github::GitHubError;
use crate::github::budget::Budget;
use crate::github::graphql::{Answer, GraphQl, QUERY_TIMEOUT};
use crate::rpc::Shared;
use crate::store::{MemberInput, PrSnapshot, StoreError, SyncCursor, SyncStatus, TeamId};
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;
use tidemark_protocol::SyncProgress;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("GitHub rejected the token (401): reconnect GitHub")]
    Unauthorized,
    /// GitHub timed out on the query (502): ask for less.
    #[error("GitHub timed out on a query")]
    TooBig,
    #[error("{0}")]
    GitHub(GitHubError),
    #[error("{0}")]
    Failed(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// Attempts for a request that fails in a way worth retrying.
const ATTEMPTS: u32 = 5;

pub struct Run<'a> {
    pub shared: &'a Shared,
    pub team: TeamId,
    pub token: Secret,
    pub budget: &'a Budget,
    pub gql: GraphQl,
    pub progress: &'a watch::Sender<SyncProgress>,
    pub members: Mutex<MemberIndex>,
}

impl Run<'_> {
    pub fn phase(&self, phase: &str) {
        let budget = self.budget.snapshot();
        let requests = self.budget.requests();
        self.progress.send_modify(|p| {
            p.phase = phase.to_string();
            p.budget = budget;
            p.requests = requests;
        });
    }

    pub fn fetched(&self, prs: u64) {
        self.progress.send_modify(|p| p.prs_fetched += prs);
    }

    /// One GraphQL query, with retries: 5xx, resets, truncated answers and secondary limits
    /// are retried (the budget holds requests until retry-after and resets have passed).
    pub async fn query(&self, query: &str, variables: Value) -> Result<Answer, SyncError> {
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(250 << attempt.min(5))).await;
            }
            let waiting = |until: i64| {
                self.progress.send_modify(|p| {
                    p.phase = format!("waiting for GitHub's rate limit (until {until})");
                })
            };
            match self
                .gql
                .query(&self.token, self.budget, query, variables.clone(), waiting)
                .await
            {
                Ok(a) => return Ok(a),
                Err(GitHubError::Unauthorized) => return Err(SyncError::Unauthorized),
                Err(GitHubError::Status {
                    status: 502,
                    message,
                }) if message == QUERY_TIMEOUT => {
                    return Err(SyncError::TooBig);
                }
                Err(e @ (GitHubError::SecondaryLimit { .. } | GitHubError::RateLimited { .. })) => {
                    // Not an attempt used: the budget waits the time GitHub asked for.
                    tracing::info!(team = self.team, error = %e, "GitHub asked to wait");
                    last = Some(e);
                }
                Err(e) if e.is_transient() || matches!(e, GitHubError::Decode { .. }) => {
                    tracing::warn!(team = self.team, attempt, error = %e, "GitHub request failed; retrying");
                    last = Some(e);
                }
                Err(e) => return Err(SyncError::GitHub(e)),
            }
        }
        Err(SyncError::GitHub(last.expect("at least one attempt")))
    }

    pub fn store_page(
        &self,
        repo: u64,
        page: Vec<PrSnapshot>,
        cursor: SyncCursor,
    ) -> Result<(), SyncError> {
        self.shared
            .store
            .put_pull_request_page(self.team, repo, page, cursor)?;
        Ok(())
    }

    /// Index the stored members for linking authors.
    pub fn load_members(&self) -> Result<(), SyncError> {
        let mut index = MemberIndex::default();
        for m in self.shared.store.members(self.team)? {
            if let Some(gid) = m.github_id {
                index.by_github_id.insert(gid, m.id);
            }
            if let Some(email) = &m.email {
                index.by_email.insert(email.to_ascii_lowercase(), m.id);
            }
        }
        *self.members.lock().unwrap_or_else(|e| e.into_inner()) = index;
        Ok(())
    }

    /// The member a GitHub id (first) or an email belongs to.
    pub fn member_for(&self, github_id: Option<u64>, email: Option<&str>) -> Option<u64> {
        let idx = self.members.lock().unwrap_or_else(|e| e.into_inner());
        github_id
            .and_then(|id| idx.by_github_id.get(&id).copied())
            .or_else(|| email.and_then(|e| idx.by_email.get(&e.to_ascii_lowercase()).copied()))
    }
}

const MEMBERS: &str = "query Members($org: String!, $after: String) {
  rateLimit { cost remaining resetAt }
  organization(login: $org) {
    membersWithRole(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { databaseId login name email }
    }
  }
}";

/// Org members become team members (by GitHub id, then email); those gone are marked as left.
pub(crate) async fn sync_members(run: &Run<'_>, org: &str) -> Result<(), SyncError> {
    run.phase("members");
    let store = &run.shared.store;
    let mut after: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    loop {
        let answer = run
            .query(MEMBERS, json!({ "org": org, "after": after }))
            .await?;
        let conn = &answer.data["organization"]["membersWithRole"];
        if answer.data["organization"].is_null() {
            return Err(SyncError::Failed(format!(
                "organization '{org}' is not visible to the token"
            )));
        }
        for m in conn["nodes"].as_array().into_iter().flatten() {
            let Some(id) = m["databaseId"].as_u64() else {
                continue;
            };
            let login = m["login"].as_str().map(String::from);
            store.upsert_member(
                run.team,
                MemberInput {
                    github_id: Some(id),
                    is_bot: login.as_deref().is_some_and(crate::store::looks_like_bot),
                    github_username: login,
                    email: m["email"]
                        .as_str()
                        .filter(|e| !e.is_empty())
                        .map(String::from),
                    display_name: m["name"]
                        .as_str()
                        .filter(|n| !n.is_empty())
                        .map(String::from),
                },
            )?;
            seen.insert(id);
        }
        let page = &conn["pageInfo"];
        if page["hasNextPage"].as_bool() == Some(true) {
            after = page["endCursor"].as_str().map(String::from);
        } else {
            break;
        }
    }
    let now = crate::store::now();
    for m in store.members(run.team)? {
        if let Some(gid) = m.github_id
            && !seen.contains(&gid)
            && m.left_at.is_none()
            && !m.is_bot
        {
            store.mark_member_left(run.team, m.id, now)?;
        }
    }
    run.load_members()
}

/// Sync a team: members, then pull requests of every tracked repository.
pub async fn sync_team(
    shared: &Shared,
    team: TeamId,
    budget: &Budget,
    progress: &watch::Sender<SyncProgress>,
) -> Result<(), SyncError> {
    let store = &shared.store;
    let integration = store
        .github_integration(team)?
        .ok_or_else(|| SyncError::Failed("the team is not connected to GitHub".into()))?;
    let token = crate::tokens::access_token(shared, team)
        .await
        .map_err(|e| SyncError::Failed(e.to_string()))?;
    let run = Run {
        shared,
        team,
        token,
        budget,
        gql: GraphQl::new(
            shared.connector.http.clone(),
            &shared.connector.github.api_url,
        ),
        progress,
        members: Mutex::new(MemberIndex::default()),
    };
    sync_members(&run, &integration.organization_slug).await?;
    let repos = store.tracked_repos(team)?;
    progress.send_modify(|p| p.repos_total = repos.len() as u32);
    let mut walks = Vec::new();
    for repo in repos.into_iter().filter(|r| r.is_active) {
        store.set_repo_sync_status(team, repo.github_repo_id, SyncStatus::Syncing, None)?;
        let cursor = store.sync_cursor(team, repo.github_repo_id)?;
        walks.push(RepoWalk::new(repo, cursor));
    }
    let result = sync_pull_requests(&run, &mut walks).await;
    let mut failures = Vec::new();
    for w in &walks {
        let id = w.repo.github_repo_id;
        match (&w.failed, &result) {
            (Some(why), _) => {
                store.set_repo_sync_status(team, id, SyncStatus::Error, Some(why.clone()))?;
                failures.push(why.clone());
            }
            (None, Ok(())) => {
                store.set_repo_sync_status(team, id, SyncStatus::Complete, None)?;
            }
            (None, Err(e)) => {
                store.set_repo_sync_status(team, id, SyncStatus::Error, Some(e.to_string()))?;
            }
        }
        if w.done {
            progress.send_modify(|p| p.repos_done += 1);
        }
    }
    store.flush_async().await?;
    result?;
    if !failures.is_empty() {
        return Err(SyncError::Failed(failures.join("; ")));
    }
    Ok(())
}
