//! The webhooks tidemark creates on GitHub: one per tracked repository, pointing at the public
//! URL (the tunnel's), signed with the integration's secret; deleted when the repository is
//! untracked or the team disconnects.

use super::EVENTS;
use crate::crypto::Secret;
use crate::github::GitHubError;
use crate::rpc::Shared;
use crate::store::TeamId;
use serde_json::json;

/// Create the hook of one tracked repository and record its id. No public URL: nothing to do.
pub async fn create(
    shared: &Shared,
    team: TeamId,
    repo_id: u64,
    full_name: &str,
    token: &Secret,
) -> Result<Option<u64>, GitHubError> {
    let Some(public) = shared.connector.public_url.as_deref() else {
        return Ok(None);
    };
    let g = shared
        .store
        .github_integration(team)
        .ok()
        .flatten()
        .ok_or_else(|| GitHubError::Config("the team is not connected".into()))?;
    let secret = shared
        .store
        .webhook_secret(&shared.keyring, &g)
        .map_err(|e| GitHubError::Config(format!("the webhook secret cannot be read: {e}")))?;
    let url = format!("{}{}", public.trim_end_matches('/'), super::receiver::PATH);
    let body = json!({
        "name": "web",
        "active": true,
        "events": EVENTS,
        "config": { "url": url, "content_type": "json", "insecure_ssl": "0", "secret": secret.expose() },
    });
    let id = shared
        .connector
        .api
        .create_hook(token, full_name, &body)
        .await?;
    shared
        .store
        .set_repo_webhook(team, repo_id, Some(id))
        .map_err(|e| GitHubError::Config(e.to_string()))?;
    tracing::info!(team, repo = full_name, hook = id, "webhook created");
    Ok(Some(id))
}
