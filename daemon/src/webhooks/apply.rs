//! Applying the inbox: each pull request a delivery names is read again from GitHub and stored
//! whole, so deliveries in any order (or replayed) converge on GitHub's state; repository
//! events update what they name, `member` and the organization hook's `organization` events
//! (members added, removed) re-read the org's members; pings mark the hook live. An entry
//! leaves the inbox only once applied; a failure (GitHub down) leaves it for the next round.

use super::parse::parse;
use crate::github::reader::RepoNow;
use crate::rpc::Shared;
use crate::store::{HookHealth, InboxEntry, SyncStatus, TeamId};
use crate::sync::pulls::{RepoWalk, fetch_pull_requests};
use crate::sync::run::{Run, SyncError};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// Deliveries applied in one round, at most: a backlog (GitHub down for a while) is read a
/// round at a time, never whole.
const ROUND: usize = 256;
const ROUND_BYTES: usize = 32 * 1024 * 1024;
/// After a failed round the applier waits this long before trying again (doubling up to
/// `MAX_BACKOFF`), rather than on every new delivery.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Apply waiting deliveries whenever some were written, and every 30 s (retries).
pub async fn applier(shared: Arc<Shared>, written: Arc<tokio::sync::Notify>) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        tokio::select! {
            _ = written.notified() => {
                // Deliveries come in bursts (a review, a push, a merge): gather a moment, so
                // each pull request is read once per burst.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            _ = tokio::time::sleep(Duration::from_secs(30)) => {}
        }
        let Ok(teams) = shared.store.teams() else {
            continue;
        };
        let mut failed = false;
        for team in teams {
            // Round after round until the team's inbox is empty or a round fails.
            loop {
                let entries = match shared.store.inbox_oldest(team.id, ROUND, ROUND_BYTES) {
                    Ok(e) if !e.is_empty() => e,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::error!(team = team.id, error = %e, "webhook inbox unreadable");
                        failed = true;
                        break;
                    }
                };
                if let Err(e) = apply_team(&shared, team.id, entries).await {
                    tracing::warn!(team = team.id, error = %e, "webhook deliveries not applied yet; will retry");
                    failed = true;
                    break;
                }
            }
        }
        // Spool segments whose deliveries are all applied go.
        if let Err(e) = shared.store.inbox_release() {
            tracing::warn!(error = %e, "webhook spool not cleaned up; will retry");
        }
        if failed {
            // Deliveries written meanwhile wait in the inbox (durable) for the next round.
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        } else {
            backoff = FIRST_BACKOFF;
        }
    }
}

async fn apply_team(
    shared: &Arc<Shared>,
    team: TeamId,
    entries: Vec<InboxEntry>,
) -> Result<(), SyncError> {
    crate::failpoint::hit("webhook:before_apply");
    let store = &shared.store;
    // Pull requests to read again, by repository.
    let mut prs: BTreeMap<u64, BTreeSet<u64>> = BTreeMap::new();
    let mut members = false;
    // Repositories a `repository` event named: read again from GitHub below.
    let mut repos = BTreeSet::new();
    for e in &entries {
        // Verified when it was received (`parse::check_signature`).
        let d = parse(&e.event, &e.body);
        let repo = d.repository.as_ref().map(|r| r.id).or(e.repo_id);
        match d.event.as_str() {
            "pull_request" | "pull_request_review" | "pull_request_review_comment" => {
                if let (Some(repo), Some(number)) = (repo, d.pull_request) {
                    prs.entry(repo).or_default().insert(number);
                }
            }
            "push" => {
                // The open pull requests the pushed commits (or the branch's previous head)
                // belong to are read again whole: past GitHub's 2,048-commit list too.
                if let Some(repo) = repo {
                    let numbers = pulls_with_commits(store, team, repo, &d.pushed)?;
                    prs.entry(repo).or_default().extend(numbers);
                }
            }
            // A collaborator added to a repository (repository hooks), or a member added to
            // or removed from the org (the organization hook): the org's members, re-read.
            "member" => members = true,
            "organization"
                if matches!(d.action.as_deref(), Some("member_added" | "member_removed")) =>
            {
                members = true
            }
            "repository" => {
                if let Some(r) = &d.repository {
                    repos.insert(r.id);
                }
            }
            _ => {}
        }
    }
    for repo in repos {
        repository_changed(shared, team, repo).await?;
    }
    if !prs.is_empty() || members {
        let budget = shared.syncs.budget(team);
        let (progress, _) = tokio::sync::watch::channel(crate::sync::idle_progress());
        let run = Run::for_team(shared, team, &budget, &progress).await?;
        let org = store
            .github_integration(team)?
            .map(|g| g.organization_slug)
            .ok_or_else(|| SyncError::Failed("not connected".into()))?;
        if members {
            crate::sync::run::sync_members(&run, &org).await?;
        } else {
            run.load_members()?;
        }
        for (repo_id, numbers) in prs {
            let Some(repo) = store.tracked_repo(team, repo_id)? else {
                continue;
            };
            let numbers: Vec<u64> = numbers.into_iter().collect();
            let walk = RepoWalk::new(repo, None);
            let snapshots = match fetch_pull_requests(&run, &walk, &numbers).await? {
                Some(s) => s,
                None => {
                    // Not under the name we have: renamed or transferred (its `repository`
                    // delivery may come later), or deleted. Ask by id, then once more.
                    repository_changed(shared, team, repo_id).await?;
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
    // Applied: out of the inbox, with each repository's webhook health.
    let now = crate::store::now();
    for e in &entries {
        let health = e.repo_id.map(|repo| {
            let mut h = store
                .hook_health(team, repo)
                .ok()
                .flatten()
                .unwrap_or(HookHealth {
                    team_id: team,
                    repo_id: repo,
                    ..HookHealth::default()
                });
            h.deliveries += 1;
            h.last_delivery_at = Some(e.received_at);
            match e.event.as_str() {
                "ping" => h.last_ping_at = Some(now),
                "pull_request" | "pull_request_review" | "push" | "repository" | "member" => {}
                _ => h.ignored += 1,
            }
            h
        });
        store.inbox_done(e, health)?;
    }
    store.flush_async().await?;
    tracing::debug!(team, applied = entries.len(), "webhook deliveries applied");
    Ok(())
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

/// A repository renamed, transferred, archived or deleted: what GitHub says now (not what the
/// delivery said, so events of the same repository in any order end in the same state).
pub(super) async fn repository_changed(
    shared: &Shared,
    team: TeamId,
    repo: u64,
) -> Result<(), SyncError> {
    let store = &shared.store;
    let Some(tracked) = store.tracked_repo(team, repo)? else {
        return Ok(());
    };
    // Through the one reader the sync uses: the team's budget and GitHub's retry policy.
    let budget = shared.syncs.budget(team);
    let (progress, _) = tokio::sync::watch::channel(crate::sync::idle_progress());
    let run = Run::for_team(shared, team, &budget, &progress).await?;
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
