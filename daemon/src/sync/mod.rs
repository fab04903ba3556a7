//! The sync scheduler: never two syncs of one integration at once, a periodic reconciliation,
//! `sync now` over RPC, exponential backoff with jitter after errors, and progress any client can
//! follow (a `watch` channel per team, long-polled by `sync_status`).

pub mod delivery;
pub mod pulls;
pub mod run;
pub mod session;

use crate::context::{Ctx, Event};
use crate::github::budget::Budget;
use crate::store::{Provider, SyncStatus, TeamId};
use run::SyncError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tidemark_protocol::SyncProgress;
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
    /// When GitHub last rejected the token (401): scheduled syncs stop using it until the
    /// credential changes (a reconnect).
    unauthorized_at: Option<i64>,
    /// Asked for while one ran (repositories tracked meanwhile): another follows at once.
    again: bool,
}

/// The scheduler looks at least this often.
const SCHEDULER_TICK: Duration = Duration::from_secs(30);

/// Syncs running and their progress, over the daemon's context.
pub struct Syncs {
    pub ctx: Ctx,
    teams: Mutex<HashMap<TeamId, TeamSync>>,
}

/// Why a sync cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{NOT_CONNECTED}")]
    NotConnected,
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Progress of nothing running.
pub fn idle_progress() -> SyncProgress {
    idle(SyncStatus::Pending, None, None)
}

fn idle(status: SyncStatus, last_sync_at: Option<i64>, error: Option<String>) -> SyncProgress {
    SyncProgress {
        running: false,
        status: status.into(),
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
    pub fn new(ctx: Ctx) -> Syncs {
        Syncs {
            ctx,
            teams: Mutex::new(HashMap::new()),
        }
    }

    /// Time between reconciliation syncs.
    pub fn every(&self) -> Duration {
        self.ctx.runtime.sync_every()
    }

    fn teams(&self) -> MutexGuard<'_, HashMap<TeamId, TeamSync>> {
        self.teams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn entry<'a>(
        &self,
        teams: &'a mut HashMap<TeamId, TeamSync>,
        team: TeamId,
    ) -> &'a mut TeamSync {
        teams.entry(team).or_insert_with(|| {
            let g = self.ctx.store.github_integration(team).ok().flatten();
            let progress = match &g {
                Some(g) => idle(g.sync_status, g.last_sync_at, g.sync_error.clone()),
                None => idle(SyncStatus::Pending, None, None),
            };
            TeamSync {
                progress: watch::channel(progress).0,
                running: false,
                failures: 0,
                next_at: 0,
                unauthorized_at: None,
                again: false,
            }
        })
    }
}

/// Start a sync of `team` unless one runs; either way return its progress.
pub fn start(syncs: &Arc<Syncs>, team: TeamId) -> Result<SyncProgress, StartError> {
    if syncs
        .ctx
        .store
        .credential(team, Provider::Github)?
        .is_none()
    {
        return Err(StartError::NotConnected);
    }
    let mut teams = syncs.teams();
    let entry = syncs.entry(&mut teams, team);
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
        let budget = syncs.ctx.github.budget(team);
        let syncs = syncs.clone();
        tokio::spawn(async move { run_one(syncs, team, budget, progress).await });
    } else {
        // What changed since it started (a repository tracked) may be missed by it.
        entry.again = true;
    }
    Ok(entry.progress.borrow().clone())
}

async fn run_one(
    syncs: Arc<Syncs>,
    team: TeamId,
    budget: Arc<Budget>,
    progress: watch::Sender<SyncProgress>,
) {
    let ctx = &syncs.ctx;
    let store = &ctx.store;
    let _ = store.set_github_sync_status(team, SyncStatus::Syncing, None);
    tracing::info!(team, "sync started");
    let mut result = run::sync_team(ctx, team, &budget, &progress).await;
    // Asked for again while it ran (a repository tracked meanwhile): run once more at once,
    // still "running" for anyone following.
    while syncs
        .teams()
        .get_mut(&team)
        .is_some_and(|e| std::mem::take(&mut e.again))
    {
        tracing::info!(team, "sync again: something changed while it ran");
        result = run::sync_team(ctx, team, &budget, &progress).await;
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
    ctx.bus.publish(Event::SyncFinished { team });
    let now = crate::store::now();
    let mut teams = syncs.teams();
    if let Some(entry) = teams.get_mut(&team) {
        entry.running = false;
        let every = syncs.every().as_secs() as i64;
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
            p.status = status.into();
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
pub fn progress_now(syncs: &Syncs, team: TeamId) -> SyncProgress {
    let mut teams = syncs.teams();
    let entry = syncs.entry(&mut teams, team);
    with_live_budget(
        entry.progress.borrow().clone(),
        &syncs.ctx.github.budget(team),
    )
}

/// The team's progress, waiting up to `wait` for a change while a sync runs.
pub async fn status(syncs: &Syncs, team: TeamId, wait: Duration) -> SyncProgress {
    let mut rx = {
        let mut teams = syncs.teams();
        let entry = syncs.entry(&mut teams, team);
        entry.progress.subscribe()
    };
    let budget = syncs.ctx.github.budget(team);
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
/// interval passed, or its backoff after an error ran out; and a team's first sync as soon as
/// it is connected ([`Event::Connected`] on the bus).
/// It looks every `min(interval, 30 s)`, read again each time (a reload may change it).
///
/// `events` is subscribed by the caller before anything runs, so no event published at start
/// is missed.
pub async fn scheduler(syncs: Arc<Syncs>, mut events: crate::context::bus::Listener) {
    let mut first = true;
    loop {
        if !std::mem::take(&mut first) {
            let tick = tokio::time::sleep(syncs.every().min(SCHEDULER_TICK));
            tokio::select! {
                () = tick => {}
                event = events.next("sync scheduler") => {
                    if let Some(Event::Connected { team }) = event {
                        let _ = start(&syncs, team);
                    }
                    continue;
                }
            }
        }
        reconcile_due(&syncs);
    }
}

/// Start the syncs that are due; each one's hooks are checked too ([`Event::ReconcileDue`]).
fn reconcile_due(syncs: &Arc<Syncs>) {
    let store = &syncs.ctx.store;
    let Ok(teams) = store.teams() else {
        return;
    };
    let now = crate::store::now();
    for team in teams {
        let Ok(Some(g)) = store.github_integration(team.id) else {
            continue;
        };
        let credential_changed_at = store
            .credential(team.id, Provider::Github)
            .ok()
            .flatten()
            .map_or(0, |c| c.updated_at);
        let due = {
            let mut map = syncs.teams();
            let entry = syncs.entry(&mut map, team.id);
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
            // The reconciliation also checks the hooks (the webhook service hears it): missed
            // deliveries asked again, hooks deleted on GitHub made again.
            syncs.ctx.bus.publish(Event::ReconcileDue { team: team.id });
            let _ = start(syncs, team.id);
        }
    }
}
