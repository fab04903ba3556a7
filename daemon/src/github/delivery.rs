//! Delivery data from GitHub: the GraphQL lists (deployments with statuses, releases, tags,
//! labelled issues), the REST ones GraphQL lacks (Actions workflow runs, the compare of two
//! commits), and GitHub's words for their states turned into tidemark's records. Every request
//! waits its turn in the team's budget and follows the reader's retry policy.

use super::GitHubError;
use super::api::decode;
use super::budget::Resource;
use super::graphql::delivery::{
    DeliveryAsk, DeploymentNode, IssueNode, ReleaseNode, RepoDelivery, TagRef, delivery_pages,
};
use super::graphql::parse_time;
use super::limits::refusal;
use super::reader::{ReadError, Reader};
use crate::store::{Deploy, DeploySource, DeployState, IssueRecord, TeamId, delivery::shas_in};
use serde::Deserialize;
use std::time::Duration;

/// Tries for a REST request that fails in a way worth retrying.
const ATTEMPTS: u32 = 5;
/// Workflow runs read per repository and walk (GitHub answers at most 1,000 for a filtered
/// list anyway).
pub const MAX_RUN_PAGES: usize = 10;
/// Commits read of one compare (GitHub pages them 100 at a time).
pub const MAX_COMPARE_PAGES: usize = 10;

/// `GET /repos/{owner}/{repo}/actions/runs`: its envelope.
#[derive(Debug, Clone, Deserialize)]
pub struct RunsPage {
    #[serde(default)]
    pub total_count: u64,
    #[serde(default)]
    pub workflow_runs: Vec<WorkflowRun>,
}

/// A workflow run, as much of it as tidemark reads.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    /// The workflow's name.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub head_branch: Option<String>,
    pub head_sha: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /repos/{owner}/{repo}/compare/{base}...{head}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ComparePage {
    #[serde(default)]
    pub total_commits: u64,
    #[serde(default)]
    pub commits: Vec<CompareCommit>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CompareCommit {
    pub sha: String,
}

/// One REST answer: not found, not modified since the ETag given, or a page (with the link to
/// the next and the page's ETag).
enum Fetched<T> {
    NotFound,
    NotModified,
    Page {
        value: T,
        next: Option<String>,
        etag: Option<String>,
    },
}

/// What `workflow_runs` found.
#[derive(Debug)]
pub enum Runs {
    /// No such repository (or Actions is off).
    NotFound,
    /// The first page is as it was when GitHub gave the ETag: nothing new.
    Unchanged,
    /// The runs, and the first page's ETag for the next read.
    Read {
        runs: Vec<WorkflowRun>,
        etag: Option<String>,
    },
}

/// The commits `head` has that `base` has not, and whether GitHub listed them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compare {
    pub commits: Vec<String>,
    pub truncated: bool,
}

fn record_limit(limit: GitHubError, reader: &Reader<'_>) -> GitHubError {
    let budget = reader.budget();
    match limit {
        GitHubError::SecondaryLimit { retry_after } => GitHubError::SecondaryLimit {
            retry_after: Some(budget.secondary(retry_after)),
        },
        GitHubError::RateLimited { reset } => {
            let reset = if reset > crate::store::now() {
                reset
            } else {
                budget
                    .known_reset(Resource::Core)
                    .unwrap_or_else(|| crate::store::now() + 60)
            };
            budget.exhausted(Resource::Core, reset);
            GitHubError::RateLimited { reset }
        }
        other => other,
    }
}

impl Reader<'_> {
    /// One REST GET, waiting its turn and retrying as [`Reader::query`] does.
    async fn rest<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        if_none_match: Option<&str>,
    ) -> Result<Fetched<T>, ReadError> {
        let mut failures = 0;
        loop {
            if self.is_for_webhooks()
                && let Some(until) = self.budget().webhook_hold()
            {
                return Err(ReadError::Held(until));
            }
            let answer = {
                let _slot = self
                    .budget()
                    .turn(Resource::Core, |t| (self.wait_hook())(t))
                    .await;
                self.count_sent();
                self.read_rest(url, if_none_match).await
            };
            match answer {
                Ok(found) => {
                    if self.is_for_webhooks() {
                        self.budget().webhook_spent(1);
                    }
                    self.budget().succeeded();
                    return Ok(found);
                }
                Err(GitHubError::Unauthorized) => return Err(ReadError::Unauthorized),
                Err(e @ (GitHubError::SecondaryLimit { .. } | GitHubError::RateLimited { .. })) => {
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

    async fn read_rest<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        if_none_match: Option<&str>,
    ) -> Result<Fetched<T>, GitHubError> {
        let resp = self
            .api
            .get_unchecked(url, &self.token, if_none_match)
            .await?;
        self.budget().observe_headers(resp.headers());
        let status = resp.status().as_u16();
        if status == 404 {
            return Ok(Fetched::NotFound);
        }
        if status == 304 {
            return Ok(Fetched::NotModified);
        }
        if status == 401 {
            return Err(GitHubError::Unauthorized);
        }
        if !(200..300).contains(&status) {
            let headers = resp.headers().clone();
            let message = resp
                .json::<super::types::ErrorBody>()
                .await
                .map(|b| b.describe())
                .unwrap_or_default();
            if let Some(limit) = refusal(status, &headers, &message) {
                return Err(record_limit(limit, self));
            }
            return Err(GitHubError::Status { status, message });
        }
        let next = super::api::next_link(resp.headers());
        let etag = resp
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= 200)
            .map(str::to_string);
        let path = url.split('?').next().unwrap_or(url).to_string();
        Ok(Fetched::Page {
            value: decode(resp, &path).await?,
            next,
            etag,
        })
    }

    /// Pages of delivery lists of several repositories in one query. Per repository: its
    /// answer, or why GitHub had none.
    pub async fn delivery(
        &self,
        asks: &[DeliveryAsk<'_>],
    ) -> Result<Vec<Result<RepoDelivery, String>>, ReadError> {
        let (query, vars) = delivery_pages(asks);
        let answer = self.query(&query, vars).await?;
        (0..asks.len())
            .map(|slot| {
                let alias = format!("r{slot}");
                let repo: Option<RepoDelivery> = answer
                    .decode_alias(&alias, "delivery data")
                    .map_err(ReadError::GitHub)?;
                Ok(repo.ok_or_else(|| answer.error_at(&alias).unwrap_or("not found").to_string()))
            })
            .collect()
    }

    /// Issues of one repository by number. None: the repository is not found under that name.
    /// A number GitHub does not know (deleted, transferred) is left out.
    pub async fn issues(
        &self,
        owner: &str,
        name: &str,
        numbers: &[u64],
    ) -> Result<Option<Vec<IssueNode>>, ReadError> {
        let (query, vars) = super::graphql::delivery::issues_by_number(owner, name, numbers);
        let answer = self.query(&query, vars).await?;
        let repo: Option<
            std::collections::BTreeMap<String, Option<super::graphql::nodes::Lenient<IssueNode>>>,
        > = answer
            .decode_alias("repository", "issues")
            .map_err(ReadError::GitHub)?;
        Ok(repo.map(|r| self.readable("an issue", r.into_values().flatten().collect())))
    }

    /// Completed workflow runs on `branch`, newest first, created at or after `from` (all when
    /// None), at most [`MAX_RUN_PAGES`] pages. With `etag` (the first page's, from the last
    /// read), an unchanged first page costs no rate limit and reads nothing more.
    pub async fn workflow_runs(
        &self,
        full_name: &str,
        branch: &str,
        from: Option<i64>,
        etag: Option<&str>,
    ) -> Result<Runs, ReadError> {
        let mut url = format!(
            "/repos/{full_name}/actions/runs?branch={}&status=completed&per_page=100",
            encode(branch)
        );
        if let Some(from) = from {
            url.push_str(&format!("&created=%3E%3D{}", date(from)));
        }
        let mut out = Vec::new();
        let mut next = Some(url);
        let mut pages = 0;
        let mut first_etag = None;
        while let Some(u) = next.take() {
            let condition = if pages == 0 { etag } else { None };
            match self.rest::<RunsPage>(&u, condition).await? {
                Fetched::NotFound if pages == 0 => return Ok(Runs::NotFound),
                Fetched::NotModified if pages == 0 => return Ok(Runs::Unchanged),
                Fetched::NotFound | Fetched::NotModified => break,
                Fetched::Page {
                    value,
                    next: link,
                    etag,
                } => {
                    if pages == 0 {
                        first_etag = etag;
                    }
                    out.extend(value.workflow_runs);
                    pages += 1;
                    if pages < MAX_RUN_PAGES {
                        next = link;
                    }
                }
            }
        }
        Ok(Runs::Read {
            runs: out,
            etag: first_etag,
        })
    }

    /// GitHub's compare of `base...head`. None: either commit is unknown to GitHub.
    pub async fn compare(
        &self,
        full_name: &str,
        base: &str,
        head: &str,
    ) -> Result<Option<Compare>, ReadError> {
        let mut next = Some(format!(
            "/repos/{full_name}/compare/{}...{}?per_page=100",
            encode(base),
            encode(head)
        ));
        let mut commits = Vec::new();
        let mut total = 0;
        let mut pages = 0;
        while let Some(u) = next.take() {
            let (page, link) = match self.rest::<ComparePage>(&u, None).await? {
                Fetched::Page { value, next, .. } => (value, next),
                Fetched::NotFound | Fetched::NotModified => return Ok(None),
            };
            total = page.total_commits;
            commits.extend(page.commits.into_iter().map(|c| c.sha));
            pages += 1;
            if pages < MAX_COMPARE_PAGES {
                next = link;
            }
        }
        let truncated = (commits.len() as u64) < total;
        Ok(Some(Compare { commits, truncated }))
    }
}

/// A path segment or query value, percent-encoded (branch names may hold `/`, `#`, spaces).
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `YYYY-MM-DD` (UTC) of a time, for GitHub's `created` filter.
fn date(t: i64) -> String {
    let dt =
        time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day()
    )
}

/// A deployment: its state is its last terminal status (success, failure, error), GitHub's
/// later `inactive` (a newer deployment replaced it) changing nothing.
pub fn deployment(team: TeamId, repo: u64, n: &DeploymentNode, now: i64) -> Deploy {
    let mut statuses: Vec<(i64, String)> = n
        .statuses
        .iter()
        .flat_map(|s| s.nodes.iter().flatten())
        .map(|s| (s.created_at, s.state.to_ascii_lowercase()))
        .collect();
    statuses.sort();
    let terminal = statuses
        .iter()
        .rev()
        .find(|(_, s)| matches!(s.as_str(), "success" | "failure" | "error"));
    let (state, finished_at, detail) = match terminal {
        Some((at, s)) => (
            match s.as_str() {
                "success" => DeployState::Success,
                "failure" => DeployState::Failure,
                _ => DeployState::Error,
            },
            Some(*at),
            format!("status {s}"),
        ),
        None => {
            let last = statuses.last().map_or("none yet", |(_, s)| s.as_str());
            (DeployState::Pending, None, format!("status {last}"))
        }
    };
    Deploy {
        team_id: team,
        repo_id: repo,
        source: DeploySource::Deployment,
        id: n.id.clone(),
        sha: n.commit_oid.clone(),
        name: n.environment.clone().unwrap_or_default(),
        branch: None,
        created_at: n.created_at,
        state,
        finished_at,
        detail,
        updated_at: now,
    }
}

/// A release: published (not a draft or pre-release) counts, at its publication.
pub fn release(team: TeamId, repo: u64, n: &ReleaseNode, now: i64) -> Deploy {
    let (state, detail) = if n.is_draft {
        (DeployState::Ignored, "a draft")
    } else if n.is_prerelease {
        (DeployState::Ignored, "a pre-release")
    } else if n.published_at.is_some() {
        (DeployState::Success, "published")
    } else {
        (DeployState::Pending, "not published")
    };
    Deploy {
        team_id: team,
        repo_id: repo,
        source: DeploySource::Release,
        id: n.id.clone(),
        sha: n
            .tag_commit
            .as_ref()
            .map(|c| c.oid.clone())
            .unwrap_or_default(),
        name: n.tag_name.clone(),
        branch: None,
        created_at: n.created_at,
        state,
        finished_at: n.published_at.filter(|_| state == DeployState::Success),
        detail: detail.into(),
        updated_at: now,
    }
}

/// A tag, at its tagger's date (annotated) or its commit's (lightweight). None: a tag of
/// something else than a commit, or without a date.
pub fn tag(team: TeamId, repo: u64, n: &TagRef, now: i64) -> Option<Deploy> {
    let target = n.target.as_ref()?;
    let (sha, at) = match target.typename.as_str() {
        "Commit" => (target.oid.clone(), target.committed_date?),
        "Tag" => (
            target.target.as_ref()?.oid.clone(),
            target
                .tagger
                .as_ref()
                .and_then(|t| t.date.as_deref())
                .and_then(parse_time)?,
        ),
        _ => return None,
    };
    Some(Deploy {
        team_id: team,
        repo_id: repo,
        source: DeploySource::Tag,
        id: n.name.clone(),
        sha,
        name: n.name.clone(),
        branch: None,
        created_at: at,
        state: DeployState::Success,
        finished_at: Some(at),
        detail: "tagged".into(),
        updated_at: now,
    })
}

/// A completed workflow run: its conclusion decides.
pub fn run(team: TeamId, repo: u64, r: &WorkflowRun, now: i64) -> Option<Deploy> {
    let created_at = parse_time(&r.created_at)?;
    let updated_at = parse_time(&r.updated_at)?;
    let conclusion = r.conclusion.as_deref().unwrap_or("none");
    let completed = r.status.as_deref() == Some("completed");
    let state = match (completed, conclusion) {
        (false, _) => DeployState::Pending,
        (true, "success") => DeployState::Success,
        (true, "failure" | "timed_out" | "startup_failure") => DeployState::Failure,
        _ => DeployState::Ignored,
    };
    Some(Deploy {
        team_id: team,
        repo_id: repo,
        source: DeploySource::WorkflowRun,
        id: r.id.to_string(),
        sha: r.head_sha.clone(),
        name: r.name.clone().unwrap_or_default(),
        branch: r.head_branch.clone(),
        created_at,
        state,
        finished_at: completed.then_some(updated_at),
        detail: format!("conclusion {conclusion}"),
        updated_at: now,
    })
}

/// An issue with its labels and the commits its body may name.
pub fn issue(team: TeamId, repo: u64, n: &IssueNode) -> IssueRecord {
    IssueRecord {
        team_id: team,
        repo_id: repo,
        number: n.number,
        title: n.title.chars().take(300).collect(),
        labels: n
            .labels
            .as_ref()
            .map(super::graphql::nodes::Names::names)
            .unwrap_or_default(),
        created_at: n.created_at,
        closed_at: n.closed_at,
        updated_at: n.updated_at,
        body_shas: shas_in(&n.body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_deployment_is_its_last_terminal_status() {
        let n: DeploymentNode = serde_json::from_value(json!({
            "id": "DE_1", "commitOid": "abc", "createdAt": "2026-11-02T10:00:00Z",
            "updatedAt": "2026-11-02T12:00:00Z", "environment": "production", "state": "INACTIVE",
            "statuses": { "nodes": [
                { "state": "INACTIVE", "createdAt": "2026-11-02T12:00:00Z" },
                { "state": "FAILURE", "createdAt": "2026-11-02T10:05:00Z" },
                { "state": "SUCCESS", "createdAt": "2026-11-02T10:30:00Z" },
                { "state": "IN_PROGRESS", "createdAt": "2026-11-02T10:01:00Z" }
            ] }
        }))
        .unwrap();
        let d = deployment(1, 2, &n, 0);
        assert_eq!(d.state, DeployState::Success);
        assert_eq!(d.finished_at, parse_time("2026-11-02T10:30:00Z"));
        assert_eq!(d.detail, "status success");
        let pending: DeploymentNode = serde_json::from_value(json!({
            "id": "DE_2", "commitOid": "abc", "createdAt": "2026-11-02T10:00:00Z",
            "updatedAt": "2026-11-02T10:00:00Z", "environment": "production",
            "statuses": { "nodes": [{ "state": "QUEUED", "createdAt": "2026-11-02T10:00:00Z" }] }
        }))
        .unwrap();
        let p = deployment(1, 2, &pending, 0);
        assert_eq!(
            (p.state, p.finished_at, p.detail.as_str()),
            (DeployState::Pending, None, "status queued")
        );
    }

    #[test]
    fn runs_count_by_their_conclusion() {
        let r = |status: &str, conclusion: Option<&str>| WorkflowRun {
            id: 30_000_000_001,
            name: Some("Deploy".into()),
            head_branch: Some("main".into()),
            head_sha: "abc".into(),
            status: Some(status.into()),
            conclusion: conclusion.map(str::to_string),
            created_at: "2026-11-02T10:00:00Z".into(),
            updated_at: "2026-11-02T10:07:00Z".into(),
        };
        let state = |status, c| run(1, 2, &r(status, c), 0).unwrap().state;
        assert_eq!(state("completed", Some("success")), DeployState::Success);
        assert_eq!(state("completed", Some("timed_out")), DeployState::Failure);
        assert_eq!(state("completed", Some("cancelled")), DeployState::Ignored);
        assert_eq!(state("in_progress", None), DeployState::Pending);
        assert_eq!(
            run(1, 2, &r("completed", Some("success")), 0).unwrap().id,
            "30000000001"
        );
    }

    #[test]
    fn query_values_are_encoded_and_dates_are_utc_days() {
        assert_eq!(encode("release/1.0 #2"), "release%2F1.0%20%232");
        assert_eq!(date(1_793_577_600 + 86_399), "2026-11-02");
    }
}
