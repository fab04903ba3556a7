//! The sync scheduler: never two syncs of one integration at once, a periodic reconciliation,
//! `sync now` over RPC, exponential backoff with jitter after errors, and progress any client can
//! follow (a `watch` channel per team, long-polled by `sync_status`).

pub mod pulls;
pub mod run;

use crate::github::budget::Budget;
use crate::rpc::Shared;
use crate::store::{Provider, SyncStatus, TeamId};
use run::SyncError;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tidemark_protocol::{RpcError, SyncProgress};
use tokio::sync::watch;

pub use tidemark_protocol::messages::{NOT_CONNECTED, UNAUTHORIZED};

/// Longest a status call waits for a change.
const MAX_WAIT: Duration = Duration::from_secs(8);
/// First retry after a failed sync; doubles up to the reconciliation interval.
const FIRST_BACKOFF: i64 = 60;

struct TeamSync {
    progress: watch::Sender<SyncProgress>,
    running: bool,
    failures: u32,
    next_at: i64,
    /// Rate limits are per token, so per integration: kept across syncs.
    budget: Arc<Budget>,
    /// When GitHub last rejected the token (401): scheduled syncs stop using it until the
    /// credential changes (a reconnect).
    unauthorized_at: Option<i64>,
    /// Asked for while one ran (repositories tracked meanwhile): another follows at once.
    again: bool,
}

/// The scheduler looks at least this often.
const SCHEDULER_TICK: Duration = Duration::from_secs(30);

pub struct Syncs {
    teams: Mutex<HashMap<TeamId, TeamSync>>,
    /// Time between reconciliation syncs, in seconds (a reload may change it).
    every_secs: AtomicU64,
    /// The first wait after a secondary limit without `retry-after` (each budget's), in ms.
    secondary_wait_ms: AtomicU64,
    /// How often expiring tokens are looked for, in seconds.
    token_check_secs: AtomicU64,
}

/// Progress of nothing running.
pub fn idle_progress() -> SyncProgress {
    idle(SyncStatus::Pending, None, None)
}

fn idle(status: SyncStatus, last_sync_at: Option<i64>, error: Option<String>) -> SyncProgress {
    SyncProgress {
        running: false,
        status: crate::rpc::convert::sync_status(status),
        phase: "idle".into(),
        repos_done: 0,
        repos_total: 0,
        prs_fetched: 0,
        requests: 0,
        budget: Vec::new(),
        started_at: None,
        finished_at: None,
        last_sync_at,
        error,
        next_sync_at: None,
        skipped: 0,
        skipped_note: None,
    }
}

impl Syncs {
    pub fn new(every: Duration, secondary_wait: Duration) -> Syncs {
        Syncs {
            teams: Mutex::new(HashMap::new()),
            every_secs: AtomicU64::new(every.as_secs()),
            secondary_wait_ms: AtomicU64::new(secondary_wait.as_millis() as u64),
            token_check_secs: AtomicU64::new(60),
        }
    }

    /// Time between reconciliation syncs.
    pub fn every(&self) -> Duration {
        Duration::from_secs(self.every_secs.load(Ordering::Relaxed))
    }

    fn secondary_wait(&self) -> Duration {
        Duration::from_millis(self.secondary_wait_ms.load(Ordering::Relaxed))
    }

    /// How often the token refresher looks for tokens about to expire.
    pub fn token_check(&self) -> Duration {
        Duration::from_secs(self.token_check_secs.load(Ordering::Relaxed))
    }

    /// New timings (start, and each reload): the next reconciliation of each team is counted
    /// from its last sync with the new interval; every team's budget takes the new wait.
    pub fn set_timing(&self, every: Duration, secondary_wait: Duration, token_check: Duration) {
        self.every_secs.store(every.as_secs(), Ordering::Relaxed);
        self.secondary_wait_ms
            .store(secondary_wait.as_millis() as u64, Ordering::Relaxed);
        self.token_check_secs
            .store(token_check.as_secs(), Ordering::Relaxed);
        for team in self.teams().values() {
            team.budget.set_secondary_wait(secondary_wait);
        }
    }

    /// The team's rate-limit budget (shared by its syncs and webhook refetches).
    pub fn budget(&self, team: TeamId) -> Arc<Budget> {
        let mut teams = self.teams();
        if let Some(t) = teams.get(&team) {
            return t.budget.clone();
        }
        let budget = Arc::new(Budget::new(self.secondary_wait()));
        teams.insert(
            team,
            TeamSync {
                progress: watch::channel(idle_progress()).0,
                running: false,
                failures: 0,
                next_at: 0,
                budget: budget.clone(),
                unauthorized_at: None,
                again: false,
            },
        );
        budget
    }

    fn teams(&self) -> MutexGuard<'_, HashMap<TeamId, TeamSync>> {
        self.teams.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn entry<'a>(
        &self,
        teams: &'a mut HashMap<TeamId, TeamSync>,
        shared: &Shared,
        team: TeamId,
    ) -> &'a mut TeamSync {
        teams.entry(team).or_insert_with(|| {
            let g = shared.store.github_integration(team).ok().flatten();
            let progress = match &g {
                Some(g) => idle(g.sync_status, g.last_sync_at, g.sync_error.clone()),
                None => idle(SyncStatus::Pending, None, None),
            };
            TeamSync {
                progress: watch::channel(progress).0,
                running: false,
                failures: 0,
                next_at: 0,
                budget: Arc::new(Budget::new(self.secondary_wait())),
                unauthorized_at: None,
                again: false,
            }
        })
    }
}

/// Start a sync of `team` unless one runs; either way return its progress.
pub fn start(shared: &Arc<Shared>, team: TeamId) -> Result<SyncProgress, RpcError> {
    if shared
        .store
        .credential(team, Provider::Github)
        .map_err(|e| RpcError::Internal(e.to_string()))?
        .is_none()
    {
        return Err(RpcError::invalid("team", NOT_CONNECTED));
    }
    let syncs = &shared.syncs;
    let mut teams = syncs.teams();
    let entry = syncs.entry(&mut teams, shared, team);
    if !entry.running {
        entry.running = true;
        let now = crate::store::now();
        entry.progress.send_modify(|p| {
            *p = SyncProgress {
                running: true,
                status: tidemark_protocol::SyncStatus::Syncing,
                phase: "starting".into(),
                started_at: Some(now),
                last_sync_at: p.last_sync_at,
                ..idle(SyncStatus::Syncing, None, None)
            }
        });
        let progress = entry.progress.clone();
        let budget = entry.budget.clone();
        let shared = shared.clone();
        tokio::spawn(async move { run_one(shared, team, budget, progress).await });
    } else {
        // What changed since it started (a repository tracked) may be missed by it.
        entry.again = true;
    }
    Ok(entry.progress.borrow().clone())
}

async fn run_one(
    shared: Arc<Shared>,
    team: TeamId,
    budget: Arc<Budget>,
    progress: watch::Sender<SyncProgress>,
) {
    let store = &shared.store;
    let _ = store.set_github_sync_status(team, SyncStatus::Syncing, None);
    tracing::info!(team, "sync started");
    let mut result = run::sync_team(&shared, team, &budget, &progress).await;
    // Asked for again while it ran (a repository tracked meanwhile): run once more at once,
    // still "running" for anyone following.
    while shared
        .syncs
        .teams()
        .get_mut(&team)
        .is_some_and(|e| std::mem::take(&mut e.again))
    {
        tracing::info!(team, "sync again: something changed while it ran");
        result = run::sync_team(&shared, team, &budget, &progress).await;
    }
    let (status, error) = match &result {
        Ok(()) => (SyncStatus::Complete, None),
        Err(SyncError::Unauthorized) => (SyncStatus::Error, Some(UNAUTHORIZED.to_string())),
        Err(e) => (SyncStatus::Error, Some(e.to_string())),
    };
    let integration = store
        .set_github_sync_status(team, status, error.clone())
        .ok();
    let _ = store.flush_async().await;
    match &error {
        None => tracing::info!(team, requests = budget.requests(), "sync complete"),
        Some(e) => tracing::warn!(team, error = %e, "sync failed"),
    }
    let now = crate::store::now();
    let mut teams = shared.syncs.teams();
    if let Some(entry) = teams.get_mut(&team) {
        entry.running = false;
        let every = shared.syncs.every().as_secs() as i64;
        entry.unauthorized_at = matches!(result, Err(SyncError::Unauthorized)).then_some(now);
        if error.is_some() {
            entry.failures += 1;
            let backoff = (FIRST_BACKOFF << entry.failures.min(10)).min(every);
            entry.next_at = now + jitter(backoff);
        } else {
            entry.failures = 0;
            entry.next_at = now + every;
        }
        if std::mem::take(&mut entry.again) {
            // Asked for in the last instant: the scheduler's next tick runs it.
            entry.next_at = now;
        }
        let next = entry.next_at;
        let budget_now = budget.snapshot();
        let requests = budget.requests();
        entry.progress.send_modify(|p| {
            p.running = false;
            p.status = crate::rpc::convert::sync_status(status);
            p.phase = "idle".into();
            p.finished_at = Some(now);
            p.last_sync_at = integration
                .as_ref()
                .and_then(|g| g.last_sync_at)
                .or(p.last_sync_at);
            p.error = error.clone();
            p.next_sync_at = Some(next);
            p.budget = budget_now;
            p.requests = requests;
        });
    }
}

/// `secs` ± 25%, so many daemons (or teams) do not retry in step.
fn jitter(secs: i64) -> i64 {
    use rand::{Rng, SeedableRng};
    let spread = (secs / 4).max(1);
    secs + rand::rngs::StdRng::from_os_rng().random_range(-spread..=spread)
}

/// What a team's sync is doing, or last did, now (no waiting).
pub fn progress_now(shared: &Shared, team: TeamId) -> SyncProgress {
    let syncs = &shared.syncs;
    let mut teams = syncs.teams();
    let entry = syncs.entry(&mut teams, shared, team);
    with_live_budget(entry.progress.borrow().clone(), &entry.budget)
}

/// The team's progress, waiting up to `wait` for a change while a sync runs.
pub async fn status(shared: &Shared, team: TeamId, wait: Duration) -> SyncProgress {
    let (mut rx, budget) = {
        let syncs = &shared.syncs;
        let mut teams = syncs.teams();
        let entry = syncs.entry(&mut teams, shared, team);
        (entry.progress.subscribe(), entry.budget.clone())
    };
    if rx.borrow().running && !wait.is_zero() {
        let _ = tokio::time::timeout(wait.min(MAX_WAIT), rx.changed()).await;
    }
    let progress = rx.borrow().clone();
    with_live_budget(progress, &budget)
}

/// The budget as GitHub last answered it (a webhook's re-read, a failed request), rather than
/// as the sync last looked at it.
fn with_live_budget(mut progress: SyncProgress, budget: &Budget) -> SyncProgress {
    let live = budget.snapshot();
    if !live.is_empty() {
        progress.budget = live;
    }
    progress
}

/// Start every connected team's sync when it is due: never synced, the reconciliation
/// interval passed, or its backoff after an error ran out.
/// It looks every `min(interval, 30 s)`, read again each time (a reload may change it).
pub async fn scheduler(shared: Arc<Shared>) {
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) {
            tokio::time::sleep(shared.syncs.every().min(SCHEDULER_TICK)).await;
        }
        let Ok(teams) = shared.store.teams() else {
            continue;
        };
        let now = crate::store::now();
        for team in teams {
            let Ok(Some(g)) = shared.store.github_integration(team.id) else {
                continue;
            };
            let credential_changed_at = shared
                .store
                .credential(team.id, Provider::Github)
                .ok()
                .flatten()
                .map_or(0, |c| c.updated_at);
            let due = {
                let syncs = &shared.syncs;
                let mut map = syncs.teams();
                let entry = syncs.entry(&mut map, &shared, team.id);
                if entry.next_at == 0 {
                    // First look since start: due when never synced or the interval passed.
                    entry.next_at = g
                        .last_sync_at
                        .map_or(now, |t| t + syncs.every().as_secs() as i64);
                }
                let rejected = entry
                    .unauthorized_at
                    .is_some_and(|t| credential_changed_at <= t);
                !entry.running && !rejected && now >= entry.next_at
            };
            if due {
                // The reconciliation also checks the hooks: missed deliveries asked again,
                // hooks deleted on GitHub made again (best effort; at most two requests a repo).
                let heal_shared = shared.clone();
                let id = team.id;
                tokio::spawn(async move {
                    if let Err(e) = crate::webhooks::heal::heal_team(&heal_shared, id).await {
                        tracing::warn!(team = id, error = %e, "webhook self-healing failed");
                    }
                });
                let _ = start(&shared, team.id);
            }
        }
    }
}
