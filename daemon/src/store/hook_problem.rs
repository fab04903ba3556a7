//! Why a tracked repository has no webhook: what GitHub answered when tidemark asked for one
//! (issue 15: a second team tracking a repository got GitHub's 422 while `status` said the
//! webhook was set). Written when a hook cannot be made, removed once it is.

use super::keys::{Key, Kind, TeamId};
use super::records::HookProblem;
use super::{Result, Store};

pub(super) fn hook_problem_key(team: TeamId, repo: u64) -> Key {
    Key::new(team, Kind::HookProblem).u64(repo)
}

impl Store {
    /// Why the repository has no webhook, if something went wrong making it.
    pub fn hook_problem(&self, team: TeamId, repo: u64) -> Result<Option<HookProblem>> {
        self.get(Kind::HookProblem, hook_problem_key(team, repo))
    }

    /// Record why the repository's webhook could not be made. The first time the same problem
    /// was seen is kept. Nothing is written for a repository the team no longer tracks.
    pub fn set_hook_problem(&self, team: TeamId, repo: u64, problem: &str) -> Result<()> {
        let mut w = self.writer();
        if self.tracked_repo(team, repo)?.is_none() {
            return Ok(());
        }
        let now = super::now();
        let since = match self.hook_problem(team, repo)? {
            Some(old) if old.problem == problem => old.since,
            _ => now,
        };
        w.put(
            hook_problem_key(team, repo),
            &HookProblem {
                team_id: team,
                repo_id: repo,
                problem: problem.to_string(),
                since,
                updated_at: now,
            },
        );
        w.commit()
    }

    /// The repository's webhook exists now (or is not wanted): forget any problem.
    pub fn clear_hook_problem(&self, team: TeamId, repo: u64) -> Result<()> {
        if self.hook_problem(team, repo)?.is_none() {
            return Ok(());
        }
        let mut w = self.writer();
        w.remove(hook_problem_key(team, repo));
        w.commit()
    }
}
