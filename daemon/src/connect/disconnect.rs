//! Disconnecting a team from GitHub: delete the webhooks tidemark created (the repositories'
//! and the organization's), revoke tidemark's token when the client secret is known, then
//! remove credential, integration, organization hook record and tracked repos (and the synced
//! history with `purge`) in one atomic step. GitHub being unreachable does not
//! stop the local disconnect; the report says what could not be done there.

use super::{ConnectError, Connector};
use crate::store::{Provider, SecretField, StoreError, TeamId};
use tidemark_protocol::DisconnectReport;

pub async fn disconnect(
    conn: &Connector,
    team: TeamId,
    purge: bool,
) -> Result<DisconnectReport, ConnectError> {
    let store = &conn.ctx.store;
    let internal = |e: StoreError| ConnectError::Internal(e.to_string());
    let cred = store
        .credential(team, Provider::Github)
        .map_err(internal)?
        .ok_or_else(|| ConnectError::NotFound("a GitHub connection for this team".into()))?;
    let integration = store.github_integration(team).map_err(internal)?;
    let repos = store.tracked_repos(team).map_err(internal)?;
    let c = conn;
    let settings = format!(
        "{}/settings/applications",
        crate::github::trim_base(&c.live().github.web_url)
    );
    let mut report = DisconnectReport {
        organization: integration.map(|g| g.organization_slug),
        hooks_deleted: 0,
        hooks_failed: Vec::new(),
        grant_revoked: false,
        grant_note: None,
        repos_removed: 0,
        history_purged: false,
    };
    let hooks: Vec<_> = repos
        .iter()
        .filter_map(|r| r.webhook_id.map(|id| (r.full_name.clone(), id)))
        .collect();
    match store.credential_secret(&conn.ctx.keyring, &cred, SecretField::AccessToken) {
        Ok(Some(token)) => {
            for (repo, id) in hooks {
                match c.live().api.delete_hook(&token, &repo, id).await {
                    Ok(()) => report.hooks_deleted += 1,
                    Err(e) => report.hooks_failed.push(format!("{repo}: {e}")),
                }
            }
            match crate::webhooks::org_hook::delete(&conn.ctx, team, &token).await {
                Ok(Some(_)) => report.hooks_deleted += 1,
                Ok(None) => {}
                Err(e) => report.hooks_failed.push(e),
            }
            match (&c.live().github.client_id, &c.live().github.client_secret) {
                (Some(id), Some(secret)) => {
                    match c.live().api.revoke_token(id, secret, &token).await {
                        Ok(()) => report.grant_revoked = true,
                        // Already revoked or expired: nothing left to revoke.
                        Err(crate::github::GitHubError::Status { status: 404, .. }) => {
                            report.grant_revoked = true;
                        }
                        Err(e) => {
                            report.grant_note = Some(format!(
                                "revoking at GitHub failed ({e}); revoke tidemark's access at {settings}"
                            ));
                        }
                    }
                }
                _ => {
                    report.grant_note = Some(format!(
                        "the daemon has no client secret for the OAuth app, so tidemark cannot revoke its token: \
                         revoke tidemark's access at {settings}"
                    ));
                }
            }
        }
        Ok(None) | Err(_) => {
            for (repo, _) in hooks {
                report.hooks_failed.push(format!(
                    "{repo}: the stored token cannot be read, so its webhook was left on GitHub"
                ));
            }
            if let Some((org, id)) = crate::webhooks::org_hook::live(&conn.ctx, team) {
                report.hooks_failed.push(format!(
                    "organization {org}: the stored token cannot be read, so organization hook #{id} was left on GitHub"
                ));
            }
            report.grant_note = Some(format!(
                "the stored token cannot be read; revoke tidemark's access at {settings}"
            ));
        }
    }
    let (repos_removed, history) = store.disconnect_github(team, purge).map_err(internal)?;
    store.flush_async().await.map_err(internal)?;
    c.hooks_changed();
    report.repos_removed = repos_removed as u32;
    report.history_purged = purge;
    tracing::info!(
        team,
        repos_removed,
        history_records = history,
        hooks_deleted = report.hooks_deleted,
        grant_revoked = report.grant_revoked,
        "GitHub disconnected"
    );
    Ok(report)
}
