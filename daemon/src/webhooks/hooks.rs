//! The webhooks tidemark creates on GitHub: one per tracked repository, pointing at the public
//! URL (the tunnel's), signed with the integration's secret; deleted when the repository is
//! untracked or the team disconnects. (The organization hook is `org_hook.rs`'s; a rotation
//! switches it too.)

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
    let live = shared.connector.live();
    let Some(public) = live.public_url.as_deref() else {
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
    // GitHub pings the hook as soon as it exists, maybe before its id is stored below: the
    // receiver's index must know the repository by then (it matches the ping by the hook's
    // target headers, and a miss no longer rebuilds the index).
    shared.connector.hooks_changed();
    let body = json!({
        "name": "web",
        "active": true,
        "events": EVENTS,
        "config": { "url": url, "content_type": "json", "insecure_ssl": "0", "secret": secret.expose() },
    });
    let id = shared
        .connector
        .live()
        .api
        .create_hook(token, full_name, &body)
        .await?;
    shared
        .store
        .set_repo_webhook(team, repo_id, Some(id))
        .map_err(|e| GitHubError::Config(e.to_string()))?;
    shared.connector.hooks_changed();
    tracing::info!(team, repo = full_name, hook = id, "webhook created");
    Ok(Some(id))
}

/// How long deliveries signed with the previous secret are still accepted after a rotation.
pub const ROTATION_GRACE: i64 = 3_600;

/// Roll the team's webhook secret: stored first (the old one kept for the grace period, so
/// deliveries signed with either pass), then every hook on GitHub is switched to it.
/// The URL a repository hook calls now (None: no public URL, no hooks).
pub fn hook_url(shared: &Shared) -> Option<String> {
    shared
        .connector
        .live()
        .public_url
        .as_deref()
        .map(|p| format!("{}{}", p.trim_end_matches('/'), super::receiver::PATH))
}

pub async fn rotate_secret(
    shared: &Shared,
    team: TeamId,
) -> Result<tidemark_protocol::RotateReport, String> {
    let token = crate::tokens::access_token(shared, team)
        .await
        .map_err(|e| e.to_string())?;
    let new = Secret::new(crate::crypto::random_token(32));
    let until = crate::store::now() + ROTATION_GRACE;
    shared
        .store
        .rotate_webhook_secret(&shared.keyring, team, &new, until)
        .map_err(|e| e.to_string())?;
    shared
        .store
        .flush_async()
        .await
        .map_err(|e| e.to_string())?;
    shared.connector.hooks_changed();
    let mut report = tidemark_protocol::RotateReport {
        hooks_updated: 0,
        hooks_failed: Vec::new(),
        old_secret_accepted_until: until,
    };
    let url = hook_url(shared);
    for repo in shared
        .store
        .tracked_repos(team)
        .map_err(|e| e.to_string())?
    {
        let (Some(hook), Some(url)) = (repo.webhook_id, url.as_deref()) else {
            continue;
        };
        let config = json!({ "url": url, "content_type": "json", "insecure_ssl": "0", "secret": new.expose() });
        match shared
            .connector
            .live()
            .api
            .update_hook_config(&token, &repo.full_name, hook, &config)
            .await
        {
            Ok(()) => report.hooks_updated += 1,
            Err(e) => report.hooks_failed.push(format!("{}: {e}", repo.full_name)),
        }
    }
    match super::org_hook::rotate(shared, team, &token, &new).await {
        Ok(Some(_)) => report.hooks_updated += 1,
        Ok(None) => {}
        Err(e) => report.hooks_failed.push(e),
    }
    tracing::info!(
        team,
        hooks = report.hooks_updated,
        failed = report.hooks_failed.len(),
        "webhook secret rotated"
    );
    Ok(report)
}
