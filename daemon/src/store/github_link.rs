//! Connecting, refreshing and disconnecting a team's GitHub link: the multi-record changes of
//! the connect flow, each one batch so a crash leaves all of it or none.

use super::integrations::{SecretField, credential_key, github_key};
use super::keys::{Key, Kind, TeamId};
use super::records::{GitHubIntegration, IntegrationCredential, Provider, SyncStatus};
use super::{Result, Store, StoreError, now};
use crate::crypto::{self, Keyring, Secret};

/// Tokens from an OAuth exchange, and who connected.
pub struct GitHubLogin {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub token_expires_at: Option<i64>,
    pub scopes: Vec<String>,
    pub connected_by: Option<u32>,
    pub organization_slug: String,
    pub organization_id: u64,
}

/// What `connect_github` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connected {
    /// A new credential and integration.
    New,
    /// The team was connected to this organization already: its token was replaced, its
    /// integration, tracked repositories and history kept.
    Replaced,
}

/// Kinds of synced history `purge_github_history` deletes.
const HISTORY: &[Kind] = &[
    Kind::TeamMember,
    Kind::MemberByGithubId,
    Kind::MemberByEmail,
    Kind::PullRequest,
    Kind::Review,
    Kind::Commit,
    Kind::PrExtra,
    Kind::Deploy,
    Kind::Issue,
    Kind::Compare,
    Kind::DeliverySync,
];

impl Store {
    /// Store a team's GitHub credential and integration in one step. A team already connected to
    /// the same organization gets its token replaced (when `replace`); another organization is
    /// refused (disconnect first), so tracked repositories never end up under the wrong org.
    pub fn connect_github(
        &self,
        keyring: &Keyring,
        team: TeamId,
        login: GitHubLogin,
        webhook_secret: &Secret,
        replace: bool,
    ) -> Result<Connected> {
        let mut w = self.writer();
        if self.team(team)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{team}")));
        }
        if let Some(uid) = login.connected_by
            && self.user(uid)?.is_none()
        {
            return Err(StoreError::NotFound(format!("user {uid}")));
        }
        let existing = self.credential(team, Provider::Github)?;
        let integration = self.github_integration(team)?;
        if let Some(g) = &integration
            && g.organization_id != login.organization_id
        {
            return Err(StoreError::Conflict(format!(
                "a GitHub connection of team #{team} to organization '{}' (disconnect it first to \
                 connect '{}')",
                g.organization_slug, login.organization_slug
            )));
        }
        if existing.is_some() && !replace {
            return Err(StoreError::Conflict(format!(
                "a GitHub connection of team #{team}{}",
                integration
                    .as_ref()
                    .map(|g| format!(" (organization '{}')", g.organization_slug))
                    .unwrap_or_default()
            )));
        }
        let seal = |field: SecretField, secret: &Secret| {
            crypto::encrypt(keyring, field.binding(team, Provider::Github), secret)
        };
        let at = now();
        let cred = IntegrationCredential {
            team_id: team,
            provider: Provider::Github,
            access_token: seal(SecretField::AccessToken, &login.access_token),
            refresh_token: login
                .refresh_token
                .as_ref()
                .map(|t| seal(SecretField::RefreshToken, t)),
            token_expires_at: login.token_expires_at,
            scopes: login.scopes,
            connected_by: login.connected_by,
            created_at: existing.as_ref().map_or(at, |c| c.created_at),
            updated_at: at,
        };
        w.put(credential_key(team, Provider::Github), &cred);
        let outcome = match integration {
            Some(mut g) => {
                // Same org: keep its webhook secret (the hooks on GitHub use it) and its repos.
                g.organization_slug = login.organization_slug;
                g.updated_at = at;
                if g.sync_status == SyncStatus::Error {
                    g.sync_status = SyncStatus::Pending;
                    g.sync_error = None;
                }
                w.put(github_key(team), &g);
                Connected::Replaced
            }
            None => {
                w.put(
                    github_key(team),
                    &GitHubIntegration {
                        team_id: team,
                        organization_slug: login.organization_slug,
                        organization_id: login.organization_id,
                        webhook_secret: seal(SecretField::WebhookSecret, webhook_secret),
                        last_sync_at: None,
                        sync_status: SyncStatus::Pending,
                        sync_error: None,
                        created_at: at,
                        updated_at: at,
                    },
                );
                if existing.is_some() {
                    Connected::Replaced
                } else {
                    Connected::New
                }
            }
        };
        w.commit()?;
        Ok(outcome)
    }

    /// Replace a credential's tokens after a refresh, only if the credential still holds
    /// `previous` (so two refreshes cannot interleave and lose the newer pair).
    pub fn replace_tokens(
        &self,
        keyring: &Keyring,
        previous: &IntegrationCredential,
        access_token: &Secret,
        refresh_token: Option<&Secret>,
        token_expires_at: Option<i64>,
    ) -> Result<IntegrationCredential> {
        let team = previous.team_id;
        let provider = previous.provider;
        let mut w = self.writer();
        let current = self.credential(team, provider)?;
        if current.as_ref() != Some(previous) {
            return Err(StoreError::Conflict(format!(
                "a newer {provider} credential for team #{team}"
            )));
        }
        let seal = |field: SecretField, secret: &Secret| {
            crypto::encrypt(keyring, field.binding(team, provider), secret)
        };
        let mut cred = previous.clone();
        cred.access_token = seal(SecretField::AccessToken, access_token);
        cred.refresh_token = refresh_token.map(|t| seal(SecretField::RefreshToken, t));
        cred.token_expires_at = token_expires_at;
        cred.updated_at = now();
        w.put(credential_key(team, provider), &cred);
        w.commit()?;
        Ok(cred)
    }

    /// Disconnect a team from GitHub in one step: credential, integration and tracked
    /// repositories, plus the synced history (members, pull requests, reviews, commits) when
    /// `purge`. Returns (repositories removed, history records removed).
    pub fn disconnect_github(&self, team: TeamId, purge: bool) -> Result<(u64, u64)> {
        let mut w = self.writer();
        if self.credential(team, Provider::Github)?.is_none() {
            return Err(StoreError::NotFound(format!(
                "a GitHub connection for team #{team}"
            )));
        }
        w.remove(credential_key(team, Provider::Github));
        w.remove(github_key(team));
        w.remove(super::org_hook::org_hook_key(team));
        let mut repos = 0;
        for key in self.scan_keys(Key::new(team, Kind::TrackedRepo))? {
            w.remove(key);
            repos += 1;
        }
        for kind in [Kind::SyncCursor, Kind::HookProblem] {
            for key in self.scan_keys(Key::new(team, kind))? {
                w.remove(key);
            }
        }
        let mut history = 0;
        if purge {
            for kind in HISTORY {
                for key in self.scan_keys(Key::new(team, *kind))? {
                    w.remove(key);
                    history += 1;
                }
            }
        }
        w.commit()?;
        Ok((repos, history))
    }
}
