//! The daemon's context: what every part of it shares, handed around as a cheap-clone handle
//! ([`Ctx`]). It holds only what lies below the domain services: the store, the keys, the
//! GitHub client, the running settings and the event bus. The services (connect, sync,
//! webhooks, teams) take it and keep their own state; the RPC layer composes them on top.

pub mod bus;
pub mod returns;
pub mod runtime;
#[cfg(test)]
pub(crate) mod testing;

pub use bus::{Bus, Event};
pub use runtime::{ConfigState, Runtime, Stop};

use crate::auth::Policy;
use crate::crypto::{Keyring, Secret};
use crate::github::GitHub;
use crate::github::tokens::TokenError;
use crate::store::{Store, TeamId};
use std::sync::Arc;

/// The handle: clone it freely.
pub type Ctx = Arc<Context>;

pub struct Context {
    pub store: Store,
    pub keyring: Keyring,
    /// Who counts as an operator (root, the daemon's user).
    pub policy: Policy,
    /// GitHub's settings as they are now, the HTTP client, rate budgets, token refreshes.
    pub github: GitHub,
    /// When the daemon started, its settings and where they came from, stop requests.
    pub runtime: Runtime,
    /// Changes others must hear of (hooks changed, a team connected, a reconciliation due).
    pub bus: Bus,
    /// Pages a browser comes back to through the public URL (an https OAuth redirect).
    pub returns: returns::Returns,
}

impl Context {
    pub fn new(store: Store, keyring: Keyring, policy: Policy, runtime: Runtime) -> Ctx {
        let current = runtime.config().current.clone();
        let github = GitHub::new(
            current.github.clone(),
            current.public_url.clone(),
            current.secondary_wait,
        );
        let ctx = Arc::new(Context {
            store,
            keyring,
            policy,
            github,
            runtime,
            bus: Bus::new(),
            returns: returns::Returns::default(),
        });
        runtime::apply(&ctx, &current);
        ctx
    }

    /// The team's GitHub access token, refreshed first if it is about to expire.
    pub async fn access_token(&self, team: TeamId) -> Result<Secret, TokenError> {
        crate::github::tokens::access_token(&self.store, &self.keyring, &self.github, team).await
    }
}
