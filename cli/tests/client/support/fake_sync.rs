//! The fake daemon's GitHub data: the organization's repositories, tracking, a scripted sync,
//! members, pull requests and metrics, canned from `tidemark_tui::fixtures` and served with the
//! daemon's rules and messages (a team must be connected to GitHub to list, track or sync; track
//! and untrack are all or nothing; `sync_status` holds a while and then reports the next step of
//! the script). Teams that are not connected have synced nothing: no members, pull requests or
//! metrics.

// Each test binary (and the example) uses a different part.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tidemark_protocol::validate_repo_full_name;
use tidemark_protocol::{
    AvailableRepo, MemberInfo, MetricsQuery, MetricsRow, PrInfo, PrQuery, Provider, RepoInfo,
    RpcError, SyncProgress, SyncStatus, TeamId, TeamStatus,
};
use tidemark_tui::fixtures;

/// The daemon's cap on how long a `sync_status` call is held.
const SYNC_STATUS_WAIT_CAP_MS: u32 = 8_000;

#[derive(Clone)]
pub struct FakeSync {
    inner: Arc<Mutex<Data>>,
}

struct Data {
    available: Vec<AvailableRepo>,
    members: Vec<MemberInfo>,
    prs: Vec<PrInfo>,
    /// What `sync_start` and each following `sync_status` report, in order.
    steps: Vec<SyncProgress>,
    /// Per team: the step its sync is at (the last one stays once it is over).
    syncs: BTreeMap<TeamId, usize>,
    /// How long `sync_status` holds while a sync runs (short, so tests stay fast).
    hold: Duration,
    pr_queries: Vec<PrQuery>,
    metrics_queries: Vec<MetricsQuery>,
}

impl Default for FakeSync {
    fn default() -> Self {
        FakeSync {
            inner: Arc::new(Mutex::new(Data {
                available: fixtures::available_repos(),
                members: fixtures::members(),
                prs: fixtures::pull_requests(),
                steps: fixtures::sync_steps(),
                syncs: BTreeMap::new(),
                hold: Duration::from_millis(20),
                pr_queries: Vec::new(),
                metrics_queries: Vec::new(),
            })),
        }
    }
}

type Teams = Mutex<Vec<TeamStatus>>;

/// The organization of a team's GitHub connection.
fn connected_org(status: &TeamStatus) -> Result<String, RpcError> {
    status
        .integrations
        .iter()
        .filter(|i| i.credential.provider == Provider::Github)
        .find_map(|i| i.github.as_ref())
        .map(|gh| gh.organization_slug.clone())
        .ok_or_else(|| {
            RpcError::invalid(
                "team",
                "the team is not connected to GitHub: connect it first",
            )
        })
}

/// The tracked repository of that name (GitHub's names compare without case).
fn tracked<'a>(status: &'a TeamStatus, name: &str) -> Result<&'a RepoInfo, RpcError> {
    status
        .repos
        .iter()
        .find(|r| r.full_name.eq_ignore_ascii_case(name))
        .ok_or_else(|| RpcError::NotFound(format!("tracked repository {name}")))
}

impl FakeSync {
    /// Script the next syncs (each `sync_start` of a team that is not syncing starts over).
    pub fn set_steps(&self, steps: Vec<SyncProgress>) {
        assert!(!steps.is_empty());
        self.inner.lock().unwrap().steps = steps;
    }

    /// Every `pull_requests` query so far.
    pub fn pr_queries(&self) -> Vec<PrQuery> {
        self.inner.lock().unwrap().pr_queries.clone()
    }

    /// Every `metrics` query so far.
    pub fn metrics_queries(&self) -> Vec<MetricsQuery> {
        self.inner.lock().unwrap().metrics_queries.clone()
    }

    pub fn repos_available(
        &self,
        teams: &Teams,
        index: usize,
    ) -> Result<Vec<AvailableRepo>, RpcError> {
        let teams = teams.lock().unwrap();
        let status = &teams[index];
        connected_org(status)?;
        let mut repos = self.inner.lock().unwrap().available.clone();
        for repo in &mut repos {
            repo.tracked = status
                .repos
                .iter()
                .any(|r| r.github_repo_id == repo.github_repo_id);
        }
        Ok(repos)
    }

    /// All or nothing: every name must be valid and one of the organization's repositories.
    /// Answers the repositories named, in the team's order; tracking one again changes nothing.
    pub fn repos_track(
        &self,
        teams: &Teams,
        index: usize,
        names: Vec<String>,
    ) -> Result<Vec<RepoInfo>, RpcError> {
        if names.is_empty() {
            return Err(RpcError::invalid(
                "repositories",
                "name at least one OWNER/REPO",
            ));
        }
        let mut teams = teams.lock().unwrap();
        let status = &mut teams[index];
        let org = connected_org(status)?;
        let available = self.inner.lock().unwrap().available.clone();
        let mut found = Vec::new();
        for name in &names {
            validate_repo_full_name(name)
                .map_err(|reason| RpcError::invalid("repository", reason))?;
            let owner = name.split('/').next().unwrap_or_default();
            if !owner.eq_ignore_ascii_case(&org) {
                return Err(RpcError::invalid(
                    "repository",
                    format!("{name} is not in the connected organization '{org}'"),
                ));
            }
            let repo = available
                .iter()
                .find(|r| r.full_name.eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    RpcError::NotFound(format!(
                        "repository {name} on GitHub (or the token cannot see it)"
                    ))
                })?;
            found.push(repo.clone());
        }
        for repo in &found {
            if !status
                .repos
                .iter()
                .any(|r| r.github_repo_id == repo.github_repo_id)
            {
                status.repos.push(RepoInfo {
                    github_repo_id: repo.github_repo_id,
                    full_name: repo.full_name.clone(),
                    is_active: true,
                    webhook_id: None,
                    sync_status: SyncStatus::Pending,
                    sync_error: None,
                    last_sync_at: None,
                    pull_request_count: 0,
                    last_webhook_at: None,
                    last_ping_at: None,
                    webhooks_missed: 0,
                    webhooks_recovered: 0,
                    webhook_problem: None,
                });
            }
        }
        Ok(status
            .repos
            .iter()
            .filter(|r| found.iter().any(|f| f.github_repo_id == r.github_repo_id))
            .cloned()
            .collect())
    }

    /// All or nothing: a name that is not tracked is an error, and nothing is untracked then.
    /// Answers the names untracked, as stored.
    pub fn repos_untrack(
        &self,
        teams: &Teams,
        index: usize,
        names: Vec<String>,
    ) -> Result<Vec<String>, RpcError> {
        let mut teams = teams.lock().unwrap();
        let status = &mut teams[index];
        let ids = names
            .iter()
            .map(|name| tracked(status, name).map(|r| (r.github_repo_id, r.full_name.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        status
            .repos
            .retain(|r| !ids.iter().any(|(id, _)| *id == r.github_repo_id));
        Ok(ids.into_iter().map(|(_, name)| name).collect())
    }

    /// Start the script, or join the sync running.
    pub fn sync_start(&self, teams: &Teams, index: usize) -> Result<SyncProgress, RpcError> {
        let team = {
            let teams = teams.lock().unwrap();
            connected_org(&teams[index])?;
            teams[index].team.id
        };
        let mut data = self.inner.lock().unwrap();
        let step = match data.syncs.get(&team) {
            Some(&step) if data.steps.get(step).is_some_and(|s| s.running) => step,
            _ => 0,
        };
        data.syncs.insert(team, step);
        Ok(data.steps[step].clone())
    }

    /// While the sync runs: hold (the daemon's long poll), then the next step. Once it is over,
    /// the last step at once, and the team's integration shows how it ended.
    pub async fn sync_status(
        &self,
        teams: &Teams,
        index: usize,
        wait_ms: u32,
    ) -> Result<SyncProgress, RpcError> {
        let team = teams.lock().unwrap()[index].team.id;
        let (running, hold) = {
            let data = self.inner.lock().unwrap();
            let running = data
                .syncs
                .get(&team)
                .is_some_and(|&step| data.steps[step.min(data.steps.len() - 1)].running);
            (running, data.hold)
        };
        if !running {
            return Ok(self.idle(teams, index));
        }
        let cap = Duration::from_millis(u64::from(wait_ms.min(SYNC_STATUS_WAIT_CAP_MS)));
        tokio::time::sleep(hold.min(cap)).await;
        let progress = {
            let mut data = self.inner.lock().unwrap();
            let last = data.steps.len() - 1;
            let step = data.syncs.get(&team).map_or(0, |&s| (s + 1).min(last));
            data.syncs.insert(team, step);
            data.steps[step].clone()
        };
        if !progress.running {
            let mut teams = teams.lock().unwrap();
            let status = &mut teams[index];
            for integration in &mut status.integrations {
                if let Some(gh) = &mut integration.github {
                    gh.sync_status = progress.status;
                    gh.sync_error = progress.error.clone();
                    if progress.status == SyncStatus::Complete {
                        gh.last_sync_at = progress.finished_at;
                    }
                }
            }
        }
        Ok(progress)
    }

    /// No sync running: the last one's final report, or what the integration says.
    fn idle(&self, teams: &Teams, index: usize) -> SyncProgress {
        // Teams before data, as everywhere here.
        let (team, fallback) = {
            let teams = teams.lock().unwrap();
            let status = &teams[index];
            let github = status.integrations.iter().find_map(|i| i.github.as_ref());
            let fallback = SyncProgress {
                running: false,
                status: github.map_or(SyncStatus::Pending, |gh| gh.sync_status),
                phase: String::new(),
                repos_done: 0,
                repos_total: status.repos.len() as u32,
                prs_fetched: 0,
                requests: 0,
                budget: Vec::new(),
                started_at: None,
                finished_at: None,
                last_sync_at: github.and_then(|gh| gh.last_sync_at),
                error: github.and_then(|gh| gh.sync_error.clone()),
                next_sync_at: None,
                skipped: 0,
                skipped_note: None,
            };
            (status.team.id, fallback)
        };
        let data = self.inner.lock().unwrap();
        match data.syncs.get(&team) {
            Some(&step) => data.steps[step.min(data.steps.len() - 1)].clone(),
            None => fallback,
        }
    }

    pub fn members(&self, teams: &Teams, index: usize) -> Result<Vec<MemberInfo>, RpcError> {
        let connected = connected_org(&teams.lock().unwrap()[index]).is_ok();
        Ok(if connected {
            self.inner.lock().unwrap().members.clone()
        } else {
            Vec::new()
        })
    }

    /// Filtered by repository and state, newest first, at most `limit` (0: all).
    pub fn pull_requests(
        &self,
        teams: &Teams,
        index: usize,
        query: PrQuery,
    ) -> Result<Vec<PrInfo>, RpcError> {
        let connected = {
            let teams = teams.lock().unwrap();
            if let Some(repo) = &query.repo {
                tracked(&teams[index], repo)?;
            }
            connected_org(&teams[index]).is_ok()
        };
        let mut data = self.inner.lock().unwrap();
        data.pr_queries.push(query.clone());
        if !connected {
            return Ok(Vec::new());
        }
        let mut prs: Vec<PrInfo> = data
            .prs
            .iter()
            .filter(|pr| {
                query
                    .repo
                    .as_ref()
                    .is_none_or(|repo| pr.repo.eq_ignore_ascii_case(repo))
            })
            .filter(|pr| query.state.is_none_or(|state| pr.state == state))
            .cloned()
            .collect();
        prs.sort_by_key(|pr| std::cmp::Reverse((pr.created_at, pr.number)));
        if query.limit != 0 {
            prs.truncate(query.limit as usize);
        }
        Ok(prs)
    }

    /// The canned rows for the grouping asked (the query is kept for the test to check).
    pub fn metrics(
        &self,
        teams: &Teams,
        index: usize,
        query: MetricsQuery,
    ) -> Result<Vec<MetricsRow>, RpcError> {
        let connected = connected_org(&teams.lock().unwrap()[index]).is_ok();
        let by = query.by;
        self.inner.lock().unwrap().metrics_queries.push(query);
        Ok(if connected {
            fixtures::metrics_rows(by)
        } else {
            Vec::new()
        })
    }
}
