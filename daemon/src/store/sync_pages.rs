//! What a sync writes: a page of pull requests (each with all its reviews and commits) together
//! with the repository's checkpoint, in one batch. A sync killed at any moment resumes after the
//! last stored page: nothing stored is fetched again, and nothing is stored twice.

use super::keys::{Key, Kind, TeamId};
use super::pr_metrics as metrics;
use super::records::{Commit, PrExtra, PrReview, PullRequest, SyncCursor};
use super::{Result, Store, StoreError};

/// One pull request as GitHub has it now.
pub struct PrSnapshot {
    pub pr: PullRequest,
    pub reviews: Vec<PrReview>,
    pub commits: Vec<Commit>,
    /// GitHub's commit count when it lists fewer (the 250 cap).
    pub commits_total: Option<u64>,
}

fn cursor_key(team: TeamId, repo: u64) -> Key {
    Key::new(team, Kind::SyncCursor).u64(repo)
}

fn extra_key(team: TeamId, repo: u64, number: u64) -> Key {
    Key::new(team, Kind::PrExtra).u64(repo).u64(number)
}

pub(super) fn pr_key(team: TeamId, repo: u64, number: u64) -> Key {
    Key::new(team, Kind::PullRequest).u64(repo).u64(number)
}

pub(super) fn review_prefix(team: TeamId, repo: u64, number: u64) -> Key {
    Key::new(team, Kind::Review).u64(repo).u64(number)
}

pub(super) fn commit_prefix(team: TeamId, repo: u64, number: u64) -> Key {
    Key::new(team, Kind::Commit).u64(repo).u64(number)
}

impl Store {
    pub fn sync_cursor(&self, team: TeamId, repo: u64) -> Result<Option<SyncCursor>> {
        self.get(Kind::SyncCursor, cursor_key(team, repo))
    }

    pub fn pr_extra(&self, team: TeamId, repo: u64, number: u64) -> Result<Option<PrExtra>> {
        self.get(Kind::PrExtra, extra_key(team, repo, number))
    }

    /// Store a page of pull requests (replacing each one's reviews and commits whole, metrics
    /// recomputed) and the repository's new checkpoint, atomically.
    pub fn put_pull_request_page(
        &self,
        team: TeamId,
        repo: u64,
        page: Vec<PrSnapshot>,
        cursor: SyncCursor,
    ) -> Result<()> {
        if (cursor.team_id, cursor.repo_id) != (team, repo) {
            return Err(StoreError::Rejected {
                field: "sync cursor",
                reason: "belongs to another repository".into(),
            });
        }
        let mut w = self.writer();
        if self.tracked_repo(team, repo)?.is_none() {
            return Err(StoreError::NotFound(format!(
                "tracked repository {repo} of team #{team}"
            )));
        }
        write_snapshots(self, &mut w, team, repo, page)?;
        w.put(cursor_key(team, repo), &cursor);
        w.commit()
    }

    /// Store pull requests as GitHub has them now (a webhook's refetch), without touching the
    /// repository's checkpoint, atomically.
    pub fn put_pull_request_snapshots(
        &self,
        team: TeamId,
        repo: u64,
        page: Vec<PrSnapshot>,
    ) -> Result<()> {
        let mut w = self.writer();
        if self.tracked_repo(team, repo)?.is_none() {
            return Err(StoreError::NotFound(format!(
                "tracked repository {repo} of team #{team}"
            )));
        }
        write_snapshots(self, &mut w, team, repo, page)?;
        w.commit()
    }

    /// Forget a repository's checkpoint (untracked: a later track syncs it from the start).
    pub fn clear_sync_cursor(&self, team: TeamId, repo: u64) -> Result<()> {
        let mut w = self.writer();
        w.remove(cursor_key(team, repo));
        w.commit()
    }
}

fn write_snapshots(
    store: &Store,
    w: &mut super::Writer<'_>,
    team: TeamId,
    repo: u64,
    page: Vec<PrSnapshot>,
) -> Result<()> {
    for mut snap in page {
        let number = snap.pr.number;
        let belongs = (snap.pr.team_id, snap.pr.repo_id) == (team, repo)
            && snap
                .reviews
                .iter()
                .all(|r| (r.team_id, r.repo_id, r.pr_number) == (team, repo, number))
            && snap
                .commits
                .iter()
                .all(|c| (c.team_id, c.repo_id, c.pr_number) == (team, repo, number));
        if !belongs {
            return Err(StoreError::Rejected {
                field: "pull request",
                reason: "reviews and commits must belong to the pull request they are stored with"
                    .into(),
            });
        }
        for key in store.scan_keys(review_prefix(team, repo, number))? {
            w.remove(key);
        }
        for key in store.scan_keys(commit_prefix(team, repo, number))? {
            w.remove(key);
        }
        metrics::compute(&mut snap.pr, &snap.reviews, &snap.commits);
        for r in &snap.reviews {
            w.put(review_prefix(team, repo, number).u64(r.review_id), r);
        }
        for c in &snap.commits {
            w.put(commit_prefix(team, repo, number).bytes(c.sha.as_bytes()), c);
        }
        match snap.commits_total {
            Some(total) => w.put(
                extra_key(team, repo, number),
                &PrExtra {
                    team_id: team,
                    repo_id: repo,
                    number,
                    commits_total: total,
                },
            ),
            None => w.remove(extra_key(team, repo, number)),
        }
        w.put(pr_key(team, repo, number), &snap.pr);
    }
    Ok(())
}
