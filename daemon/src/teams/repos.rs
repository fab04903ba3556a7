//! Which repositories a team tracks: listing the org's repositories, tracking and untracking.
//! Names are validated by GitHub's rules and are data, never paths.

use crate::context::Context;
use crate::github::GitHubError;
use crate::github::tokens::TokenError;
use crate::store::{StoreError, TeamId, validate_repo_full_name};
use tidemark_protocol::AvailableRepo;

/// Why a repository call failed; the RPC layer words it for the wire.
#[derive(Debug, thiserror::Error)]
pub enum ReposError {
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("not found: {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    GitHub(GitHubError),
    #[error(transparent)]
    Token(#[from] TokenError),
}

impl From<GitHubError> for ReposError {
    fn from(e: GitHubError) -> Self {
        match e {
            GitHubError::Status { status: 404, .. } => {
                ReposError::NotFound("that repository on GitHub".into())
            }
            other => ReposError::GitHub(other),
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ReposError {
    ReposError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// The org slug and a usable token of a connected team.
async fn connection(
    ctx: &Context,
    team: TeamId,
) -> Result<(String, crate::crypto::Secret), ReposError> {
    let g = ctx
        .store
        .github_integration(team)?
        .ok_or_else(|| invalid("team", crate::sync::NOT_CONNECTED))?;
    let token = ctx.access_token(team).await?;
    Ok((g.organization_slug, token))
}

pub async fn available(ctx: &Context, team: TeamId) -> Result<Vec<AvailableRepo>, ReposError> {
    let (org, token) = connection(ctx, team).await?;
    let repos = ctx.github.live().api.org_repos(&token, &org).await?;
    let tracked: std::collections::HashSet<u64> = ctx
        .store
        .tracked_repos(team)?
        .iter()
        .map(|r| r.github_repo_id)
        .collect();
    Ok(repos
        .into_iter()
        .map(|r| AvailableRepo {
            tracked: tracked.contains(&r.id),
            github_repo_id: r.id,
            full_name: r.full_name,
            private: r.private,
            archived: r.archived,
            pushed_at: r
                .pushed_at
                .as_deref()
                .and_then(crate::github::graphql::parse_time),
        })
        .collect())
}

/// Track repositories of the connected org. All names are checked (valid, in the org, exist on
/// GitHub) before any is stored.
pub async fn track(ctx: &Context, team: TeamId, names: &[String]) -> Result<Vec<u64>, ReposError> {
    if names.is_empty() {
        return Err(invalid("repositories", "name at least one OWNER/REPO"));
    }
    let (org, token) = connection(ctx, team).await?;
    for name in names {
        validate_repo_full_name(name).map_err(|reason| invalid("repository", reason))?;
        let owner = name.split('/').next().unwrap_or_default();
        if !owner.eq_ignore_ascii_case(&org) {
            return Err(invalid(
                "repository",
                format!("{name} is not in the connected organization '{org}'"),
            ));
        }
    }
    // One listing of the org (a page per 100 repositories) instead of a request per name.
    let listed = ctx.github.live().api.org_repos(&token, &org).await?;
    let mut found = Vec::new();
    for name in names {
        let repo = listed
            .iter()
            .find(|r| r.full_name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                ReposError::NotFound(format!(
                    "repository {name} on GitHub (or the token cannot see it)"
                ))
            })?;
        found.push(repo.clone());
    }
    let mut ids = Vec::new();
    let mut new = Vec::new();
    for repo in found {
        match ctx.store.track_repo(team, repo.id, &repo.full_name) {
            Ok(_) => {
                ids.push(repo.id);
                new.push(repo);
            }
            Err(StoreError::Conflict(_)) => ids.push(repo.id),
            Err(e) => return Err(e.into()),
        }
    }
    let nodes: Vec<(u64, String)> = new
        .iter()
        .filter_map(|r| Some((r.id, r.node_id.clone()?)))
        .collect();
    ctx.store.put_repo_node_ids(team, &nodes)?;
    ctx.store.flush_async().await?;
    // With a public URL, each new repository gets its webhook; a failure is recorded on the
    // repository as its webhook problem, shown by `status` (periodic syncs still cover it, and
    // self-healing tries again).
    for repo in new {
        if let Err(e) =
            crate::webhooks::hooks::create(ctx, team, repo.id, &repo.full_name, &token).await
        {
            tracing::warn!(team, repo = %repo.full_name, error = %e, "webhook not created");
        }
    }
    ctx.store.flush_async().await?;
    Ok(ids)
}

/// Stop tracking repositories by name; their history stays. Unknown names are an error and
/// nothing is untracked then.
pub async fn untrack(
    ctx: &Context,
    team: TeamId,
    names: &[String],
) -> Result<Vec<String>, ReposError> {
    let tracked = ctx.store.tracked_repos(team)?;
    let mut ids = Vec::new();
    for name in names {
        let repo = tracked
            .iter()
            .find(|r| r.full_name.eq_ignore_ascii_case(name))
            .ok_or_else(|| ReposError::NotFound(format!("tracked repository {name}")))?;
        ids.push((repo.github_repo_id, repo.full_name.clone()));
    }
    let mut out = Vec::new();
    for (id, name) in ids {
        // Its webhook goes first (best effort: GitHub being down must not block untracking).
        if let Some(hook) = tracked
            .iter()
            .find(|r| r.github_repo_id == id)
            .and_then(|r| r.webhook_id)
            && let Ok(token) = ctx.access_token(team).await
            && let Err(e) = ctx.github.live().api.delete_hook(&token, &name, hook).await
        {
            tracing::warn!(team, repo = %name, error = %e, "webhook not deleted on GitHub");
        }
        ctx.store.untrack_repo(team, id)?;
        ctx.store.clear_sync_cursor(team, id)?;
        out.push(name);
    }
    ctx.store.flush_async().await?;
    Ok(out)
}
