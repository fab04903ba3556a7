//! Which repositories a team tracks: listing the org's repositories, tracking and untracking.
//! Names are validated by GitHub's rules and are data, never paths.

use crate::github::GitHubError;
use crate::rpc::Shared;
use crate::store::{StoreError, TeamId, validate_repo_full_name};
use tidemark_protocol::{AvailableRepo, RpcError};

fn github_err(e: GitHubError) -> RpcError {
    match e {
        GitHubError::Status { status: 404, .. } => {
            RpcError::NotFound("that repository on GitHub".into())
        }
        other => RpcError::Internal(other.to_string()),
    }
}

fn store_err(e: StoreError) -> RpcError {
    match e {
        StoreError::NotFound(w) => RpcError::NotFound(w),
        StoreError::Conflict(w) => RpcError::AlreadyExists(w),
        other => RpcError::Internal(other.to_string()),
    }
}

/// The org slug and a usable token of a connected team.
async fn connection(
    shared: &Shared,
    team: TeamId,
) -> Result<(String, crate::crypto::Secret), RpcError> {
    let g = shared
        .store
        .github_integration(team)
        .map_err(store_err)?
        .ok_or_else(|| RpcError::invalid("team", crate::sync::NOT_CONNECTED))?;
    let token = crate::tokens::access_token(shared, team)
        .await
        .map_err(|e| RpcError::Internal(e.to_string()))?;
    Ok((g.organization_slug, token))
}

pub async fn available(shared: &Shared, team: TeamId) -> Result<Vec<AvailableRepo>, RpcError> {
    let (org, token) = connection(shared, team).await?;
    let repos = shared
        .connector
        .live()
        .api
        .org_repos(&token, &org)
        .await
        .map_err(github_err)?;
    let tracked: std::collections::HashSet<u64> = shared
        .store
        .tracked_repos(team)
        .map_err(store_err)?
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
pub async fn track(shared: &Shared, team: TeamId, names: &[String]) -> Result<Vec<u64>, RpcError> {
    if names.is_empty() {
        return Err(RpcError::invalid(
            "repositories",
            "name at least one OWNER/REPO",
        ));
    }
    let (org, token) = connection(shared, team).await?;
    for name in names {
        validate_repo_full_name(name).map_err(|reason| RpcError::invalid("repository", reason))?;
        let owner = name.split('/').next().unwrap_or_default();
        if !owner.eq_ignore_ascii_case(&org) {
            return Err(RpcError::invalid(
                "repository",
                format!("{name} is not in the connected organization '{org}'"),
            ));
        }
    }
    // One listing of the org (a page per 100 repositories) instead of a request per name.
    let listed = shared
        .connector
        .live()
        .api
        .org_repos(&token, &org)
        .await
        .map_err(github_err)?;
    let mut found = Vec::new();
    for name in names {
        let repo = listed
            .iter()
            .find(|r| r.full_name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                RpcError::NotFound(format!(
                    "repository {name} on GitHub (or the token cannot see it)"
                ))
            })?;
        found.push(repo.clone());
    }
    let mut ids = Vec::new();
    let mut new = Vec::new();
    for repo in found {
        match shared.store.track_repo(team, repo.id, &repo.full_name) {
            Ok(_) => {
                ids.push(repo.id);
                new.push(repo);
            }
            Err(StoreError::Conflict(_)) => ids.push(repo.id),
            Err(e) => return Err(store_err(e)),
        }
    }
    let nodes: Vec<(u64, String)> = new
        .iter()
        .filter_map(|r| Some((r.id, r.node_id.clone()?)))
        .collect();
    shared
        .store
        .put_repo_node_ids(team, &nodes)
        .map_err(store_err)?;
    shared.store.flush_async().await.map_err(store_err)?;
    // With a public URL, each new repository gets its webhook; a failure is recorded on the
    // repository as its webhook problem, shown by `status` (periodic syncs still cover it, and
    // self-healing tries again).
    for repo in new {
        if let Err(e) =
            crate::webhooks::hooks::create(shared, team, repo.id, &repo.full_name, &token).await
        {
            tracing::warn!(team, repo = %repo.full_name, error = %e, "webhook not created");
        }
    }
    shared.store.flush_async().await.map_err(store_err)?;
    Ok(ids)
}

/// Stop tracking repositories by name; their history stays. Unknown names are an error and
/// nothing is untracked then.
pub async fn untrack(
    shared: &Shared,
    team: TeamId,
    names: &[String],
) -> Result<Vec<String>, RpcError> {
    let tracked = shared.store.tracked_repos(team).map_err(store_err)?;
    let mut ids = Vec::new();
    for name in names {
        let repo = tracked
            .iter()
            .find(|r| r.full_name.eq_ignore_ascii_case(name))
            .ok_or_else(|| RpcError::NotFound(format!("tracked repository {name}")))?;
        ids.push((repo.github_repo_id, repo.full_name.clone()));
    }
    let mut out = Vec::new();
    for (id, name) in ids {
        // Its webhook goes first (best effort: GitHub being down must not block untracking).
        if let Some(hook) = tracked
            .iter()
            .find(|r| r.github_repo_id == id)
            .and_then(|r| r.webhook_id)
            && let Ok(token) = crate::tokens::access_token(shared, team).await
            && let Err(e) = shared
                .connector
                .live()
                .api
                .delete_hook(&token, &name, hook)
                .await
        {
            tracing::warn!(team, repo = %name, error = %e, "webhook not deleted on GitHub");
        }
        shared.store.untrack_repo(team, id).map_err(store_err)?;
        shared
            .store
            .clear_sync_cursor(team, id)
            .map_err(store_err)?;
        out.push(name);
    }
    shared.store.flush_async().await.map_err(store_err)?;
    Ok(out)
}
