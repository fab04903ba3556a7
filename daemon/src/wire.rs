//! Stored records → wire types. Secrets become masks here, or the reason they cannot be read.

use crate::crypto::{CryptoError, Keyring, Secret};
use crate::store::{self, GitHubIntegration, IntegrationCredential, SecretField, Store};
use tidemark_protocol as wire;

pub fn role(r: store::Role) -> wire::Role {
    match r {
        store::Role::Owner => wire::Role::Owner,
        store::Role::Admin => wire::Role::Admin,
        store::Role::Member => wire::Role::Member,
    }
}

pub fn provider(p: store::Provider) -> wire::Provider {
    match p {
        store::Provider::Github => wire::Provider::Github,
        store::Provider::Jira => wire::Provider::Jira,
        store::Provider::Slack => wire::Provider::Slack,
    }
}

impl From<store::SyncStatus> for wire::SyncStatus {
    fn from(s: store::SyncStatus) -> Self {
        sync_status(s)
    }
}

pub fn sync_status(s: store::SyncStatus) -> wire::SyncStatus {
    match s {
        store::SyncStatus::Pending => wire::SyncStatus::Pending,
        store::SyncStatus::Syncing => wire::SyncStatus::Syncing,
        store::SyncStatus::Complete => wire::SyncStatus::Complete,
        store::SyncStatus::Error => wire::SyncStatus::Error,
    }
}

pub fn team(t: &store::Team, role: Option<store::Role>) -> wire::TeamInfo {
    wire::TeamInfo {
        id: t.id,
        name: t.name.clone(),
        created_at: t.created_at,
        role: role.map(self::role),
    }
}

fn secret_state(result: Result<Secret, CryptoError>) -> wire::SecretState {
    match result {
        Ok(secret) => wire::SecretState::Masked(secret.mask()),
        Err(e) => wire::SecretState::Unreadable(e.to_string()),
    }
}

pub fn credential(
    store: &Store,
    keyring: &Keyring,
    cred: &IntegrationCredential,
) -> Result<wire::CredentialInfo, store::StoreError> {
    let field = |f: SecretField| {
        store
            .credential_secret(keyring, cred, f)
            .transpose()
            .map(secret_state)
    };
    let connected_by = match cred.connected_by {
        Some(uid) => store.user(uid)?.map(|u| wire::UserInfo {
            uid: u.uid,
            name: u.name,
        }),
        None => None,
    };
    Ok(wire::CredentialInfo {
        provider: provider(cred.provider),
        scopes: cred.scopes.clone(),
        access_token: field(SecretField::AccessToken)
            .unwrap_or(wire::SecretState::Unreadable("missing".into())),
        refresh_token: field(SecretField::RefreshToken),
        expires_at: cred.token_expires_at,
        connected_by,
        created_at: cred.created_at,
        updated_at: cred.updated_at,
    })
}

pub fn github(
    store: &Store,
    keyring: &Keyring,
    g: &GitHubIntegration,
    web_url: &str,
) -> wire::GitHubIntegrationInfo {
    wire::GitHubIntegrationInfo {
        organization_slug: g.organization_slug.clone(),
        organization_id: g.organization_id,
        // Never even a mask of the webhook secret: only whether it is readable.
        webhook_secret: match store.webhook_secret(keyring, g) {
            Ok(_) => wire::SecretState::Masked("set".into()),
            Err(e) => wire::SecretState::Unreadable(e.to_string()),
        },
        sync_status: sync_status(g.sync_status),
        sync_error: g.sync_error.clone(),
        last_sync_at: g.last_sync_at,
        web_url: crate::github::trim_base(web_url),
    }
}

pub fn repo(r: &store::TrackedRepository, pull_request_count: u64) -> wire::RepoInfo {
    wire::RepoInfo {
        github_repo_id: r.github_repo_id,
        full_name: r.full_name.clone(),
        is_active: r.is_active,
        webhook_id: r.webhook_id,
        sync_status: sync_status(r.sync_status),
        sync_error: r.sync_error.clone(),
        last_sync_at: r.last_sync_at,
        pull_request_count,
        last_webhook_at: None,
        last_ping_at: None,
        webhooks_missed: 0,
        webhooks_recovered: 0,
        webhook_problem: None,
    }
}
