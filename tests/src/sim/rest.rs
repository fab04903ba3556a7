//! GitHub's REST endpoints a sync needs, with GitHub's semantics: `Link` pagination (at most 100
//! per page), list items that lack `merged` and sizes, the 250-commit cap on a PR's commits, and
//! errors in GitHub's shape.

use super::Shared;
use super::api::{Caller, DOCS};
use super::http::{Request, Response};
use super::json;
use super::world::{Pull, World};
use serde_json::Value;
use std::sync::Arc;

/// GitHub lists at most this many commits of a pull request.
pub const PR_COMMITS_CAP: usize = 250;

/// Render-cache kinds of a pull request.
const FULL: u8 = 0;
const LIST_ITEM: u8 = 1;

/// GitHub's answer to an OAuth app's token on an organization that restricts OAuth apps.
pub fn oauth_restricted(org: &str) -> Response {
    Response::json(
        403,
        &json::error(
            403,
            &format!(
                "Although you appear to have the correct authorization credentials, the `{org}` \
                 organization has enabled OAuth App access restrictions, meaning that data access \
                 to third-parties is limited. For more information on these restrictions, \
                 including how to approve this app, visit \
                 https://docs.github.com/articles/restricting-access-to-your-organization-s-data/"
            ),
            "https://docs.github.com/articles/restricting-access-to-your-organization-s-data/",
        ),
    )
}

/// Does this path read or change the organization's own resources (what OAuth App access
/// restrictions guard)?
fn org_resource(w: &World, segs: &[&str]) -> bool {
    let org = &w.org().login;
    match segs {
        ["orgs", o, _, ..] | ["repos", o, ..] => o.eq_ignore_ascii_case(org),
        ["repositories", ..] => true,
        _ => false,
    }
}

pub async fn handle(shared: &Arc<Shared>, req: &Request, caller: &Caller) -> Response {
    let segs = req.segments();
    let method = req.method.as_str();
    {
        let w = shared.world();
        if w.oauth_restricted && org_resource(&w, &segs) {
            return oauth_restricted(&w.org().login);
        }
    }
    match (method, segs.as_slice()) {
        (_, ["orgs", org, "hooks", rest @ ..]) if is_org(&shared.world(), org) => {
            super::org_hooks::handle(shared, req, caller, rest).await
        }
        (_, ["repos", owner, repo, "hooks", rest @ ..]) => {
            let repo_id = {
                let w = shared.world();
                match visible_repo(&w, caller, owner, repo) {
                    Ok(id) => id,
                    Err(r) => return r,
                }
            };
            super::hooks_api::handle(shared, req, caller, repo_id, rest).await
        }
        ("GET", _) => get(shared, req, caller, &segs),
        ("POST", ["repos", owner, repo, rest @ ..]) if rest.first() == Some(&"deployments") => {
            let repo_id = {
                let w = shared.world();
                match visible_repo(&w, caller, owner, repo) {
                    Ok(id) => id,
                    Err(r) => return r,
                }
            };
            super::rest_delivery::post(shared, req, caller.user_id, repo_id, rest)
        }
        _ => not_found(),
    }
}

fn get(shared: &Shared, req: &Request, caller: &Caller, segs: &[&str]) -> Response {
    let w = shared.world();
    let u = &shared.urls;
    match segs {
        ["user"] => Response::json(200, &json::user_full(u, w.account(caller.user_id), &w)),
        ["user", "orgs"] => {
            let mut orgs = Vec::new();
            if w.members.contains_key(&caller.user_id) {
                orgs.push(json::org_simple(u, &w));
                orgs.extend(w.other_orgs.iter().map(|o| json::org_simple_of(u, o)));
            }
            paginate(shared, req, orgs)
        }
        ["user", "memberships", "orgs", org] => {
            let me = w.account(caller.user_id);
            if is_org(&w, org) {
                match w.members.get(&caller.user_id) {
                    Some(role) => Response::json(200, &json::membership(u, &w, me, role.as_str())),
                    None => not_found(),
                }
            } else {
                not_found()
            }
        }
        // A bot's login comes percent-encoded (`dependabot%5Bbot%5D`), as in its `url`.
        ["users", login] => match w.account_by_login(&json::decode_login(login)) {
            Ok(a) => Response::json(200, &json::user_full(u, a, &w)),
            Err(_) => not_found(),
        },
        ["orgs", org] if is_org(&w, org) => Response::json(200, &json::org_full(u, &w)),
        ["orgs", org, "members"] if is_org(&w, org) => {
            let role = req.query("role").unwrap_or("all");
            if !matches!(role, "all" | "admin" | "member") {
                return validation_failed("role", role);
            }
            // Members list in login order, as GitHub does.
            let mut members: Vec<_> = w
                .members
                .iter()
                .filter(|(_, r)| role == "all" || r.as_str() == role)
                .map(|(id, _)| w.account(*id))
                .collect();
            members.sort_by_key(|a| a.login.to_ascii_lowercase());
            let items = members.iter().map(|a| json::user(u, a)).collect();
            paginate(shared, req, items)
        }
        ["orgs", org, "repos"] if is_org(&w, org) => org_repos(shared, &w, req, caller),
        // GitHub's by-id form: the repository wherever it moved or however it was renamed.
        ["repositories", id, rest @ ..] => {
            match id.parse::<u64>().ok().and_then(|id| w.repos.get(&id)) {
                Some(r) if can_see(caller, r.private) => {
                    repo_get(shared, &w, req, caller, r.id, rest)
                }
                _ => not_found(),
            }
        }
        ["repos", owner, repo, rest @ ..] => {
            let repo_id = match visible_repo(&w, caller, owner, repo) {
                Ok(id) => id,
                Err(r) => return r,
            };
            repo_get(shared, &w, req, caller, repo_id, rest)
        }
        _ => not_found(),
    }
}

fn org_repos(shared: &Shared, w: &World, req: &Request, caller: &Caller) -> Response {
    let kind = req.query("type").unwrap_or("all");
    if !matches!(
        kind,
        "all" | "public" | "private" | "forks" | "sources" | "member"
    ) {
        return validation_failed("type", kind);
    }
    let sort = req.query("sort").unwrap_or("created");
    let default_dir = if sort == "full_name" { "asc" } else { "desc" };
    let direction = req.query("direction").unwrap_or(default_dir);
    let mut repos: Vec<_> = w
        .repos
        .values()
        .filter(|r| can_see(caller, r.private))
        .filter(|r| match kind {
            "public" => !r.private,
            "private" => r.private,
            "forks" => false,
            _ => true,
        })
        .collect();
    match sort {
        "created" => repos.sort_by_key(|r| (r.created_at, r.id)),
        "updated" => repos.sort_by_key(|r| (r.updated_at, r.id)),
        "pushed" => repos.sort_by_key(|r| (r.pushed_at, r.id)),
        "full_name" => repos.sort_by_key(|r| r.name.to_ascii_lowercase()),
        other => return validation_failed("sort", other),
    }
    match direction {
        "asc" => {}
        "desc" => repos.reverse(),
        other => return validation_failed("direction", other),
    }
    let items = repos
        .iter()
        .map(|r| with_permissions(json::repo(&shared.urls, w, r), w, caller, r.id))
        .collect();
    paginate(shared, req, items)
}

/// A repository's `permissions` as the caller has them: everything for its admins (the org's
/// owners and those made admins of it), write for other members, read for anyone else.
fn with_permissions(mut v: Value, w: &World, caller: &Caller, repo_id: u64) -> Value {
    let admin = w.is_repo_admin(caller.user_id, repo_id);
    let member = w.members.contains_key(&caller.user_id);
    v["permissions"] = serde_json::json!({
        "admin": admin,
        "maintain": admin,
        "push": admin || member,
        "triage": admin || member,
        "pull": true,
    });
    v
}

fn repo_get(
    shared: &Shared,
    w: &World,
    req: &Request,
    caller: &Caller,
    repo_id: u64,
    rest: &[&str],
) -> Response {
    let u = &shared.urls;
    let repo = &w.repos[&repo_id];
    match rest {
        [] => Response::json(
            200,
            &with_permissions(json::repo_full(u, w, repo), w, caller, repo_id),
        ),
        ["pulls"] => list_pulls(shared, w, req, repo_id),
        ["pulls", n, tail @ ..] => {
            let Ok(number) = n.parse::<u64>() else {
                return not_found();
            };
            let Ok(pull) = w.pull(repo_id, number) else {
                return not_found();
            };
            match tail {
                [] => {
                    let body = shared.rendered(w, (pull.id, FULL), || json::pull(u, w, pull, true));
                    Response::raw_json(200, body.to_vec())
                }
                ["reviews"] => {
                    let items = pull
                        .reviews
                        .iter()
                        .map(|r| json::review(u, w, pull, r))
                        .collect();
                    paginate(shared, req, items)
                }
                ["commits"] => {
                    let items = pull
                        .commits
                        .iter()
                        .take(PR_COMMITS_CAP)
                        .enumerate()
                        .map(|(i, c)| {
                            let parent = i.checked_sub(1).map(|p| pull.commits[p].sha.as_str());
                            json::commit(u, w, repo, c, parent)
                        })
                        .collect();
                    paginate(shared, req, items)
                }
                _ => not_found(),
            }
        }
        _ => super::rest_delivery::get(shared, w, req, repo_id, rest).unwrap_or_else(not_found),
    }
}

fn list_pulls(shared: &Shared, w: &World, req: &Request, repo_id: u64) -> Response {
    let state = req.query("state").unwrap_or("open");
    if !matches!(state, "open" | "closed" | "all") {
        return validation_failed("state", state);
    }
    let sort = req.query("sort").unwrap_or("created");
    // GitHub: desc when sorting by creation (the default), otherwise asc.
    let default_dir = if sort == "created" { "desc" } else { "asc" };
    let direction = req.query("direction").unwrap_or(default_dir);
    let mut pulls: Vec<&Pull> = w
        .repo_pulls(repo_id)
        .filter(|p| match state {
            "open" => p.open,
            "closed" => !p.open,
            _ => true,
        })
        .collect();
    match sort {
        "created" => pulls.sort_by_key(|p| (p.created_at, p.number)),
        "updated" => pulls.sort_by_key(|p| (p.updated_at, p.number)),
        "popularity" => pulls.sort_by_key(|p| (p.reviews.len(), p.number)),
        "long-running" => pulls.sort_by_key(|p| (std::cmp::Reverse(p.created_at), p.number)),
        other => return validation_failed("sort", other),
    }
    match direction {
        "asc" => {}
        "desc" => pulls.reverse(),
        other => return validation_failed("direction", other),
    }
    // The repository is rendered once per page, and only when an item is not cached.
    let repo_json = std::cell::OnceCell::new();
    paginate_raw(shared, req, &pulls, |p| {
        shared.rendered(w, (p.id, LIST_ITEM), || {
            let repo_json =
                repo_json.get_or_init(|| json::repo(&shared.urls, w, &w.repos[&repo_id]));
            json::pull_in(&shared.urls, w, p, false, repo_json)
        })
    })
}

fn is_org(w: &World, org: &str) -> bool {
    w.org().login.eq_ignore_ascii_case(org)
}

/// Private repositories need the `repo` scope; without it they do not exist (404, as GitHub).
fn can_see(caller: &Caller, private: bool) -> bool {
    !private || caller.scopes.iter().any(|s| s == "repo")
}

fn visible_repo(w: &World, caller: &Caller, owner: &str, name: &str) -> Result<u64, Response> {
    match w.repo_by_name(owner, name) {
        Ok(r) if can_see(caller, r.private) => Ok(r.id),
        _ => Err(not_found()),
    }
}

/// One page of already-rendered `items` with GitHub's `Link` header.
pub fn paginate(shared: &Shared, req: &Request, items: Vec<Value>) -> Response {
    paginate_with(shared, req, &items, Value::clone)
}

/// One page of `items`, rendering only that page, with GitHub's `Link` header (prev, next,
/// last, first).
pub fn paginate_with<T>(
    shared: &Shared,
    req: &Request,
    items: &[T],
    render: impl Fn(&T) -> Value,
) -> Response {
    paginate_raw(shared, req, items, |item| {
        serde_json::to_vec(&render(item)).expect("JSON serialises")
    })
}

/// [`paginate_with`] for items rendered to JSON bytes.
pub fn paginate_raw<T, B: AsRef<[u8]>>(
    shared: &Shared,
    req: &Request,
    items: &[T],
    render: impl Fn(&T) -> B,
) -> Response {
    let per_page = req
        .query("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(30)
        .min(100);
    let page = req
        .query("page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(1);
    let last = items.len().div_ceil(per_page).max(1);
    let mut body = vec![b'['];
    let start = (page - 1).saturating_mul(per_page);
    for (i, item) in items.iter().skip(start).take(per_page).enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(render(item).as_ref());
    }
    body.push(b']');
    let mut resp = Response::raw_json(200, body);
    let link_to = |p: usize| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in req.query.iter().filter(|(k, _)| k != "page") {
            q.append_pair(k, v);
        }
        q.append_pair("page", &p.to_string());
        format!("<{}{}?{}>", shared.urls.api, req.path, q.finish())
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to((page - 1).min(last))));
    }
    if page < last {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    if !links.is_empty() {
        resp = resp.header("link", links.join(", "));
    }
    resp
}

pub fn not_found() -> Response {
    Response::json(404, &json::error(404, "Not Found", DOCS))
}

pub fn validation_failed(field: &str, value: &str) -> Response {
    Response::json(
        422,
        &serde_json::json!({
            "message": "Validation Failed",
            "errors": [{ "resource": "Search", "field": field, "code": "invalid", "value": value }],
            "documentation_url": DOCS,
            "status": "422",
        }),
    )
}
