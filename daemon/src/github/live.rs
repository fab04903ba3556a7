//! The GitHub client the daemon shares: the settings in effect (a reload swaps them whole),
//! one HTTP client, each team's rate budget (rate limits are per token, so per integration,
//! shared by its syncs and webhook re-reads) and the token refresh locks.

use super::budget::Budget;
use super::oauth::{OAuth, OAuthError};
use super::tokens::Refreshes;
use super::{Api, GitHubConfig};
use crate::store::TeamId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

/// The GitHub settings a call uses, taken whole so a reload never mixes old and new.
pub struct GitHubLive {
    pub github: GitHubConfig,
    /// The URL GitHub reaches this daemon's webhook listener at (a tunnel's); None: no hooks.
    pub public_url: Option<String>,
    pub api: Api,
}

impl GitHubLive {
    fn new(http: &reqwest::Client, github: GitHubConfig, public_url: Option<String>) -> Self {
        let api = Api::new(http.clone(), &github.api_url);
        GitHubLive {
            github,
            public_url,
            api,
        }
    }
}

pub struct GitHub {
    live: RwLock<Arc<GitHubLive>>,
    pub http: reqwest::Client,
    budgets: Mutex<HashMap<TeamId, Arc<Budget>>>,
    /// The first wait after a secondary limit without `retry-after` (each budget's), in ms.
    secondary_wait_ms: AtomicU64,
    /// One token refresh at a time per team.
    pub(crate) refreshes: Refreshes,
}

impl GitHub {
    pub fn new(
        github: GitHubConfig,
        public_url: Option<String>,
        secondary_wait: Duration,
    ) -> GitHub {
        let http = super::http_client();
        let live = GitHubLive::new(&http, github, public_url);
        GitHub {
            live: RwLock::new(Arc::new(live)),
            http,
            budgets: Mutex::new(HashMap::new()),
            secondary_wait_ms: AtomicU64::new(secondary_wait.as_millis() as u64),
            refreshes: Refreshes::default(),
        }
    }

    /// The GitHub settings in effect now.
    pub fn live(&self) -> Arc<GitHubLive> {
        self.live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Apply reloaded settings: calls that start from now on use them.
    pub fn set_live(&self, github: GitHubConfig, public_url: Option<String>) {
        let live = GitHubLive::new(&self.http, github, public_url);
        *self
            .live
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(live);
    }

    pub fn oauth(&self) -> Result<OAuth, OAuthError> {
        OAuth::new(&self.live().github, self.http.clone())
    }

    fn budgets(&self) -> MutexGuard<'_, HashMap<TeamId, Arc<Budget>>> {
        self.budgets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn secondary_wait(&self) -> Duration {
        Duration::from_millis(self.secondary_wait_ms.load(Ordering::Relaxed))
    }

    /// The team's rate-limit budget (shared by its syncs and webhook re-reads).
    pub fn budget(&self, team: TeamId) -> Arc<Budget> {
        let wait = self.secondary_wait();
        self.budgets()
            .entry(team)
            .or_insert_with(|| Arc::new(Budget::new(wait)))
            .clone()
    }

    /// A new first wait after a secondary limit (start, and each reload), for every budget.
    pub fn set_secondary_wait(&self, wait: Duration) {
        self.secondary_wait_ms
            .store(wait.as_millis() as u64, Ordering::Relaxed);
        for budget in self.budgets().values() {
            budget.set_secondary_wait(wait);
        }
    }
}
