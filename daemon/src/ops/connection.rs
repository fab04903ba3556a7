//! `tidemarkd doctor` on a real connection: for every team connected to GitHub, the token's
//! scopes, admin permission on each tracked repository (needed to create its hook), and whether
//! the organization lets tidemark's OAuth app in at all ("OAuth App access restrictions"). Each
//! verdict says what to do.
//!
//! The checks need the team's token, which never leaves the daemon: with a daemon running they
//! run inside it (the control socket's `github` request answers verdict lines only); without
//! one, `doctor` (the daemon's own account, with the store and the key) runs them itself.

use super::doctor::{Check, Verdict, check};
use crate::crypto::Secret;
use crate::github::{Api, GitHubError};
use crate::store::{Provider, SecretField, Store, TeamId};

/// The part of GitHub's 403 that says the organization restricts OAuth apps.
pub const RESTRICTED: &str = "OAuth App access restrictions";

/// Scopes tidemark cannot work without, and what else grants each (GitHub's scope hierarchy).
const NEEDED: &[(&str, &[&str])] = &[
    ("repo", &["repo"]),
    ("read:org", &["read:org", "write:org", "admin:org"]),
];

/// One connected team, as the checks need it.
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub org: String,
    /// The access token, or why it cannot be had.
    pub token: Result<Secret, String>,
    pub repos: Vec<String>,
}

/// Where GitHub is and whether webhooks are on.
pub struct Context<'a> {
    pub api: &'a Api,
    pub web_url: &'a str,
    pub public_url: Option<&'a str>,
}

/// The teams connected to GitHub, each with its stored token (not refreshed: a daemon that is
/// not running refreshes nothing; an expired token shows as rejected).
pub fn stored_teams(store: &Store, keyring: &crate::crypto::Keyring) -> Result<Vec<Team>, String> {
    let mut out = Vec::new();
    for team in store.teams().map_err(|e| e.to_string())? {
        let Some(g) = store
            .github_integration(team.id)
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        let token = match store
            .credential(team.id, Provider::Github)
            .map_err(|e| e.to_string())?
        {
            None => Err("no credential is stored".to_string()),
            Some(cred) => match store.credential_secret(keyring, &cred, SecretField::AccessToken) {
                Ok(Some(t)) => Ok(t),
                Ok(None) => Err("no access token is stored".to_string()),
                Err(e) => Err(format!("the stored token cannot be decrypted ({e})")),
            },
        };
        out.push(Team {
            id: team.id,
            name: team.name,
            org: g.organization_slug,
            token,
            repos: tracked(store, team.id)?,
        });
    }
    Ok(out)
}

/// The running daemon's teams, each with its token as the daemon would use it (refreshed when
/// about to expire).
pub async fn daemon_teams(ctx: &crate::context::Context) -> Result<Vec<Team>, String> {
    let store = &ctx.store;
    let mut out = Vec::new();
    for team in store.teams().map_err(|e| e.to_string())? {
        let Some(g) = store
            .github_integration(team.id)
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        let token = ctx.access_token(team.id).await.map_err(|e| e.to_string());
        out.push(Team {
            id: team.id,
            name: team.name,
            org: g.organization_slug,
            token,
            repos: tracked(store, team.id)?,
        });
    }
    Ok(out)
}

fn tracked(store: &Store, team: TeamId) -> Result<Vec<String>, String> {
    Ok(store
        .tracked_repos(team)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|r| r.full_name)
        .collect())
}

/// Every team's checks, in order; one line when no team is connected.
pub async fn run(cx: &Context<'_>, teams: &[Team]) -> Vec<Check> {
    if teams.is_empty() {
        return vec![check(
            "github connections",
            Verdict::Ok,
            "no team is connected to GitHub",
        )];
    }
    let mut out = Vec::new();
    for team in teams {
        out.extend(team_checks(cx, team).await);
    }
    out
}

async fn team_checks(cx: &Context<'_>, team: &Team) -> Vec<Check> {
    let label = |what: &str| format!("{what} [{}]", team.name);
    let reconnect = format!(
        "reconnect: tidemark connect github --team {}",
        team_arg(team)
    );
    let token = match &team.token {
        Ok(t) => t,
        Err(e) => {
            return vec![check(
                label("github token"),
                Verdict::Fail,
                format!("{e}; {reconnect}"),
            )];
        }
    };
    let mut out = Vec::new();
    // 1. Who the token is, and its scopes (`X-OAuth-Scopes` of `GET /user`).
    let login = match cx.api.user_and_scopes(token).await {
        Err(GitHubError::Unauthorized) => {
            out.push(check(
                label("token scopes"),
                Verdict::Fail,
                format!("GitHub rejected the token (401: revoked or expired); {reconnect}"),
            ));
            return out;
        }
        Err(e) => {
            out.push(check(
                label("token scopes"),
                Verdict::Warn,
                format!("not checked: {e}"),
            ));
            return out;
        }
        Ok((user, scopes)) => {
            out.push(scope_verdict(
                &label("token scopes"),
                &user.login,
                scopes,
                &reconnect,
            ));
            user.login
        }
    };
    // 2. Admin on each tracked repository: GitHub creates a repository's hook only for one.
    out.push(repo_admin(cx, token, team, &login, &label("repo admin")).await);
    // 3. The organization lets the OAuth app read it.
    out.push(org_access(cx, token, team, &label("oauth app access")).await);
    out
}

/// `--team` as the user would type it (a name that looks like an id is passed as `#ID`).
fn team_arg(team: &Team) -> String {
    let simple = !team.name.is_empty()
        && team
            .name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if simple {
        team.name.clone()
    } else {
        format!("'#{}'", team.id)
    }
}

fn scope_verdict(name: &str, login: &str, scopes: Option<Vec<String>>, reconnect: &str) -> Check {
    let Some(scopes) = scopes else {
        return check(
            name,
            Verdict::Warn,
            format!(
                "GitHub user {login}; GitHub did not list the token's scopes (no X-OAuth-Scopes: \
                 not an OAuth token?)"
            ),
        );
    };
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let missing: Vec<&str> = NEEDED
        .iter()
        .filter(|(_, granted_by)| !granted_by.iter().any(|g| has(g)))
        .map(|(s, _)| *s)
        .collect();
    let listed = if scopes.is_empty() {
        "none".to_string()
    } else {
        scopes.join(", ")
    };
    if !missing.is_empty() {
        return check(
            name,
            Verdict::Fail,
            format!(
                "the token of GitHub user {login} lacks {} (it has: {listed}); {reconnect}",
                missing.join(" and ")
            ),
        );
    }
    let org_hook = if has(crate::github::oauth::ORG_HOOK_SCOPE) {
        String::new()
    } else {
        "; no admin:org_hook, so member changes arrive with the periodic sync (an org owner can \
         reconnect with --org-hook)"
            .to_string()
    };
    check(
        name,
        Verdict::Ok,
        format!("GitHub user {login}, scopes {listed}{org_hook}"),
    )
}

async fn repo_admin(
    cx: &Context<'_>,
    token: &Secret,
    team: &Team,
    login: &str,
    name: &str,
) -> Check {
    if team.repos.is_empty() {
        return check(name, Verdict::Ok, "no tracked repositories");
    }
    let mut not_admin = Vec::new();
    let mut unreadable = Vec::new();
    for repo in &team.repos {
        match cx.api.repo(token, repo).await {
            Ok(r) if r.permissions.as_ref().is_some_and(|p| p.admin) => {}
            Ok(_) => not_admin.push(repo.as_str()),
            Err(GitHubError::Status {
                status: 403,
                message,
            }) if message.contains(RESTRICTED) => {
                return check(
                    name,
                    Verdict::Warn,
                    "not checked: the organization restricts OAuth apps (see oauth app access)",
                );
            }
            Err(e) => unreadable.push(format!("{repo} ({e})")),
        }
    }
    if not_admin.is_empty() && unreadable.is_empty() {
        return check(
            name,
            Verdict::Ok,
            format!(
                "{login} is an admin of all {} tracked repositories",
                team.repos.len()
            ),
        );
    }
    let mut detail = Vec::new();
    if !not_admin.is_empty() {
        detail.push(format!(
            "{login} is not an admin of {}: GitHub lets only admins create a repository's \
             webhook, so {} arrive with the periodic sync only; ask an org owner to give {login} \
             (or a team of theirs) the admin role on {}, or reconnect as a user who has it",
            not_admin.join(", "),
            if not_admin.len() == 1 {
                "its changes"
            } else {
                "their changes"
            },
            if not_admin.len() == 1 { "it" } else { "them" },
        ));
    }
    if !unreadable.is_empty() {
        detail.push(format!("not readable: {}", unreadable.join(", ")));
    }
    let mut detail = detail.join("; ");
    let verdict = if cx.public_url.is_some() || !unreadable.is_empty() {
        Verdict::Warn
    } else {
        detail
            .push_str(" (no --public-url, so no webhooks for now: this matters once you set one)");
        Verdict::Ok
    };
    check(name, verdict, detail)
}

async fn org_access(cx: &Context<'_>, token: &Secret, team: &Team, name: &str) -> Check {
    let org = &team.org;
    match cx.api.org_repos_probe(token, org).await {
        Ok(()) => check(
            name,
            Verdict::Ok,
            format!("organization {org} lets tidemark's OAuth app read it"),
        ),
        Err(GitHubError::Status {
            status: 403,
            message,
        }) if message.contains(RESTRICTED) => check(
            name,
            Verdict::Fail,
            format!(
                "organization {org} has enabled OAuth App access restrictions: an org owner \
                     must approve the app: {}/organizations/{org}/settings/oauth_application_policy",
                crate::github::trim_base(cx.web_url)
            ),
        ),
        Err(GitHubError::Status { status, message }) if status == 403 || status == 404 => check(
            name,
            Verdict::Fail,
            format!(
                "GitHub refuses organization {org}'s repositories ({status}: {message}); \
                 reconnect: tidemark connect github --team {}",
                team_arg(team)
            ),
        ),
        Err(e) => check(name, Verdict::Warn, format!("not checked: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(list: &[&str]) -> Option<Vec<String>> {
        Some(list.iter().map(std::string::ToString::to_string).collect())
    }

    #[test]
    fn missing_scopes_fail_and_say_how_to_reconnect() {
        let c = scope_verdict("s", "ada", scopes(&["read:user"]), "reconnect: X");
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.detail.contains("lacks repo and read:org"), "{}", c.detail);
        assert!(c.detail.contains("reconnect: X"), "{}", c.detail);
        // admin:org covers read:org.
        let c = scope_verdict("s", "ada", scopes(&["repo", "admin:org"]), "r");
        assert_eq!(c.verdict, Verdict::Ok, "{}", c.detail);
        assert!(c.detail.contains("periodic sync"), "{}", c.detail);
        let c = scope_verdict(
            "s",
            "ada",
            scopes(&["repo", "read:org", "admin:org_hook"]),
            "r",
        );
        assert_eq!(c.verdict, Verdict::Ok);
        assert!(!c.detail.contains("periodic"), "{}", c.detail);
        assert_eq!(scope_verdict("s", "ada", None, "r").verdict, Verdict::Warn);
    }

    #[test]
    fn an_odd_team_name_is_passed_by_id() {
        let team = |name: &str| Team {
            id: 7,
            name: name.into(),
            org: "acme".into(),
            token: Err(String::new()),
            repos: Vec::new(),
        };
        assert_eq!(team_arg(&team("platform")), "platform");
        assert_eq!(team_arg(&team("my team")), "'#7'");
    }
}
