//! What one sync (or a webhook's re-read) of one team works with: the reader on the team's
//! token and budget, where its progress goes, and the team's members for linking authors; and
//! how it fails. `run` (the whole sync) and `pulls` (pull request pages) both build on it.

use crate::context::Context;
use crate::github::GitHubError;
use crate::github::budget::Budget;
use crate::github::reader::{ReadError, Reader};
use crate::store::{PrSnapshot, StoreError, SyncCursor, TeamId};
use std::collections::HashMap;
use std::sync::Mutex;
use tidemark_protocol::SyncProgress;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("GitHub rejected the token (401): reconnect GitHub")]
    Unauthorized,
    #[error("{0}")]
    GitHub(GitHubError),
    #[error("{0}")]
    Failed(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Webhook re-reads only: held back for the sync's share of the rate budget until then.
    #[error("webhook re-reads wait for GitHub's rate budget to reset (at {0})")]
    Held(i64),
}

impl From<ReadError> for SyncError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Unauthorized => SyncError::Unauthorized,
            ReadError::TooBig => {
                SyncError::Failed("GitHub times out even on the smallest query".into())
            }
            ReadError::GitHub(e) => SyncError::GitHub(e),
            ReadError::Held(until) => SyncError::Held(until),
        }
    }
}

/// What a sync, a webhook's re-read or self-healing reads GitHub with for one team: the reader
/// (token, budget, retry policy), where progress goes, and the team's members for linking.
pub struct Run<'a> {
    pub ctx: &'a Context,
    pub team: TeamId,
    pub reader: Reader<'a>,
    pub progress: &'a watch::Sender<SyncProgress>,
    pub members: Mutex<MemberIndex>,
}

impl<'a> Run<'a> {
    /// The team's token (refreshed if it is about to expire) and a reader on its budget.
    pub async fn for_team(
        ctx: &'a Context,
        team: TeamId,
        budget: &'a Budget,
        progress: &'a watch::Sender<SyncProgress>,
    ) -> Result<Run<'a>, SyncError> {
        let token = ctx
            .access_token(team)
            .await
            .map_err(|e| SyncError::Failed(e.to_string()))?;
        let reader = Reader::new(
            ctx.github.http.clone(),
            &ctx.github.live().github.api_url,
            token,
            budget,
        )
        .on_wait(move |until: i64| {
            progress.send_modify(|p| {
                p.phase = format!("waiting for GitHub's rate limit (until {until})");
            });
        });
        Ok(Run {
            ctx,
            team,
            reader,
            progress,
            members: Mutex::new(MemberIndex::default()),
        })
    }

    /// [`Run::for_team`] for re-reads caused by webhook deliveries: kept to their share of the
    /// team's rate budget (`Reader::for_webhooks`).
    pub async fn for_webhooks(
        ctx: &'a Context,
        team: TeamId,
        budget: &'a Budget,
        progress: &'a watch::Sender<SyncProgress>,
    ) -> Result<Run<'a>, SyncError> {
        let mut run = Run::for_team(ctx, team, budget, progress).await?;
        run.reader = run.reader.for_webhooks();
        Ok(run)
    }

    pub fn phase(&self, phase: &str) {
        let budget = self.reader.budget().snapshot();
        let requests = self.reader.budget().requests();
        let skipped = self.reader.skipped();
        self.progress.send_modify(|p| {
            p.phase = phase.to_string();
            p.budget = budget;
            p.requests = requests;
            p.skipped = skipped.count;
            p.skipped_note = skipped.last;
        });
    }

    /// The nodes of a list that read; the others counted as skipped (see `Reader::skipped`).
    pub fn reader_readable<T>(
        &self,
        what: &str,
        nodes: Vec<crate::github::graphql::nodes::Lenient<T>>,
    ) -> Vec<T> {
        self.reader.readable(what, nodes)
    }

    pub fn fetched(&self, prs: u64) {
        self.progress.send_modify(|p| p.prs_fetched += prs);
    }

    pub fn store_page(
        &self,
        repo: u64,
        page: Vec<PrSnapshot>,
        cursor: SyncCursor,
    ) -> Result<(), SyncError> {
        self.ctx
            .store
            .put_pull_request_page(self.team, repo, page, cursor)?;
        Ok(())
    }

    /// Index the stored members for linking authors.
    pub fn load_members(&self) -> Result<(), SyncError> {
        let mut index = MemberIndex::default();
        for m in self.ctx.store.members(self.team)? {
            if let Some(gid) = m.github_id {
                index.by_github_id.insert(gid, m.id);
            }
            if let Some(email) = &m.email {
                index.by_email.insert(email.to_ascii_lowercase(), m.id);
            }
        }
        *self
            .members
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = index;
        Ok(())
    }

    /// The member a GitHub id (first) or an email belongs to.
    pub fn member_for(&self, github_id: Option<u64>, email: Option<&str>) -> Option<u64> {
        let idx = self
            .members
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        github_id
            .and_then(|id| idx.by_github_id.get(&id).copied())
            .or_else(|| email.and_then(|e| idx.by_email.get(&e.to_ascii_lowercase()).copied()))
    }
}

/// Member ids by GitHub id and by email, for linking authors.
#[derive(Default)]
pub struct MemberIndex {
    pub by_github_id: HashMap<u64, u64>,
    pub by_email: HashMap<String, u64>,
}
