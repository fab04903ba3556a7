//! The world rendered in GitHub's REST (and webhook) JSON shapes, field for field as in GitHub's
//! OpenAPI examples. REST and webhooks share these builders.

use super::clock::iso;
use super::world::{Account, Commit, Hook, Pull, Repo, Review, World};
use serde_json::{Value, json};

/// Where the simulator's two faces live: the web host (OAuth, html_url) and the API host.
#[derive(Debug, Clone)]
pub struct Urls {
    pub web: String,
    pub api: String,
}

/// GitHub's legacy global node id: base64 of "0{len}:{Type}{id}" ("04:User1", "011:PullRequest1"),
/// still accepted by `node`.
pub fn node_id(kind: &str, id: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("0{}:{kind}{id}", kind.len()))
}

/// Decode a node id made by [`node_id`]: (type, database id).
pub fn parse_node_id(id: &str) -> Option<(String, u64)> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD.decode(id).ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (len, rest) = raw.split_once(':')?;
    let len: usize = len.parse().ok()?;
    if rest.len() <= len || !rest.is_char_boundary(len) {
        return None;
    }
    let (kind, num) = rest.split_at(len);
    Some((kind.to_string(), num.parse().ok()?))
}

/// A login in a URL path: a bot's brackets percent-encoded (`dependabot%5Bbot%5D`), as GitHub
/// writes them (a bare `[` is not allowed in a URI path).
pub fn encode_login(login: &str) -> String {
    login.replace('[', "%5B").replace(']', "%5D")
}

/// [`encode_login`] undone (either case of hex digits).
pub fn decode_login(login: &str) -> String {
    login
        .replace("%5B", "[")
        .replace("%5b", "[")
        .replace("%5D", "]")
        .replace("%5d", "]")
}

pub fn user(u: &Urls, a: &Account) -> Value {
    let api = &u.api;
    let name = &a.login;
    let login = encode_login(name);
    // A bot's page is its app's: `https://github.com/apps/dependabot`.
    let html_url = match name.strip_suffix("[bot]") {
        Some(app) if a.is_bot => format!("{}/apps/{app}", u.web),
        _ => format!("{}/{name}", u.web),
    };
    json!({
        "login": name,
        "id": a.id,
        "node_id": node_id(if a.is_bot { "Bot" } else { "User" }, a.id),
        "avatar_url": format!("{}/avatars/u/{}?v=4", u.web, a.id),
        "gravatar_id": "",
        "url": format!("{api}/users/{login}"),
        "html_url": html_url,
        "followers_url": format!("{api}/users/{login}/followers"),
        "following_url": format!("{api}/users/{login}/following{{/other_user}}"),
        "gists_url": format!("{api}/users/{login}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/users/{login}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/users/{login}/subscriptions"),
        "organizations_url": format!("{api}/users/{login}/orgs"),
        "repos_url": format!("{api}/users/{login}/repos"),
        "events_url": format!("{api}/users/{login}/events{{/privacy}}"),
        "received_events_url": format!("{api}/users/{login}/received_events"),
        "type": if a.is_bot { "Bot" } else { "User" },
        "site_admin": false,
    })
}

/// `GET /user` and `GET /users/{username}`: the simple user plus profile fields (GitHub's
/// "public user"; `/user` adds private counts only for tokens with the `user` scope).
pub fn user_full(u: &Urls, a: &Account, w: &World) -> Value {
    let mut v = user(u, a);
    let public_repos = 0;
    let extra = json!({
        "name": a.name,
        "company": format!("@{}", w.org().login),
        "blog": "",
        "location": null,
        "email": a.email,
        "hireable": null,
        "bio": null,
        "twitter_username": null,
        "public_repos": public_repos,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": iso(a.created_at),
        "updated_at": iso(a.created_at),
    });
    merge(&mut v, extra);
    v
}

/// The org as `/user/orgs` lists it.
pub fn org_simple(u: &Urls, w: &World) -> Value {
    org_simple_of(u, w.org())
}

/// Any org as `/user/orgs` lists it.
pub fn org_simple_of(u: &Urls, o: &super::world::Org) -> Value {
    let api = &u.api;
    let login = &o.login;
    json!({
        "login": login,
        "id": o.id,
        "node_id": node_id("Organization", o.id),
        "url": format!("{api}/orgs/{login}"),
        "repos_url": format!("{api}/orgs/{login}/repos"),
        "events_url": format!("{api}/orgs/{login}/events"),
        "hooks_url": format!("{api}/orgs/{login}/hooks"),
        "issues_url": format!("{api}/orgs/{login}/issues"),
        "members_url": format!("{api}/orgs/{login}/members{{/member}}"),
        "public_members_url": format!("{api}/orgs/{login}/public_members{{/member}}"),
        "avatar_url": format!("{}/avatars/o/{}?v=4", u.web, o.id),
        "description": o.name,
    })
}

/// `GET /orgs/{org}`.
pub fn org_full(u: &Urls, w: &World) -> Value {
    let o = w.org();
    let mut v = org_simple(u, w);
    let public = w.repos.values().filter(|r| !r.private).count();
    let private = w.repos.len() - public;
    merge(
        &mut v,
        json!({
            // GitHub's description has these as strings (not nullable); the blog a URI.
            "name": o.name,
            "company": o.name,
            "blog": format!("https://{}.example", o.login.to_ascii_lowercase()),
            "location": "Remote",
            "email": format!("hello@{}.example", o.login.to_ascii_lowercase()),
            "twitter_username": null,
            "is_verified": false,
            "has_organization_projects": true,
            "has_repository_projects": true,
            "public_repos": public,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "html_url": format!("{}/{}", u.web, o.login),
            "created_at": iso(o.created_at),
            "updated_at": iso(o.created_at),
            "archived_at": null,
            "type": "Organization",
            "total_private_repos": private,
            "owned_private_repos": private,
        }),
    );
    v
}

/// The org as a repository's `owner` (GitHub renders it like a user, with type Organization).
fn org_as_owner(u: &Urls, w: &World) -> Value {
    let o = w.org();
    let fake = Account {
        id: o.id,
        login: o.login.clone(),
        name: o.name.clone(),
        email: None,
        is_bot: false,
        created_at: o.created_at,
    };
    let mut v = user(u, &fake);
    v["node_id"] = Value::String(node_id("Organization", o.id));
    v["type"] = Value::String("Organization".into());
    v
}

pub fn repo(u: &Urls, w: &World, r: &Repo) -> Value {
    let full = w.full_name(r);
    let api = format!("{}/repos/{full}", u.api);
    let web = format!("{}/{full}", u.web);
    let host = u.web.split("://").nth(1).unwrap_or("github.com");
    let open_issues = w.repo_pulls(r.id).filter(|p| p.open).count();
    json!({
        "id": r.id,
        "node_id": node_id("Repository", r.id),
        "name": r.name,
        "full_name": full,
        "owner": org_as_owner(u, w),
        "private": r.private,
        "html_url": web,
        "description": r.description,
        "fork": false,
        "url": api,
        "archive_url": format!("{api}/{{archive_format}}{{/ref}}"),
        "assignees_url": format!("{api}/assignees{{/user}}"),
        "blobs_url": format!("{api}/git/blobs{{/sha}}"),
        "branches_url": format!("{api}/branches{{/branch}}"),
        "collaborators_url": format!("{api}/collaborators{{/collaborator}}"),
        "comments_url": format!("{api}/comments{{/number}}"),
        "commits_url": format!("{api}/commits{{/sha}}"),
        "compare_url": format!("{api}/compare/{{base}}...{{head}}"),
        "contents_url": format!("{api}/contents/{{+path}}"),
        "contributors_url": format!("{api}/contributors"),
        "deployments_url": format!("{api}/deployments"),
        "downloads_url": format!("{api}/downloads"),
        "events_url": format!("{api}/events"),
        "forks_url": format!("{api}/forks"),
        "git_commits_url": format!("{api}/git/commits{{/sha}}"),
        "git_refs_url": format!("{api}/git/refs{{/sha}}"),
        "git_tags_url": format!("{api}/git/tags{{/sha}}"),
        "git_url": format!("git:{host}/{full}.git"),
        "issue_comment_url": format!("{api}/issues/comments{{/number}}"),
        "issue_events_url": format!("{api}/issues/events{{/number}}"),
        "issues_url": format!("{api}/issues{{/number}}"),
        "keys_url": format!("{api}/keys{{/key_id}}"),
        "labels_url": format!("{api}/labels{{/name}}"),
        "languages_url": format!("{api}/languages"),
        "merges_url": format!("{api}/merges"),
        "milestones_url": format!("{api}/milestones{{/number}}"),
        "notifications_url": format!("{api}/notifications{{?since,all,participating}}"),
        "pulls_url": format!("{api}/pulls{{/number}}"),
        "releases_url": format!("{api}/releases{{/id}}"),
        "ssh_url": format!("git@{host}:{full}.git"),
        "stargazers_url": format!("{api}/stargazers"),
        "statuses_url": format!("{api}/statuses/{{sha}}"),
        "subscribers_url": format!("{api}/subscribers"),
        "subscription_url": format!("{api}/subscription"),
        "tags_url": format!("{api}/tags"),
        "teams_url": format!("{api}/teams"),
        "trees_url": format!("{api}/git/trees{{/sha}}"),
        "clone_url": format!("{web}.git"),
        "mirror_url": null,
        "hooks_url": format!("{api}/hooks"),
        "svn_url": web,
        "homepage": null,
        "language": null,
        "license": null,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": 100 + w.repo_pulls(r.id).count() * 3,
        "default_branch": r.default_branch,
        "open_issues_count": open_issues,
        "is_template": false,
        "topics": [],
        "has_issues": true,
        "has_projects": true,
        "has_wiki": !r.private,
        "has_pages": false,
        "has_downloads": true,
        "has_discussions": false,
        "archived": r.archived,
        "disabled": false,
        "visibility": if r.private { "private" } else { "public" },
        "pushed_at": iso(r.pushed_at),
        "created_at": iso(r.created_at),
        "updated_at": iso(r.updated_at),
        "permissions": { "admin": true, "maintain": true, "push": true, "triage": true, "pull": true },
        "allow_forking": !r.private,
        "web_commit_signoff_required": false,
        "forks": 0,
        "open_issues": open_issues,
        "watchers": 0,
    })
}

/// `GET /repos/{owner}/{repo}`: a repository with what only the single-repository answer has.
pub fn repo_full(u: &Urls, w: &World, r: &Repo) -> Value {
    let mut v = repo(u, w, r);
    merge(
        &mut v,
        json!({ "network_count": 0, "subscribers_count": 0, "organization": org_as_owner(u, w) }),
    );
    v
}

fn branch(
    u: &Urls,
    w: &World,
    repo_json: &Value,
    who: &Account,
    ref_name: &str,
    sha: &str,
) -> Value {
    json!({
        "label": format!("{}:{ref_name}", w.org().login),
        "ref": ref_name,
        "sha": sha,
        "user": user(u, who),
        "repo": repo_json.clone(),
    })
}

/// A pull request. `full` adds what `GET /pulls/{n}` has and list items lack (`merged`,
/// `additions`, `deletions`, counts and mergeability).
pub fn pull(u: &Urls, w: &World, p: &Pull, full: bool) -> Value {
    let repo_json = repo(u, w, &w.repos[&p.repo_id]);
    pull_in(u, w, p, full, &repo_json)
}

/// [`pull`] with its repository already rendered (a list renders it once for every item).
pub fn pull_in(u: &Urls, w: &World, p: &Pull, full: bool, repo_json: &Value) -> Value {
    let r = &w.repos[&p.repo_id];
    let full_name = w.full_name(r);
    let api = format!("{}/repos/{full_name}", u.api);
    let html = format!("{}/{full_name}/pull/{}", u.web, p.number);
    let n = p.number;
    let author = w.account(p.user_id);
    let head_sha = p.head_sha();
    let org_acc = Account {
        id: w.org().id,
        login: w.org().login.clone(),
        name: w.org().name.clone(),
        email: None,
        is_bot: false,
        created_at: 0,
    };
    let mut v = json!({
        "url": format!("{api}/pulls/{n}"),
        "id": p.id,
        "node_id": node_id("PullRequest", p.id),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": format!("{api}/issues/{n}"),
        "commits_url": format!("{api}/pulls/{n}/commits"),
        "review_comments_url": format!("{api}/pulls/{n}/comments"),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{api}/issues/{n}/comments"),
        "statuses_url": format!("{api}/statuses/{head_sha}"),
        "number": n,
        "state": p.rest_state(),
        "locked": false,
        "title": p.title,
        "user": user(u, author),
        "body": p.body,
        "labels": [],
        "milestone": null,
        "active_lock_reason": null,
        "created_at": iso(p.created_at),
        "updated_at": iso(p.updated_at),
        "closed_at": p.closed_at.map(iso),
        "merged_at": p.merged_at.map(iso),
        "merge_commit_sha": p.merge_commit_sha,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": branch(u, w, repo_json, author, &p.head_ref, &head_sha),
        "base": branch(u, w, repo_json, &org_acc, &p.base_ref, &crate::sim::world::sha_for(&format!("base-{}", r.id))),
        "_links": {
            "self": { "href": format!("{api}/pulls/{n}") },
            "html": { "href": html },
            "issue": { "href": format!("{api}/issues/{n}") },
            "comments": { "href": format!("{api}/issues/{n}/comments") },
            "review_comments": { "href": format!("{api}/pulls/{n}/comments") },
            "review_comment": { "href": format!("{api}/pulls/comments{{/number}}") },
            "commits": { "href": format!("{api}/pulls/{n}/commits") },
            "statuses": { "href": format!("{api}/statuses/{head_sha}") },
        },
        "author_association": association(w, p.user_id),
        "auto_merge": null,
        "draft": p.draft,
    });
    if full {
        merge(
            &mut v,
            json!({
                "merged": p.merged(),
                "mergeable": if p.open { Value::Bool(true) } else { Value::Null },
                "rebaseable": if p.open { Value::Bool(true) } else { Value::Null },
                "mergeable_state": if p.open { if p.draft { "draft" } else { "clean" } } else { "unknown" },
                "merged_by": p.merged_by.map(|id| user(u, w.account(id))),
                "comments": 0,
                "review_comments": p.reviews.iter().filter(|r| !r.body.is_empty()).count(),
                "maintainer_can_modify": false,
                "commits": p.commits.len(),
                "additions": p.additions(),
                "deletions": p.deletions(),
                "changed_files": p.changed_files,
            }),
        );
    }
    v
}

/// OWNER/MEMBER/CONTRIBUTOR/NONE, as GitHub relates an account to the repository's org.
pub fn association(w: &World, account_id: u64) -> &'static str {
    match w.members.get(&account_id) {
        Some(super::world::OrgRole::Admin) => "OWNER",
        Some(_) => "MEMBER",
        None if w.account(account_id).is_bot => "NONE",
        None => "CONTRIBUTOR",
    }
}

pub fn review(u: &Urls, w: &World, p: &Pull, rv: &Review) -> Value {
    let r = &w.repos[&p.repo_id];
    let full_name = w.full_name(r);
    let html = format!(
        "{}/{full_name}/pull/{}#pullrequestreview-{}",
        u.web, p.number, rv.id
    );
    let pr_url = format!("{}/repos/{full_name}/pulls/{}", u.api, p.number);
    json!({
        "id": rv.id,
        "node_id": node_id("PullRequestReview", rv.id),
        "user": user(u, w.account(rv.user_id)),
        "body": rv.body,
        "state": rv.state.upper(),
        "html_url": html,
        "pull_request_url": pr_url,
        "_links": { "html": { "href": html }, "pull_request": { "href": pr_url } },
        "submitted_at": iso(rv.submitted_at),
        "commit_id": rv.commit_id,
        "author_association": association(w, rv.user_id),
    })
}

/// A commit as `GET /pulls/{n}/commits` lists it.
pub fn commit(u: &Urls, w: &World, r: &Repo, c: &Commit, parent: Option<&str>) -> Value {
    let full_name = w.full_name(r);
    let api = format!("{}/repos/{full_name}", u.api);
    let linked = c.author_user_id.map(|id| user(u, w.account(id)));
    let person =
        json!({ "name": c.author_name, "email": c.author_email, "date": iso(c.authored_at) });
    let committer =
        json!({ "name": c.author_name, "email": c.author_email, "date": iso(c.committed_at) });
    json!({
        "url": format!("{api}/commits/{}", c.sha),
        "sha": c.sha,
        "node_id": node_id("Commit", u64::from_str_radix(&c.sha[..12], 16).unwrap_or(0)),
        "html_url": format!("{}/{full_name}/commit/{}", u.web, c.sha),
        "comments_url": format!("{api}/commits/{}/comments", c.sha),
        "commit": {
            "url": format!("{api}/git/commits/{}", c.sha),
            "author": person,
            "committer": committer,
            "message": c.message,
            "tree": { "url": format!("{api}/git/trees/{}", c.sha), "sha": c.sha },
            "comment_count": 0,
            "verification": { "verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null },
        },
        "author": linked.clone(),
        "committer": linked,
        "parents": parent.map(|sha| vec![json!({ "url": format!("{api}/commits/{sha}"), "sha": sha })]).unwrap_or_default(),
    })
}

pub fn hook(u: &Urls, w: &World, h: &Hook) -> Value {
    let r = &w.repos[&h.repo_id];
    let api = format!("{}/repos/{}/hooks/{}", u.api, w.full_name(r), h.id);
    let last = match &h.last_response {
        Some((code, status, message)) => {
            json!({ "code": code, "status": status, "message": message })
        }
        None => json!({ "code": null, "status": "unused", "message": null }),
    };
    let mut config =
        json!({ "content_type": h.content_type, "insecure_ssl": h.insecure_ssl, "url": h.url });
    if h.secret.is_some() {
        // GitHub never shows a hook's secret back.
        config["secret"] = Value::String("********".into());
    }
    json!({
        "type": "Repository",
        "id": h.id,
        "name": "web",
        "active": h.active,
        "events": h.events,
        "config": config,
        "updated_at": iso(h.updated_at),
        "created_at": iso(h.created_at),
        "url": api,
        "test_url": format!("{api}/test"),
        "ping_url": format!("{api}/pings"),
        "deliveries_url": format!("{api}/deliveries"),
        "last_response": last,
    })
}

/// An organization hook as `/orgs/{org}/hooks` shows it (`org-hook`: no `test_url` or
/// `last_response`).
pub fn org_hook(u: &Urls, w: &World, h: &Hook) -> Value {
    let api = format!("{}/orgs/{}/hooks/{}", u.api, w.org().login, h.id);
    let mut config =
        json!({ "content_type": h.content_type, "insecure_ssl": h.insecure_ssl, "url": h.url });
    if h.secret.is_some() {
        config["secret"] = Value::String("********".into());
    }
    json!({
        "type": "Organization",
        "id": h.id,
        "name": "web",
        "active": h.active,
        "events": h.events,
        "config": config,
        "updated_at": iso(h.updated_at),
        "created_at": iso(h.created_at),
        "url": api,
        "ping_url": format!("{api}/pings"),
        "deliveries_url": format!("{api}/deliveries"),
    })
}

/// `GET /user/memberships/orgs/{org}`: the caller's membership of the org.
pub fn membership(u: &Urls, w: &World, a: &Account, role: &str) -> Value {
    let org = w.org();
    json!({
        "url": format!("{}/orgs/{}/memberships/{}", u.api, org.login, a.login),
        "state": "active",
        "role": role,
        "organization_url": format!("{}/orgs/{}", u.api, org.login),
        "organization": org_simple(u, w),
        "user": user(u, a),
    })
}

/// Shallow-merge `extra`'s fields into `v`.
pub fn merge(v: &mut Value, extra: Value) {
    if let (Value::Object(a), Value::Object(b)) = (v, extra) {
        a.extend(b);
    }
}

/// GitHub's error body.
pub fn error(status: u16, message: &str, docs: &str) -> Value {
    json!({ "message": message, "documentation_url": docs, "status": status.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_are_githubs_legacy_format_and_round_trip() {
        // GitHub's own example: PullRequest 1.
        assert_eq!(node_id("PullRequest", 1), "MDExOlB1bGxSZXF1ZXN0MQ==");
        assert_eq!(node_id("User", 1), "MDQ6VXNlcjE=");
        assert_eq!(
            parse_node_id("MDExOlB1bGxSZXF1ZXN0MQ=="),
            Some(("PullRequest".into(), 1))
        );
        assert_eq!(parse_node_id("not base64!"), None);
        assert_eq!(
            parse_node_id(&node_id("Repository", 1296269)),
            Some(("Repository".into(), 1296269))
        );
    }
}
