//! Self-healing after downtime: each hook's recent deliveries are listed on GitHub, the ones
//! that failed and never reached us are asked for again (GitHub keeps 3 days; the next
//! reconciliation sync covers anything older), a hook deleted on GitHub's side is created
//! again, a hook with other events than [`EVENTS`] gets ours (`PATCH .../hooks/{id}`), and the
//! organization hook is checked or created (`org_hook.rs`). Best effort: a failure here only
//! means the periodic sync does the work.

use super::EVENTS;
use crate::context::Context;
use crate::store::{HookHealth, TeamId};

/// GitHub keeps deliveries this long.
const KEPT: i64 = 3 * 24 * 3600;
use super::apply::DELETED;

/// What one round found: (missed, asked again, hooks created again).
pub async fn heal_team(ctx: &Context, team: TeamId) -> Result<(u64, u64, u64), String> {
    if ctx.github.live().public_url.is_none() {
        return Ok((0, 0, 0));
    }
    // The organization hook: made again if deleted on GitHub, created if the token now may.
    super::org_hook::ensure_logged(ctx, team).await;
    let store = &ctx.store;
    let token = ctx.access_token(team).await.map_err(|e| e.to_string())?;
    let api = &ctx.github.live().api;
    let since = crate::store::now() - KEPT;
    let (mut missed_all, mut recovered_all, mut recreated_all) = (0, 0, 0);
    for repo in store.tracked_repos(team).map_err(|e| e.to_string())? {
        // Under its name now (a rename or transfer while we were down changes the hook URLs).
        if let Err(e) =
            crate::webhooks::apply::repository_changed(ctx, team, repo.github_repo_id).await
        {
            tracing::warn!(team, repo = %repo.full_name, error = %e, "repository not re-read");
        }
        let Some(repo) = store
            .tracked_repo(team, repo.github_repo_id)
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        if repo.sync_error.as_deref() == Some(DELETED) {
            continue;
        }
        let mut health = store
            .hook_health(team, repo.github_repo_id)
            .map_err(|e| e.to_string())?
            .unwrap_or(HookHealth {
                team_id: team,
                repo_id: repo.github_repo_id,
                ..HookHealth::default()
            });
        let on_github = match repo.webhook_id {
            Some(id) => api
                .hook(&token, &repo.full_name, id)
                .await
                .map_err(|e| e.to_string())?,
            None => None,
        };
        let hook = match on_github {
            Some(found) => {
                // Made with another event list (an older tidemark's, or changed by hand on
                // GitHub): set ours, so the hook gets exactly the events GitHub sends to
                // repository hooks and we act on.
                if !same_events(&found.events, EVENTS) {
                    match api
                        .update_hook(
                            &token,
                            &repo.full_name,
                            found.id,
                            &crate::github::hooks::events(EVENTS),
                        )
                        .await
                    {
                        Ok(()) => {
                            tracing::info!(team, repo = %repo.full_name, hook = found.id, was = ?found.events, "webhook events corrected");
                        }
                        Err(e) => {
                            tracing::warn!(team, repo = %repo.full_name, error = %e, "webhook events not corrected");
                        }
                    }
                }
                // The public URL changed since the hook was made (a reload, a new tunnel):
                // point it at the new one, with the team's current secret.
                let want = super::hooks::hook_url(ctx, team);
                if let Some(want) = want.as_deref()
                    && found.config.url.as_deref() != Some(want)
                {
                    match move_hook(ctx, team, &token, &repo.full_name, found.id, want).await {
                        Ok(()) => {
                            tracing::info!(team, repo = %repo.full_name, hook = found.id, "webhook moved to the new public URL");
                        }
                        Err(e) => {
                            tracing::warn!(team, repo = %repo.full_name, error = %e, "webhook not moved to the new public URL");
                        }
                    }
                }
                found.id
            }
            None => {
                // Gone on GitHub's side (or never made): make it again.
                match crate::webhooks::hooks::create(
                    ctx,
                    team,
                    repo.github_repo_id,
                    &repo.full_name,
                    &token,
                )
                .await
                {
                    Ok(Some(_)) => {
                        health.recreated += 1;
                        recreated_all += 1;
                        store.put_hook_health(&health).map_err(|e| e.to_string())?;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(team, repo = %repo.full_name, error = %e, "webhook not created again");
                    }
                }
                continue;
            }
        };
        let deliveries = api
            .hook_deliveries(&token, &repo.full_name, hook, since)
            .await
            .map_err(|e| e.to_string())?;
        // A delivery id counts as received when any attempt succeeded or we stored it.
        let ok: std::collections::HashSet<&str> = deliveries
            .iter()
            .filter(|d| (200..300).contains(&d.status_code))
            .map(|d| d.guid.as_str())
            .collect();
        let mut asked = std::collections::HashSet::new();
        let (mut missed, mut recovered) = (0, 0);
        for d in &deliveries {
            if (200..300).contains(&d.status_code)
                || ok.contains(d.guid.as_str())
                || !asked.insert(d.guid.clone())
            {
                continue;
            }
            if store
                .delivery_seen(team, &d.guid)
                .map_err(|e| e.to_string())?
            {
                continue;
            }
            missed += 1;
            match api.redeliver(&token, &repo.full_name, hook, d.id).await {
                Ok(()) => recovered += 1,
                Err(e) => {
                    tracing::warn!(team, repo = %repo.full_name, error = %e, "redelivery refused");
                }
            }
        }
        if missed > 0 {
            health.missed += missed;
            health.recovered += recovered;
            store.put_hook_health(&health).map_err(|e| e.to_string())?;
            tracing::info!(team, repo = %repo.full_name, missed, recovered, "asked GitHub to deliver missed webhooks again");
        }
        missed_all += missed;
        recovered_all += recovered;
    }
    let _ = store.flush_async().await;
    Ok((missed_all, recovered_all, recreated_all))
}

/// The same events, in any order.
pub fn same_events(have: &[String], want: &[&str]) -> bool {
    have.len() == want.len() && want.iter().all(|w| have.iter().any(|h| h == w))
}

/// Heal every connected team, once (at start, after downtime).
pub async fn heal_all(ctx: std::sync::Arc<Context>) {
    let Ok(teams) = ctx.store.teams() else {
        return;
    };
    for team in teams {
        if ctx
            .store
            .github_integration(team.id)
            .ok()
            .flatten()
            .is_none()
        {
            continue;
        }
        if let Err(e) = heal_team(&ctx, team.id).await {
            tracing::warn!(team = team.id, error = %e, "webhook self-healing failed; the next sync covers it");
        }
    }
}

/// Point a repository hook at `url`, keeping the team's current secret.
async fn move_hook(
    ctx: &Context,
    team: TeamId,
    token: &crate::crypto::Secret,
    full_name: &str,
    hook: u64,
    url: &str,
) -> Result<(), String> {
    let integration = ctx
        .store
        .github_integration(team)
        .map_err(|e| e.to_string())?
        .ok_or("not connected")?;
    let secret = ctx
        .store
        .webhook_secret(&ctx.keyring, &integration)
        .map_err(|e| e.to_string())?;
    let config = crate::github::hooks::config(url, &secret);
    ctx.github
        .live()
        .api
        .update_hook_config(token, full_name, hook, &config)
        .await
        .map_err(|e| e.to_string())
}
