//! A team's GitHub access token, refreshed before it expires when GitHub issued an expiring one.
//!
//! One refresh at a time per team (a tokio mutex per team), and the new pair is written durably
//! in one batch (access and refresh token together) before anyone uses it. A crash at any point
//! leaves the store holding one whole pair, old or new, never half of each or none.

use super::GitHub;
use super::oauth::OAuthError;
use crate::crypto::{Keyring, Secret};
use crate::store::{Provider, SecretField, Store, StoreError, SyncStatus, TeamId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Refresh this long before the token expires.
pub const REFRESH_MARGIN: i64 = 5 * 60;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the team is not connected to GitHub")]
    NotConnected,
    #[error("the stored GitHub token cannot be decrypted: {0}")]
    Unreadable(String),
    #[error("refreshing the GitHub token failed: {0}")]
    Refresh(#[from] OAuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Per-team refresh locks.
#[derive(Default)]
pub struct Refreshes {
    locks: Mutex<HashMap<TeamId, Arc<tokio::sync::Mutex<()>>>>,
}

impl Refreshes {
    pub(crate) fn lock_for(&self, team: TeamId) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(team)
            .or_default()
            .clone()
    }
}

fn needs_refresh(expires_at: Option<i64>, has_refresh: bool) -> bool {
    has_refresh && expires_at.is_some_and(|t| t - crate::store::now() <= REFRESH_MARGIN)
}

/// The team's access token, refreshed first if it is about to expire.
pub async fn access_token(
    store: &Store,
    keyring: &Keyring,
    github: &GitHub,
    team: TeamId,
) -> Result<Secret, TokenError> {
    let read = |field| -> Result<Option<Secret>, TokenError> {
        let cred = store
            .credential(team, Provider::Github)?
            .ok_or(TokenError::NotConnected)?;
        store
            .credential_secret(keyring, &cred, field)
            .map_err(|e| TokenError::Unreadable(e.to_string()))
    };
    let cred = store
        .credential(team, Provider::Github)?
        .ok_or(TokenError::NotConnected)?;
    if !needs_refresh(cred.token_expires_at, cred.refresh_token.is_some()) {
        return read(SecretField::AccessToken)?.ok_or(TokenError::NotConnected);
    }
    let lock = github.refreshes.lock_for(team);
    let _one_at_a_time = lock.lock().await;
    // Another caller may have refreshed while we waited.
    let cred = store
        .credential(team, Provider::Github)?
        .ok_or(TokenError::NotConnected)?;
    if !needs_refresh(cred.token_expires_at, cred.refresh_token.is_some()) {
        return read(SecretField::AccessToken)?.ok_or(TokenError::NotConnected);
    }
    let refresh_token = read(SecretField::RefreshToken)?.ok_or(TokenError::NotConnected)?;
    let oauth = github.oauth()?;
    crate::failpoint::hit("refresh:before_exchange");
    let fresh = match oauth.refresh(&refresh_token).await {
        Ok(t) => t,
        Err(e) => {
            if matches!(e, OAuthError::BadRefreshToken | OAuthError::BadClient) {
                let _ = store.set_github_sync_status(
                    team,
                    SyncStatus::Error,
                    Some(format!("{e}; reconnect GitHub")),
                );
                let _ = store.flush_async().await;
            }
            tracing::warn!(team, error = %e, "GitHub token refresh failed");
            return Err(e.into());
        }
    };
    crate::failpoint::hit("refresh:after_exchange");
    // GitHub may not rotate the refresh token: keep the old one then.
    let next_refresh = fresh.refresh_token.as_ref().unwrap_or(&refresh_token);
    store.replace_tokens(
        keyring,
        &cred,
        &fresh.access_token,
        Some(next_refresh),
        fresh.expires_at,
    )?;
    store.flush_async().await?;
    crate::failpoint::hit("refresh:after_write");
    tracing::info!(team, expires_at = ?fresh.expires_at, "GitHub token refreshed");
    Ok(fresh.access_token)
}

/// Keep every expiring token fresh, checking every `every()` (read each time: a reload may
/// change it).
pub async fn refresh_loop(
    store: &Store,
    keyring: &Keyring,
    github: &GitHub,
    every: impl Fn() -> std::time::Duration,
) {
    let mut first = true;
    loop {
        // Read each time: a reload may change it.
        if !std::mem::take(&mut first) {
            tokio::time::sleep(every()).await;
        }
        let Ok(teams) = store.teams() else {
            continue;
        };
        for team in teams {
            let Ok(Some(cred)) = store.credential(team.id, Provider::Github) else {
                continue;
            };
            if needs_refresh(cred.token_expires_at, cred.refresh_token.is_some()) {
                let _ = access_token(store, keyring, github, team.id).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_expiring_tokens_with_a_refresh_token_are_refreshed() {
        let now = crate::store::now();
        assert!(
            !needs_refresh(None, true),
            "GitHub's OAuth tokens do not expire"
        );
        assert!(!needs_refresh(Some(now + 3_600), true));
        assert!(needs_refresh(Some(now + 60), true));
        assert!(needs_refresh(Some(now - 60), true));
        assert!(
            !needs_refresh(Some(now + 60), false),
            "nothing to refresh with"
        );
    }
}
