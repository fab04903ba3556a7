//! Fabricated protocol values for tests and snapshots. Masks only: no value here was ever a
//! secret, and the protocol cannot carry one anyway.

use tidemark_protocol::{
    CredentialInfo, GitHubIntegrationInfo, IntegrationInfo, Provider, RepoInfo, Role, SecretState,
    SyncStatus, TeamInfo, TeamStatus, UserInfo,
};

/// 2025-01-05 14:03 UTC.
pub const T0: i64 = 1_736_085_780;

pub fn teams() -> Vec<TeamInfo> {
    vec![
        TeamInfo {
            id: 1,
            name: "platform".into(),
            created_at: T0,
            role: Some(Role::Owner),
        },
        TeamInfo {
            id: 2,
            name: "mobile".into(),
            created_at: 1_736_155_800,
            role: Some(Role::Member),
        },
        TeamInfo {
            id: 3,
            name: "data-eng Ünïcode".into(),
            created_at: 1_738_368_000,
            role: None,
        },
    ]
}

pub fn github_integration() -> IntegrationInfo {
    IntegrationInfo {
        credential: CredentialInfo {
            provider: Provider::Github,
            scopes: vec!["repo".into(), "read:org".into()],
            access_token: SecretState::Masked("gho_…a1b2".into()),
            refresh_token: None,
            expires_at: None,
            connected_by: Some(UserInfo {
                uid: 1000,
                name: "alice".into(),
            }),
            created_at: T0 - 86_400,
            updated_at: T0,
        },
        github: Some(GitHubIntegrationInfo {
            organization_slug: "acme".into(),
            organization_id: 4821,
            webhook_secret: SecretState::Masked("whs_…9f0e".into()),
            sync_status: SyncStatus::Complete,
            sync_error: None,
            last_sync_at: Some(T0),
        }),
    }
}

pub fn repos() -> Vec<RepoInfo> {
    vec![
        RepoInfo {
            github_repo_id: 101,
            full_name: "acme/api".into(),
            is_active: true,
            webhook_id: Some(9001),
            sync_status: SyncStatus::Complete,
            sync_error: None,
            last_sync_at: Some(T0),
            pull_request_count: 412,
            last_webhook_at: Some(T0),
        },
        RepoInfo {
            github_repo_id: 102,
            full_name: "acme/web".into(),
            is_active: true,
            webhook_id: Some(9002),
            sync_status: SyncStatus::Syncing,
            sync_error: None,
            last_sync_at: None,
            pull_request_count: 0,
            last_webhook_at: None,
        },
        RepoInfo {
            github_repo_id: 103,
            full_name: "acme/infra".into(),
            is_active: false,
            webhook_id: None,
            sync_status: SyncStatus::Error,
            sync_error: Some("GitHub answered 404: repository not found".into()),
            last_sync_at: Some(1_735_977_600),
            pull_request_count: 57,
            last_webhook_at: None,
        },
    ]
}

pub fn team_status() -> TeamStatus {
    TeamStatus {
        team: teams().remove(0),
        integrations: vec![github_integration()],
        repos: repos(),
        member_count: 12,
        pull_request_count: 340,
    }
}
