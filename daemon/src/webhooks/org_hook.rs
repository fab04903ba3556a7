//! The team's organization webhook. GitHub sends `organization` events (members added and
//! removed) only to organization hooks and GitHub Apps, never to repository hooks; creating one
//! needs the `admin:org_hook` scope and an owner of the organization. When the token and its
//! user allow it (and there is a public URL), tidemark creates one (events `organization` only),
//! stores its id (`store::OrgHook`), heals it at each reconciliation, switches it on a secret
//! rotation and deletes it on disconnect. Otherwise member changes arrive with the periodic sync,
//! and the record says why (`tidemark status`).

use super::ORG_EVENTS;
use crate::context::Context;
use crate::crypto::Secret;
use crate::github::oauth::ORG_HOOK_SCOPE;
use crate::store::{OrgHook, Provider, TeamId};
use tidemark_protocol::MemberChanges;

/// Why a team without an organization hook has none, when nothing more precise is known.
pub const NEEDS: &str =
    "needs the admin:org_hook scope and an org owner; reconnect asking for admin:org_hook";

/// What `ensure` found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No public URL: no webhooks at all.
    NoPublicUrl,
    /// The hook exists on GitHub (as stored, or just created).
    Live { hook_id: u64, created: bool },
    /// None, for this reason (stored for `tidemark status`).
    Refused(String),
}

/// Does the stored credential carry `admin:org_hook`?
pub fn has_scope(ctx: &Context, team: TeamId) -> bool {
    ctx.store
        .credential(team, Provider::Github)
        .ok()
        .flatten()
        .is_some_and(|c| c.scopes.iter().any(|s| s == ORG_HOOK_SCOPE))
}

/// The team's own URL, as its repository hooks': a second team connected to the same
/// organization gets a hook of its own rather than GitHub's 422, or worse, taking over the
/// first team's hook with its secret.
fn hook_url(public: &str, team: TeamId) -> String {
    super::hooks::url_at(public, team)
}

/// One organization-hook change at a time (connect, heal, rotation and disconnect may
/// overlap): two `ensure`s must not both create one. Rare enough for one lock daemon-wide.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Make sure the team has its organization hook when it may: checked on GitHub when one is
/// stored (events corrected, made again when deleted there), created when the token has
/// `admin:org_hook` and its user owns the organization, else the reason is recorded.
pub async fn ensure(ctx: &Context, team: TeamId) -> Result<Outcome, String> {
    let _one = ONE_AT_A_TIME.lock().await;
    let live = ctx.github.live();
    let Some(public) = live.public_url.as_deref() else {
        return Ok(Outcome::NoPublicUrl);
    };
    let store = &ctx.store;
    let g = store
        .github_integration(team)
        .map_err(|e| e.to_string())?
        .ok_or("the team is not connected to GitHub")?;
    let org = g.organization_slug.clone();
    let previous = store
        .org_hook(team)
        .map_err(|e| e.to_string())?
        .filter(|h| h.organization_id == g.organization_id);
    let stored = previous.as_ref().and_then(|h| h.hook_id);
    let record = |hook_id: Option<u64>, refused: Option<String>| {
        if previous
            .as_ref()
            .is_some_and(|p| p.hook_id == hook_id && p.refused == refused)
        {
            return Ok(());
        }
        store
            .put_org_hook(&OrgHook {
                team_id: team,
                organization_id: g.organization_id,
                hook_id,
                refused,
                updated_at: crate::store::now(),
            })
            .map_err(|e| e.to_string())
    };
    if !has_scope(ctx, team) {
        if let Some(id) = stored {
            // Made with an earlier token that had the scope: it still delivers, but this token
            // cannot check or change it.
            return Ok(Outcome::Live {
                hook_id: id,
                created: false,
            });
        }
        record(None, Some(NEEDS.into()))?;
        return Ok(Outcome::Refused(NEEDS.into()));
    }
    let token = ctx.access_token(team).await.map_err(|e| e.to_string())?;
    let api = &ctx.github.live().api;
    let url = hook_url(public, team);
    if let Some(id) = stored {
        match api.org_hook(&token, &org, id).await {
            Ok(Some(hook)) => {
                let events_right = hook.events.len() == ORG_EVENTS.len()
                    && ORG_EVENTS
                        .iter()
                        .all(|e| hook.events.iter().any(|h| h == e));
                if !events_right || !hook.active {
                    api.update_org_hook(
                        &token,
                        &org,
                        id,
                        &crate::github::hooks::activate(ORG_EVENTS),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    tracing::info!(
                        team,
                        org,
                        hook = id,
                        "organization webhook's events corrected"
                    );
                }
                if hook.config.url.as_deref() != Some(url.as_str()) {
                    // A new public URL: point the hook at it (with the current secret).
                    let secret = current_secret(ctx, team)?;
                    update_config(ctx, &token, &org, id, &url, &secret).await?;
                }
                return Ok(Outcome::Live {
                    hook_id: id,
                    created: false,
                });
            }
            Ok(None) => {
                tracing::info!(
                    team,
                    org,
                    hook = id,
                    "organization webhook gone on GitHub; making it again"
                );
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let membership = api
        .org_membership(&token, &org)
        .await
        .map_err(|e| e.to_string())?;
    if !membership
        .as_ref()
        .is_some_and(super::super::github::types::OrgMembership::is_owner)
    {
        let why = format!(
            "the connected GitHub user is not an owner of {org} (needs the admin:org_hook scope \
             and an org owner; an owner can reconnect asking for admin:org_hook)"
        );
        record(None, Some(why.clone()))?;
        return Ok(Outcome::Refused(why));
    }
    let secret = current_secret(ctx, team)?;
    let body = crate::github::hooks::create(&url, &secret, ORG_EVENTS);
    let created = match api.create_org_hook(&token, &org, &body).await {
        // One with our URL is there already (its id was lost: a store restored from an older
        // backup): take it over with our secret.
        Err(crate::github::GitHubError::Status { status: 422, .. }) => {
            let hooks = api
                .org_hooks(&token, &org)
                .await
                .map_err(|e| e.to_string())?;
            match hooks
                .into_iter()
                .find(|h| h.config.url.as_deref() == Some(url.as_str()))
            {
                Some(h) => {
                    update_config(ctx, &token, &org, h.id, &url, &secret).await?;
                    api.update_org_hook(
                        &token,
                        &org,
                        h.id,
                        &crate::github::hooks::activate(ORG_EVENTS),
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                    Ok(h.id)
                }
                None => Err(
                    "GitHub refused to create it (422) and lists no hook at our URL".to_string(),
                ),
            }
        }
        other => other.map_err(|e| e.to_string()),
    };
    match created {
        Ok(id) => {
            record(Some(id), None)?;
            let _ = store.flush_async().await;
            ctx.bus.publish(crate::context::Event::HooksChanged);
            tracing::info!(team, org, hook = id, "organization webhook created");
            Ok(Outcome::Live {
                hook_id: id,
                created: true,
            })
        }
        Err(e) => {
            let why = format!("GitHub refused to create it ({e})");
            record(None, Some(why.clone()))?;
            Err(why)
        }
    }
}

/// [`ensure`], with the outcome logged (for spawned calls).
pub async fn ensure_logged(ctx: &Context, team: TeamId) {
    match ensure(ctx, team).await {
        Ok(Outcome::Refused(why)) => {
            tracing::info!(
                team,
                why,
                "no organization webhook: member changes arrive with the periodic sync"
            );
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(team, error = %e, "organization webhook not set up; member changes arrive with the periodic sync");
        }
    }
}

fn current_secret(ctx: &Context, team: TeamId) -> Result<Secret, String> {
    let g = ctx
        .store
        .github_integration(team)
        .map_err(|e| e.to_string())?
        .ok_or("the team is not connected to GitHub")?;
    ctx.store
        .webhook_secret(&ctx.keyring, &g)
        .map_err(|e| format!("the webhook secret cannot be read: {e}"))
}

async fn update_config(
    ctx: &Context,
    token: &Secret,
    org: &str,
    hook_id: u64,
    url: &str,
    secret: &Secret,
) -> Result<(), String> {
    let config = crate::github::hooks::config(url, secret);
    ctx.github
        .live()
        .api
        .update_org_hook_config(token, org, hook_id, &config)
        .await
        .map_err(|e| e.to_string())
}

/// After a secret rotation: switch the organization hook to `secret`. Ok(None): no hook.
pub async fn rotate(
    ctx: &Context,
    team: TeamId,
    token: &Secret,
    secret: &Secret,
) -> Result<Option<u64>, String> {
    let _one = ONE_AT_A_TIME.lock().await;
    let settings = ctx.github.live();
    let (Some(public), Some((org, id))) = (settings.public_url.as_deref(), live(ctx, team)) else {
        return Ok(None);
    };
    if !has_scope(ctx, team) {
        return Err(format!(
            "organization {org}: the token lacks admin:org_hook, so hook #{id} keeps the old secret; reconnect asking for admin:org_hook"
        ));
    }
    update_config(ctx, token, &org, id, &hook_url(public, team), secret)
        .await
        .map(|()| Some(id))
        .map_err(|e| format!("organization {org}: {e}"))
}

/// (organization slug, hook id) of the team's organization hook, if it has one.
pub fn live(ctx: &Context, team: TeamId) -> Option<(String, u64)> {
    let g = ctx.store.github_integration(team).ok()??;
    let hook = ctx.store.org_hook(team).ok()??;
    (hook.organization_id == g.organization_id)
        .then_some(hook.hook_id)
        .flatten()
        .map(|id| (g.organization_slug, id))
}

/// At disconnect: delete the organization hook. Ok(None): there was none.
pub async fn delete(ctx: &Context, team: TeamId, token: &Secret) -> Result<Option<u64>, String> {
    let Some((org, id)) = live(ctx, team) else {
        return Ok(None);
    };
    let settings = format!(
        "{}/organizations/{org}/settings/hooks",
        crate::github::trim_base(&ctx.github.live().github.web_url)
    );
    if !has_scope(ctx, team) {
        return Err(format!(
            "organization {org}: the token cannot manage organization hooks (no admin:org_hook); delete hook #{id} at {settings}"
        ));
    }
    ctx.github
        .live()
        .api
        .delete_org_hook(token, &org, id)
        .await
        .map(|()| Some(id))
        .map_err(|e| format!("organization {org}: {e}; delete hook #{id} at {settings}"))
}

/// How member changes reach the team, for `tidemark status`; None when not connected.
pub fn member_changes(ctx: &Context, team: TeamId) -> Option<MemberChanges> {
    ctx.store.github_integration(team).ok()??;
    if ctx.github.live().public_url.is_none() {
        return Some(MemberChanges::PeriodicSync {
            why: "no organization hook: the daemon has no public URL, so no webhooks".into(),
        });
    }
    if let Some((_, id)) = live(ctx, team) {
        return Some(MemberChanges::Live { org_hook_id: id });
    }
    let why = ctx
        .store
        .org_hook(team)
        .ok()
        .flatten()
        .and_then(|h| h.refused)
        .unwrap_or_else(|| {
            if has_scope(ctx, team) {
                "not created yet".into()
            } else {
                NEEDS.into()
            }
        });
    Some(MemberChanges::PeriodicSync {
        why: format!("no organization hook: {why}"),
    })
}
