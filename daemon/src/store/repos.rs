//! Tracked repositories: they belong to the team's GitHub integration and go with it.

use super::keys::{Key, Kind, TeamId};
use super::records::{SyncStatus, TrackedRepository};
use super::{Result, Store, StoreError, now};

fn repo_key(team: TeamId, github_repo_id: u64) -> Key {
    Key::new(team, Kind::TrackedRepo).u64(github_repo_id)
}

pub use tidemark_protocol::{validate_login, validate_repo_full_name};

impl Store {
    /// Track a repository of the team's GitHub integration. One per (team, github_repo_id).
    pub fn track_repo(
        &self,
        team: TeamId,
        github_repo_id: u64,
        full_name: &str,
    ) -> Result<TrackedRepository> {
        validate_repo_full_name(full_name).map_err(|reason| StoreError::Rejected {
            field: "repository name",
            reason,
        })?;
        let mut w = self.writer();
        if self.github_integration(team)?.is_none() {
            return Err(StoreError::NotFound(format!(
                "a GitHub integration for team #{team}"
            )));
        }
        if let Some(existing) = self.tracked_repo(team, github_repo_id)? {
            return Err(StoreError::Conflict(format!(
                "tracking of {}",
                existing.full_name
            )));
        }
        let repo = TrackedRepository {
            team_id: team,
            github_repo_id,
            full_name: full_name.to_string(),
            is_active: true,
            webhook_id: None,
            last_sync_at: None,
            sync_status: SyncStatus::Pending,
            sync_error: None,
            created_at: now(),
        };
        w.put(repo_key(team, github_repo_id), &repo);
        w.commit()?;
        Ok(repo)
    }

    pub fn tracked_repo(
        &self,
        team: TeamId,
        github_repo_id: u64,
    ) -> Result<Option<TrackedRepository>> {
        self.get(Kind::TrackedRepo, repo_key(team, github_repo_id))
    }

    pub fn tracked_repos(&self, team: TeamId) -> Result<Vec<TrackedRepository>> {
        let mut repos: Vec<TrackedRepository> =
            self.scan(Kind::TrackedRepo, Key::new(team, Kind::TrackedRepo))?;
        repos.sort_by_key(|a| a.full_name.to_lowercase());
        Ok(repos)
    }

    pub fn untrack_repo(&self, team: TeamId, github_repo_id: u64) -> Result<TrackedRepository> {
        let mut w = self.writer();
        let repo = self
            .tracked_repo(team, github_repo_id)?
            .ok_or_else(|| StoreError::NotFound(format!("tracked repository {github_repo_id}")))?;
        w.remove(repo_key(team, github_repo_id));
        w.remove(super::hook_problem::hook_problem_key(team, github_repo_id));
        w.commit()?;
        Ok(repo)
    }

    /// A tracked repository renamed or transferred on GitHub (same id, new `owner/name`).
    pub fn rename_tracked_repo(
        &self,
        team: TeamId,
        github_repo_id: u64,
        full_name: &str,
    ) -> Result<TrackedRepository> {
        validate_repo_full_name(full_name).map_err(|reason| StoreError::Rejected {
            field: "repository",
            reason,
        })?;
        let mut w = self.writer();
        let mut repo = self
            .tracked_repo(team, github_repo_id)?
            .ok_or_else(|| StoreError::NotFound(format!("tracked repository {github_repo_id}")))?;
        repo.full_name = full_name.to_string();
        w.put(repo_key(team, github_repo_id), &repo);
        w.commit()?;
        Ok(repo)
    }

    /// Record the webhook tidemark created for a repository (None: it has none).
    pub fn set_repo_webhook(
        &self,
        team: TeamId,
        github_repo_id: u64,
        webhook_id: Option<u64>,
    ) -> Result<TrackedRepository> {
        let mut w = self.writer();
        let mut repo = self
            .tracked_repo(team, github_repo_id)?
            .ok_or_else(|| StoreError::NotFound(format!("tracked repository {github_repo_id}")))?;
        repo.webhook_id = webhook_id;
        w.put(repo_key(team, github_repo_id), &repo);
        w.commit()?;
        Ok(repo)
    }

    /// Record a repository's sync progress.
    pub fn set_repo_sync_status(
        &self,
        team: TeamId,
        github_repo_id: u64,
        status: SyncStatus,
        error: Option<String>,
    ) -> Result<TrackedRepository> {
        let mut w = self.writer();
        let mut repo = self
            .tracked_repo(team, github_repo_id)?
            .ok_or_else(|| StoreError::NotFound(format!("tracked repository {github_repo_id}")))?;
        repo.sync_status = status;
        repo.sync_error = error;
        if status == SyncStatus::Complete {
            repo.last_sync_at = Some(now());
        }
        w.put(repo_key(team, github_repo_id), &repo);
        w.commit()?;
        Ok(repo)
    }
}
