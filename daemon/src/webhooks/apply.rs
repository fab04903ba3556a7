//! Applying the inbox: each pull request a delivery names is read again from GitHub and stored
//! whole, so deliveries in any order (or replayed) converge on GitHub's state; repository
//! events update what they name, `member` and the organization hook's `organization` events
//! (members added, removed) re-read the org's members; pings mark the hook live. An entry
//! leaves the inbox only once applied; a failure (GitHub down) leaves it for the next round.
//!
//! What a flood costs: a round gathers up to [`ROUND_MAX`] waiting deliveries and reads each
//! pull request, repository and member list they name once, however many name it; rounds that
//! read GitHub start at most every [`ROUND_GAP`]; and the re-reads keep to their share of the
//! rate budget (`github::budget::webhook_hold`): beyond it the deliveries wait, counted as held,
//! and the sync keeps the rest.

use super::parse::parse;
use crate::context::Context;
use crate::github::events::Event;
use crate::github::reader::RepoNow;
use crate::store::{HookHealth, InboxEntry, SyncStatus, TeamId};
use crate::sync::pulls::{RepoWalk, fetch_pull_requests};
use crate::sync::session::{Run, SyncError};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Deliveries read from the spool at once (their bodies in memory until parsed).
const READ: usize = 256;
const READ_BYTES: usize = 32 * 1024 * 1024;
/// Deliveries one round gathers at most: what they name is read from GitHub once per round.
/// A backlog larger than this is applied a round at a time, never whole.
pub const ROUND_MAX: usize = 8_192;
/// Rounds that read GitHub start at most this often: deliveries that keep coming about one
/// pull request re-read it at most once per gap.
pub const ROUND_GAP: Duration = Duration::from_secs(2);
/// Deliveries come in bursts (a review, a push, a merge): gather a moment before a round.
const GATHER: Duration = Duration::from_millis(100);
/// After a failed round the applier waits this long before trying again (doubling up to
/// `MAX_BACKOFF`), rather than on every new delivery.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Applied delivery ids and bodies older than GitHub's redelivery window are forgotten this
/// often.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// What one round of a team did.
#[derive(Debug, PartialEq, Eq)]
enum Round {
    /// Nothing waits.
    Idle,
    /// Re-reads are held back for the rate budget: the deliveries wait.
    Held,
    /// `deliveries` applied with `requests` to GitHub; `more` wait beyond the round's.
    Applied {
        deliveries: usize,
        requests: u64,
        more: bool,
    },
}

/// Apply waiting deliveries whenever some were written, when the store was reopened after it
/// could not write, and every 30 s (retries).
pub async fn applier(
    ctx: Arc<Context>,
    written: Arc<tokio::sync::Notify>,
    mut events: crate::context::bus::Listener,
) {
    let mut backoff = FIRST_BACKOFF;
    let mut last_read: Option<Instant> = None;
    let mut pruned: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = written.notified() => tokio::time::sleep(GATHER).await,
            () = reopened(&mut events) => {}
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
        }
        if let Some(at) = last_read {
            tokio::time::sleep_until((at + ROUND_GAP).into()).await;
        }
        let Ok(teams) = ctx.store.teams() else {
            continue;
        };
        let started = Instant::now();
        let mut read_github = false;
        let mut failed = false;
        for team in &teams {
            // Round after round until the team's inbox is empty, held, or a round fails.
            loop {
                match apply_round(&ctx, team.id).await {
                    Ok(Round::Idle | Round::Held) => break,
                    Ok(Round::Applied { requests, more, .. }) => {
                        read_github |= requests > 0;
                        ctx.bus
                            .publish(crate::context::Event::PullsChanged { team: team.id });
                        if !more {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(team = team.id, error = %e, "webhook deliveries not applied yet; will retry");
                        failed = true;
                        break;
                    }
                }
            }
        }
        last_read = read_github.then_some(started);
        // Spool segments whose deliveries are all applied go.
        if let Err(e) = ctx.store.inbox_release() {
            tracing::warn!(error = %e, "webhook spool not cleaned up; will retry");
        }
        if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            pruned = Some(Instant::now());
            prune(&ctx, teams.iter().map(|t| t.id).collect()).await;
        }
        if failed {
            // Deliveries written meanwhile wait in the inbox (durable) for the next round; a
            // store reopened after a full disk ends the wait.
            tokio::select! {
                _ = tokio::time::sleep(backoff) => backoff = (backoff * 2).min(MAX_BACKOFF),
                () = reopened(&mut events) => backoff = FIRST_BACKOFF,
            }
        } else {
            backoff = FIRST_BACKOFF;
        }
    }
}

/// Resolves when the bus says the store was reopened (other events are not the applier's).
async fn reopened(events: &mut crate::context::bus::Listener) {
    loop {
        match events.next("webhook applier").await {
            Some(crate::context::Event::StoreReopened) => return,
            Some(_) => {}
            // No bus any more: the daemon is stopping; wait for the other branches.
            None => std::future::pending::<()>().await,
        }
    }
}

/// Forget applied delivery ids and bodies past GitHub's redelivery window (off the runtime's
/// workers: it scans every id of a team), and team invitations past their two weeks (already
/// ignored by every read; this is the housekeeping this loop does hourly anyway).
async fn prune(ctx: &Arc<Context>, teams: Vec<TeamId>) {
    let ctx = ctx.clone();
    let before = crate::store::now() - crate::store::SEEN_FOR_SECS;
    let _ = tokio::task::spawn_blocking(move || {
        match ctx.store.prune_invitations(crate::store::now()) {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "expired team invitations removed"),
            Err(e) => tracing::warn!(error = %e, "expired team invitations not pruned; will retry"),
        }
        for team in teams {
            match ctx.store.prune_seen_deliveries(team, before) {
                Ok(0) => {}
                Ok(n) => tracing::debug!(team, forgotten = n, "old webhook delivery ids and bodies forgotten"),
                Err(e) => tracing::warn!(team, error = %e, "old webhook delivery ids not pruned; will retry"),
            }
        }
    })
    .await;
}

/// Re-reads held back until `until`: the team's waiting deliveries are counted as held.
fn held(ctx: &Context, team: TeamId, until: i64) -> Round {
    ctx.store.inbox_note_held(team, until);
    Round::Held
}

/// One round of a team: gather up to [`ROUND_MAX`] waiting deliveries, read what they name
/// from GitHub once, store it, and mark them applied.
async fn apply_round(ctx: &Arc<Context>, team: TeamId) -> Result<Round, SyncError> {
    let store = &ctx.store;
    let budget = ctx.github.budget(team);
    if let Some(until) = budget.webhook_hold() {
        return Ok(held(ctx, team, until));
    }
    let mut plan = Plan::default();
    let mut seqs = Vec::new();
    let mut after = 0;
    while seqs.len() < ROUND_MAX {
        let entries =
            store.inbox_after(team, after, READ.min(ROUND_MAX - seqs.len()), READ_BYTES)?;
        let Some(last) = entries.last() else {
            break;
        };
        after = last.seq;
        for e in &entries {
            plan.add(e);
            seqs.push(e.seq);
        }
    }
    if seqs.is_empty() {
        return Ok(Round::Idle);
    }
    crate::failpoint::hit("webhook:before_apply");
    store.inbox_clear_held(team);
    let requests = match plan.read(ctx, team, &budget).await {
        Ok(n) => n,
        Err(SyncError::Held(until)) => return Ok(held(ctx, team, until)),
        Err(e) => return Err(e),
    };
    // Applied: out of the inbox, with each repository's webhook health.
    let health = plan.health(store, team);
    store.inbox_applied(team, &seqs, health)?;
    store.flush_async().await?;
    tracing::debug!(
        team,
        deliveries = seqs.len(),
        pull_requests = plan.pull_requests,
        requests,
        "webhook round applied"
    );
    let more = seqs.len() >= ROUND_MAX;
    Ok(Round::Applied {
        deliveries: seqs.len(),
        requests,
        more,
    })
}

/// What a round's deliveries name, each once.
#[derive(Default)]
struct Plan {
    /// Pull requests to read again, by repository.
    prs: BTreeMap<u64, BTreeSet<u64>>,
    /// Commits pushed, by repository: the open pull requests holding them are read again.
    pushed: BTreeMap<u64, HashSet<String>>,
    /// The org's members, read again.
    members: bool,
    /// Repositories a `repository` event named.
    repos: BTreeSet<u64>,
    /// Repositories whose delivery data (deployments, runs, releases, incidents) changed.
    delivery: BTreeSet<u64>,
    /// Issues named, by repository: read again by number (a label taken off is seen).
    issues: BTreeMap<u64, BTreeSet<u64>>,
    /// Per repository: (deliveries, the last one's receive time, pings, events not acted on).
    hooks: BTreeMap<u64, (u64, i64, bool, u64)>,
    /// How many pull requests were read (for the log).
    pull_requests: usize,
}

impl Plan {
    fn add(&mut self, e: &InboxEntry) {
        // Verified when it was received (`parse::check_signature`).
        let d = parse(&e.event, &e.body);
        let repo = d.repository.as_ref().map(|r| r.id).or(e.repo_id);
        let event = Event::from_name(&d.event);
        match event {
            Event::PullRequest | Event::PullRequestReview | Event::PullRequestReviewComment => {
                if let (Some(repo), Some(number)) = (repo, d.pull_request) {
                    self.prs.entry(repo).or_default().insert(number);
                }
            }
            Event::Push => {
                // The open pull requests the pushed commits (or the branch's previous head)
                // belong to are read again whole: past GitHub's 2,048-commit list too.
                if let Some(repo) = repo {
                    self.pushed.entry(repo).or_default().extend(d.pushed);
                }
            }
            // A collaborator added to a repository (repository hooks), or a member added to
            // or removed from the org (the organization hook): the org's members, re-read.
            Event::Member => self.members = true,
            Event::Organization
                if matches!(d.action.as_deref(), Some("member_added" | "member_removed")) =>
            {
                self.members = true;
            }
            Event::Repository => {
                if let Some(r) = &d.repository {
                    self.repos.insert(r.id);
                }
            }
            e if e.is_delivery() => {
                if let Some(repo) = repo {
                    self.delivery.insert(repo);
                    if let Some(n) = d.issue {
                        self.issues.entry(repo).or_default().insert(n);
                    }
                }
            }
            _ => {}
        }
        if let Some(repo) = e.repo_id {
            let h = self.hooks.entry(repo).or_default();
            h.0 += 1;
            h.1 = h.1.max(e.received_at);
            match event {
                Event::Ping => h.2 = true,
                e if e.acted_on() => {}
                _ => h.3 += 1,
            }
        }
    }

    /// Read from GitHub what the deliveries named, once each, and store it. Returns how many
    /// requests it sent.
    async fn read(
        &mut self,
        ctx: &Context,
        team: TeamId,
        budget: &crate::github::budget::Budget,
    ) -> Result<u64, SyncError> {
        let store = &ctx.store;
        for (repo, shas) in std::mem::take(&mut self.pushed) {
            let shas: Vec<String> = shas.into_iter().collect();
            let numbers = pulls_with_commits(store, team, repo, &shas)?;
            if !numbers.is_empty() {
                self.prs.entry(repo).or_default().extend(numbers);
            }
        }
        if self.repos.is_empty() && self.prs.is_empty() && !self.members && self.delivery.is_empty()
        {
            // Pings and events not acted on: nothing to read.
            return Ok(0);
        }
        let (progress, _) = tokio::sync::watch::channel(crate::sync::idle_progress());
        let run = Run::for_webhooks(ctx, team, budget, &progress).await?;
        for &repo in &self.repos {
            repository_now(&run, repo).await?;
        }
        if !self.prs.is_empty() || self.members {
            let org = store
                .github_integration(team)?
                .map(|g| g.organization_slug)
                .ok_or_else(|| SyncError::Failed("not connected".into()))?;
            if self.members {
                crate::sync::run::sync_members(&run, &org).await?;
            } else {
                run.load_members()?;
            }
            for (&repo_id, numbers) in &self.prs {
                let Some(repo) = store.tracked_repo(team, repo_id)? else {
                    continue;
                };
                let numbers: Vec<u64> = numbers.iter().copied().collect();
                self.pull_requests += numbers.len();
                let walk = RepoWalk::new(repo, None);
                let snapshots = match fetch_pull_requests(&run, &walk, &numbers).await? {
                    Some(s) => s,
                    None => {
                        // Not under the name we have: renamed or transferred (its `repository`
                        // delivery may come later), or deleted. Ask by id, then once more.
                        repository_now(&run, repo_id).await?;
                        let Some(repo) = store.tracked_repo(team, repo_id)? else {
                            continue;
                        };
                        let walk = RepoWalk::new(repo, None);
                        fetch_pull_requests(&run, &walk, &numbers)
                            .await?
                            .unwrap_or_default()
                    }
                };
                store.put_pull_request_snapshots(team, repo_id, snapshots)?;
            }
        }
        // After the pull requests: a revert's or a hotfix's deployment is linked to them.
        for &repo_id in &self.delivery {
            if let Some(repo) = store.tracked_repo(team, repo_id)? {
                crate::sync::delivery::refresh_repo(&run, &repo).await?;
                if let Some(numbers) = self.issues.get(&repo_id) {
                    let numbers: Vec<u64> = numbers.iter().copied().collect();
                    crate::sync::delivery::refresh_issues(&run, &repo, &numbers).await?;
                }
            }
        }
        Ok(run.reader.requests())
    }

    /// Each repository's webhook health with this round's deliveries counted.
    fn health(&self, store: &crate::store::Store, team: TeamId) -> Vec<HookHealth> {
        let now = crate::store::now();
        self.hooks
            .iter()
            .map(|(&repo, &(deliveries, last, ping, ignored))| {
                let mut h = store
                    .hook_health(team, repo)
                    .ok()
                    .flatten()
                    .unwrap_or(HookHealth {
                        team_id: team,
                        repo_id: repo,
                        ..HookHealth::default()
                    });
                h.deliveries += deliveries;
                h.last_delivery_at = Some(last);
                if ping {
                    h.last_ping_at = Some(now);
                }
                h.ignored += ignored;
                h
            })
            .collect()
    }
}

/// A tracked repository's sync error once GitHub no longer has it.
pub(super) const DELETED: &str = "deleted on GitHub";
/// ... and when it is gone from its name before tidemark learned its node id.
const NOT_UNDER_NAME: &str = "not found on GitHub under this name (renamed, transferred or \
     deleted before tidemark learned its node id): track it again under its new name";

/// The open pull requests of `repo` that hold any of `shas`.
fn pulls_with_commits(
    store: &crate::store::Store,
    team: TeamId,
    repo: u64,
    shas: &[String],
) -> Result<Vec<u64>, SyncError> {
    if shas.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: std::collections::HashSet<&str> = shas.iter().map(String::as_str).collect();
    let mut found = Vec::new();
    for pr in store.pull_requests(team, Some(repo))? {
        if pr.state != crate::store::PrState::Open {
            continue;
        }
        let commits = store.commits(team, repo, pr.number)?;
        if commits.iter().any(|c| wanted.contains(c.sha.as_str())) {
            found.push(pr.number);
        }
    }
    Ok(found)
}

/// A repository renamed, transferred, archived or deleted: what GitHub says now (self-healing's
/// check, on the sync's share of the budget).
pub(super) async fn repository_changed(
    ctx: &Context,
    team: TeamId,
    repo: u64,
) -> Result<(), SyncError> {
    if ctx.store.tracked_repo(team, repo)?.is_none() {
        return Ok(());
    }
    // Through the one reader the sync uses: the team's budget and GitHub's retry policy.
    let budget = ctx.github.budget(team);
    let (progress, _) = tokio::sync::watch::channel(crate::sync::idle_progress());
    let run = Run::for_team(ctx, team, &budget, &progress).await?;
    repository_now(&run, repo).await
}

/// A repository as GitHub has it now (not what a delivery said, so events of the same
/// repository in any order end in the same state), read with `run`.
async fn repository_now(run: &Run<'_>, repo: u64) -> Result<(), SyncError> {
    let (store, team) = (&run.ctx.store, run.team);
    let Some(tracked) = store.tracked_repo(team, repo)? else {
        return Ok(());
    };
    let node = store.repo_node_id(team, repo)?;
    match run
        .reader
        .repository(node.as_deref(), &tracked.full_name)
        .await?
    {
        RepoNow::Found(now) if now.database_id == repo => {
            store.rename_tracked_repo(team, repo, &now.name_with_owner)?;
            store.put_repo_node_ids(team, &[(repo, now.id)])?;
        }
        RepoNow::Gone => {
            store.set_repo_sync_status(team, repo, SyncStatus::Error, Some(DELETED.into()))?;
        }
        // Another repository answers to the name now, or none does, and the node id that
        // would tell a rename from a deletion is not known yet (a store from before it).
        RepoNow::Found(_) | RepoNow::NotUnderName => {
            store.set_repo_sync_status(
                team,
                repo,
                SyncStatus::Error,
                Some(NOT_UNDER_NAME.into()),
            )?;
        }
    }
    Ok(())
}
