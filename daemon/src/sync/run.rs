//! One sync of one team's GitHub integration: token, members, then every tracked repository's
//! pull requests; retries what is worth retrying, never sends early (the budget waits), and
//! reports progress as it goes.

use super::pulls::{RepoWalk, sync_pull_requests};
pub use super::session::{Run, SyncError};
use crate::context::Context;
use crate::github::budget::Budget;
use crate::store::{MemberInput, SyncStatus, TeamId};
use tidemark_protocol::SyncProgress;
use tokio::sync::watch;

/// Org members become team members (by GitHub id, then email); those gone are marked as left.
pub(crate) async fn sync_members(run: &Run<'_>, org: &str) -> Result<(), SyncError> {
    run.phase("members");
    let store = &run.ctx.store;
    let members = run.reader.members(org).await?.ok_or_else(|| {
        SyncError::Failed(format!("organization '{org}' is not visible to the token"))
    })?;
    let mut seen = std::collections::HashSet::new();
    for m in members {
        let non_empty = |s: Option<String>| s.filter(|s| !s.is_empty());
        store.upsert_member(
            run.team,
            MemberInput {
                github_id: Some(m.database_id),
                is_bot: crate::store::looks_like_bot(&m.login),
                github_username: Some(m.login),
                email: non_empty(m.email),
                display_name: non_empty(m.name),
            },
        )?;
        seen.insert(m.database_id);
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

/// A pass over `n` repositories starts: none of them done yet.
fn begin_repos(progress: &watch::Sender<SyncProgress>, n: usize) {
    progress.send_modify(|p| {
        p.repos_total = n as u32;
        p.repos_done = 0;
    });
}

/// One more repository of the pass is done.
fn repo_done(progress: &watch::Sender<SyncProgress>) {
    progress.send_modify(|p| p.repos_done += 1);
}

/// Sync a team: members, then pull requests of every tracked repository.
pub async fn sync_team(
    ctx: &Context,
    team: TeamId,
    budget: &Budget,
    progress: &watch::Sender<SyncProgress>,
) -> Result<(), SyncError> {
    let store = &ctx.store;
    let integration = store
        .github_integration(team)?
        .ok_or_else(|| SyncError::Failed("the team is not connected to GitHub".into()))?;
    let run = Run::for_team(ctx, team, budget, progress).await?;
    sync_members(&run, &integration.organization_slug).await?;
    let repos: Vec<_> = store
        .tracked_repos(team)?
        .into_iter()
        .filter(|r| r.is_active)
        .collect();
    // Counted afresh on each pass: a sync asked for again while it ran makes a second pass
    // under the same progress (it read "4/2 repositories" when the count carried over).
    begin_repos(progress, repos.len());
    let mut walks = Vec::new();
    for repo in repos {
        store.set_repo_sync_status(team, repo.github_repo_id, SyncStatus::Syncing, None)?;
        let cursor = store.sync_cursor(team, repo.github_repo_id)?;
        walks.push(RepoWalk::new(repo, cursor));
    }
    let mut result = sync_pull_requests(&run, &mut walks).await;
    if result.is_ok() {
        let repos: Vec<_> = walks
            .iter()
            .filter(|w| w.failed.is_none())
            .map(|w| w.repo.clone())
            .collect();
        result = super::delivery::sync_delivery(&run, &repos).await;
    }
    run.phase(if result.is_ok() { "done" } else { "failed" });
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
            repo_done(progress);
        }
    }
    store.flush_async().await?;
    result?;
    if !failures.is_empty() {
        return Err(SyncError::Failed(failures.join("; ")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sync asked for again while it runs makes a second pass under the same progress: it
    /// counts its repositories from zero, never "4/2 repositories".
    #[test]
    fn a_second_pass_counts_its_repositories_from_zero() {
        let (progress, _rx) = watch::channel(crate::sync::idle_progress());
        for _pass in 0..2 {
            begin_repos(&progress, 2);
            repo_done(&progress);
            repo_done(&progress);
            let p = progress.borrow();
            assert_eq!((p.repos_done, p.repos_total), (2, 2));
        }
    }
}
