//! The webhooks tidemark creates on GitHub: one per tracked repository, pointing at the public
//! URL (the tunnel's), signed with the integration's secret; deleted when the repository is
//! untracked or the team disconnects. (The organization hook is `org_hook.rs`'s; a rotation
//! switches it too.)

use super::EVENTS;
use crate::context::Context;
use crate::crypto::Secret;
use crate::github::GitHubError;
use crate::store::TeamId;

/// Create the hook of one tracked repository and record its id. No public URL: nothing to do.
///
/// The hook calls the team's own URL (`receiver::team_path`), so another team tracking the
/// same repository has a hook of its own. GitHub answers 422 to a second hook with the same
/// URL: that one is this team's (its id was lost, e.g. a crash between GitHub's answer and
/// ours, or a store restored from an older backup), so it is taken over with our secret.
/// What goes wrong is recorded on the repository (`Store::set_hook_problem`) for `status`.
pub async fn create(
    ctx: &Context,
    team: TeamId,
    repo_id: u64,
    full_name: &str,
    token: &Secret,
) -> Result<Option<u64>, GitHubError> {
    let Some(url) = hook_url(ctx, team) else {
        // No public URL, no hooks wanted: nothing is wrong.
        let _ = ctx.store.clear_hook_problem(team, repo_id);
        return Ok(None);
    };
    match make(ctx, team, repo_id, full_name, token, &url).await {
        Ok(id) => {
            ctx.store
                .clear_hook_problem(team, repo_id)
                .map_err(|e| GitHubError::Config(e.to_string()))?;
            Ok(Some(id))
        }
        Err(e) => {
            let problem = format!("GitHub did not create it: {e}");
            if let Err(store) = ctx.store.set_hook_problem(team, repo_id, &problem) {
                tracing::warn!(team, repo = full_name, error = %store, "webhook problem not recorded");
            }
            Err(e)
        }
    }
}

async fn make(
    ctx: &Context,
    team: TeamId,
    repo_id: u64,
    full_name: &str,
    token: &Secret,
    url: &str,
) -> Result<u64, GitHubError> {
    let g = ctx
        .store
        .github_integration(team)
        .ok()
        .flatten()
        .ok_or_else(|| GitHubError::Config("the team is not connected".into()))?;
    let secret = ctx
        .store
        .webhook_secret(&ctx.keyring, &g)
        .map_err(|e| GitHubError::Config(format!("the webhook secret cannot be read: {e}")))?;
    // GitHub pings the hook as soon as it exists, maybe before its id is stored below: the
    // receiver's index must know the repository by then (it matches the ping by the hook's
    // target headers and the team in its URL, and a miss no longer rebuilds the index).
    ctx.bus.publish(crate::context::Event::HooksChanged);
    let config = crate::github::hooks::config(url, &secret);
    let body = crate::github::hooks::create(url, &secret, EVENTS);
    let api = &ctx.github.live().api;
    let id = match api.create_hook(token, full_name, &body).await {
        Err(GitHubError::Status { status: 422, .. }) => {
            let ours = api
                .hooks(token, full_name)
                .await?
                .into_iter()
                .find(|h| h.config.url.as_deref() == Some(url));
            let Some(hook) = ours else {
                return Err(GitHubError::Status {
                    status: 422,
                    message: "GitHub refused a new hook and lists none at this team's URL".into(),
                });
            };
            api.update_hook_config(token, full_name, hook.id, &config)
                .await?;
            api.update_hook(
                token,
                full_name,
                hook.id,
                &crate::github::hooks::activate(EVENTS),
            )
            .await?;
            tracing::info!(
                team,
                repo = full_name,
                hook = hook.id,
                "webhook found on GitHub at this team's URL; taken over"
            );
            // A new hook is pinged by GitHub; one taken over is asked to be, so that it shows
            // live as soon as it works (best effort: the next delivery shows it too).
            if let Err(e) = api.ping_hook(token, full_name, hook.id).await {
                tracing::info!(team, repo = full_name, error = %e, "webhook taken over, not pinged");
            }
            hook.id
        }
        other => other?,
    };
    ctx.store
        .set_repo_webhook(team, repo_id, Some(id))
        .map_err(|e| GitHubError::Config(e.to_string()))?;
    ctx.bus.publish(crate::context::Event::HooksChanged);
    tracing::info!(team, repo = full_name, hook = id, "webhook created");
    Ok(id)
}

/// How long deliveries signed with the previous secret are still accepted after a rotation.
pub const ROTATION_GRACE: i64 = 3_600;

/// The URL the team's hooks call now (None: no public URL, no hooks).
pub fn hook_url(ctx: &Context, team: TeamId) -> Option<String> {
    ctx.github
        .live()
        .public_url
        .as_deref()
        .map(|p| url_at(p, team))
}

/// The team's hook URL under the public URL `public`.
pub fn url_at(public: &str, team: TeamId) -> String {
    format!(
        "{}{}",
        public.trim_end_matches('/'),
        super::receiver::team_path(team)
    )
}

/// Roll the team's webhook secret: stored first (the old one kept for the grace period, so
/// deliveries signed with either pass), then every hook on GitHub is switched to it.
pub async fn rotate_secret(
    ctx: &Context,
    team: TeamId,
) -> Result<tidemark_protocol::RotateReport, String> {
    let token = ctx.access_token(team).await.map_err(|e| e.to_string())?;
    let new = Secret::new(crate::crypto::random_token(32));
    let until = crate::store::now() + ROTATION_GRACE;
    ctx.store
        .rotate_webhook_secret(&ctx.keyring, team, &new, until)
        .map_err(|e| e.to_string())?;
    ctx.store.flush_async().await.map_err(|e| e.to_string())?;
    ctx.bus.publish(crate::context::Event::HooksChanged);
    let mut report = tidemark_protocol::RotateReport {
        hooks_updated: 0,
        hooks_failed: Vec::new(),
        old_secret_accepted_until: until,
    };
    let url = hook_url(ctx, team);
    for repo in ctx.store.tracked_repos(team).map_err(|e| e.to_string())? {
        let (Some(hook), Some(url)) = (repo.webhook_id, url.as_deref()) else {
            continue;
        };
        let config = crate::github::hooks::config(url, &new);
        match ctx
            .github
            .live()
            .api
            .update_hook_config(&token, &repo.full_name, hook, &config)
            .await
        {
            Ok(()) => report.hooks_updated += 1,
            Err(e) => report.hooks_failed.push(format!("{}: {e}", repo.full_name)),
        }
    }
    match super::org_hook::rotate(ctx, team, &token, &new).await {
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
