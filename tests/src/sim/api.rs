//! The API host's front door: who is calling (token), may they (rate limits, secondary limits),
//! then REST or GraphQL, then GitHub's response headers and ETags.

use super::Shared;
use super::clock;
use super::http::{Request, Response};
use super::json;
use super::limits::{Budget, Refusal, Resource};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub const DOCS: &str = "https://docs.github.com/rest";

/// The authenticated user behind a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: u64,
    pub scopes: Vec<String>,
}

pub async fn handle(shared: &Arc<Shared>, req: Request, inflight: usize) -> Response {
    // Endpoints that authenticate as the OAuth app, not as a user.
    if req.path.starts_with("/applications/") {
        return super::oauth::applications(shared, &req);
    }
    // The API's root answers anyone (`tidemarkd doctor` reads it, with no token).
    if req.path == "/" && matches!(req.method.as_str(), "GET" | "HEAD") {
        return with_common(Response::json(200, &root_body(&shared.urls)), None);
    }
    let caller = match authenticate(shared, &req) {
        Ok(c) => c,
        Err(r) => return with_common(r, None),
    };
    let now = clock::now();
    let limit = shared.config.rate_limit;
    if req.path == "/rate_limit" {
        // Free, as on GitHub.
        let core = shared
            .limits()
            .budget(caller.user_id, Resource::Core, limit, now);
        let graphql = shared
            .limits()
            .budget(caller.user_id, Resource::Graphql, limit, now);
        let resp = Response::json(200, &rate_limit_body(&core, &graphql));
        return with_common(with_budget(resp, &core), Some(&caller));
    }
    let resource = if req.path == "/graphql" {
        Resource::Graphql
    } else {
        Resource::Core
    };
    // Faults first, then a request that came while it was told to wait is counted as early.
    let (tripped, bare, exhaust) = {
        let mut f = shared.faults();
        let t = f.secondary_next > 0;
        f.secondary_next = f.secondary_next.saturating_sub(1);
        let bare = !t && f.secondary_bare_next > 0;
        if bare {
            f.secondary_bare_next -= 1;
        }
        // One fault per request: the budget is spent by a request no other fault took.
        let exhaust = if t || bare {
            0
        } else {
            std::mem::take(&mut f.exhaust_for_secs)
        };
        (t, bare, exhaust)
    };
    if (tripped || bare || inflight > shared.config.max_concurrent)
        && !shared.limits().is_blocked(caller.user_id, now)
    {
        let secs = shared.config.secondary_retry_after;
        shared.limits().block(caller.user_id, secs, now);
        shared.stats().secondary_limited += 1;
        let r = secondary(shared, secs);
        let r = if bare { without_retry_after(r) } else { r };
        return with_common(r, Some(&caller));
    }
    let checked = if exhaust > 0 {
        // This request spends the rest of the budget: refused, but not early (the caller had
        // not been told yet).
        let mut limits = shared.limits();
        limits.exhaust(caller.user_id, resource, limit, now, exhaust);
        let b = limits.budget(caller.user_id, resource, limit, now);
        Err((Refusal::Primary(b), false))
    } else {
        shared.limits().check(caller.user_id, resource, limit, now)
    };
    if let Err((refusal, early)) = checked {
        let mut stats = shared.stats();
        if early {
            stats.early_requests += 1;
        }
        return with_common(
            match refusal {
                Refusal::Primary(b) => {
                    stats.rate_limited += 1;
                    drop(stats);
                    if resource == Resource::Graphql && !shared.faults().graphql_limit_403 {
                        super::graphql::rate_limited(caller.user_id, &b)
                    } else {
                        primary(caller.user_id, &b)
                    }
                }
                Refusal::Secondary { retry_after } => {
                    stats.secondary_limited += 1;
                    drop(stats);
                    secondary(shared, retry_after)
                }
            },
            Some(&caller),
        );
    }
    if resource == Resource::Graphql {
        // GraphQL charges by query cost and sets its own rate headers.
        shared.stats().graphql_requests += 1;
        let resp = super::graphql::handle(shared, &req, &caller).await;
        return with_common(resp, Some(&caller));
    }
    let resp = super::rest::handle(shared, &req, &caller).await;
    let resp = if req.method == "GET" && resp.status == 200 {
        let etag = etag(&resp.body);
        let matches = req
            .header("if-none-match")
            .is_some_and(|inm| inm.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
        if matches {
            // Free: a 304 does not count against the limit.
            shared.stats().not_modified += 1;
            let b = shared
                .limits()
                .budget(caller.user_id, Resource::Core, limit, now);
            let mut r = Response::new(304).header("etag", etag);
            for (k, v) in resp.headers.iter().filter(|(k, _)| k == "link") {
                r = r.header(k, v.clone());
            }
            return with_common(with_budget(r, &b), Some(&caller));
        }
        resp.header("etag", etag)
    } else {
        resp
    };
    shared.stats().rest_requests += 1;
    let b = shared
        .limits()
        .charge(caller.user_id, Resource::Core, limit, 1, now);
    with_common(with_budget(resp, &b), Some(&caller))
}

/// `Authorization: Bearer T` or `token T`, a known token, not revoked, not expired.
pub fn authenticate(shared: &Shared, req: &Request) -> Result<Caller, Response> {
    let Some(header) = req.header("authorization") else {
        return Err(Response::json(
            401,
            &json::error(401, "Requires authentication", DOCS),
        ));
    };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .or_else(|| header.strip_prefix("token "))
        .unwrap_or("")
        .trim();
    let world = shared.world();
    match world.tokens.get(token) {
        Some(t) if !t.revoked && t.expires_at.is_none_or(|e| e > clock::now()) => Ok(Caller {
            user_id: t.user_id,
            scopes: t.scopes.clone(),
        }),
        _ => Err(bad_credentials()),
    }
}

pub fn bad_credentials() -> Response {
    Response::json(401, &json::error(401, "Bad credentials", DOCS))
}

/// GitHub's answer once the hourly budget is spent.
fn primary(user_id: u64, b: &Budget) -> Response {
    let msg = format!(
        "API rate limit exceeded for user ID {user_id}. If you reach out to GitHub Support for help, please include the request ID."
    );
    with_budget(
        Response::json(
            403,
            &json::error(
                403,
                &msg,
                "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            ),
        ),
        b,
    )
}

fn secondary(shared: &Shared, retry_after: u64) -> Response {
    let status = if shared.config.secondary_429 {
        429
    } else {
        403
    };
    Response::json(
        status,
        &json::error(
            status,
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
            "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        ),
    )
    .header("retry-after", retry_after.to_string())
}

/// A secondary limit's answer without its `retry-after` (GitHub sends both).
fn without_retry_after(mut resp: Response) -> Response {
    resp.headers.retain(|(k, _)| k != "retry-after");
    resp
}

pub fn with_budget(mut resp: Response, b: &Budget) -> Response {
    resp.headers.retain(|(k, _)| !k.starts_with("x-ratelimit-"));
    resp.headers.extend(b.headers());
    resp
}

/// Headers every API response carries.
pub fn with_common(mut resp: Response, caller: Option<&Caller>) -> Response {
    resp = resp
        .header("x-github-media-type", "github.v3; format=json")
        .header("x-github-api-version-selected", "2022-11-28")
        .header("x-github-request-id", request_id())
        .header("access-control-expose-headers", "ETag, Link, Location, Retry-After, X-GitHub-OTP, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Used, X-RateLimit-Resource, X-RateLimit-Reset, X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-Poll-Interval, X-GitHub-Media-Type, X-GitHub-SSO, X-GitHub-Request-Id, Deprecation, Sunset");
    if let Some(c) = caller {
        resp = resp.header("x-oauth-scopes", c.scopes.join(", "));
    }
    resp
}

fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    format!(
        "CAFE:{:X}:{:X}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A weak ETag over the body, like GitHub's.
pub fn etag(body: &[u8]) -> String {
    format!("W/\"{}\"", hex::encode(Sha256::digest(body)))
}

fn rate_limit_body(core: &Budget, graphql: &Budget) -> serde_json::Value {
    let entry = |b: &Budget| serde_json::json!({ "limit": b.limit, "used": b.used, "remaining": b.remaining(), "reset": b.reset });
    let fixed = |limit: u64, reset: i64| serde_json::json!({ "limit": limit, "used": 0, "remaining": limit, "reset": reset });
    serde_json::json!({
        "resources": {
            "core": entry(core),
            "search": fixed(30, core.reset),
            "graphql": entry(graphql),
            "integration_manifest": fixed(5000, core.reset),
            "source_import": fixed(100, core.reset),
            "actions_runner_registration": fixed(10000, core.reset),
            "scim": fixed(15000, core.reset),
            "dependency_snapshots": fixed(100, core.reset),
            "code_search": fixed(10, core.reset),
            "code_scanning_autofix": fixed(10, core.reset),
        },
        "rate": entry(core),
    })
}

/// `GET /`: the API's map of itself (GitHub's `meta/root`).
fn root_body(u: &json::Urls) -> serde_json::Value {
    let (api, web) = (&u.api, &u.web);
    let search = "{&page,per_page,sort,order}";
    serde_json::json!({
        "current_user_url": format!("{api}/user"),
        "current_user_authorizations_html_url": format!("{web}/settings/connections/applications{{/client_id}}"),
        "authorizations_url": format!("{api}/authorizations"),
        "code_search_url": format!("{api}/search/code?q={{query}}{search}"),
        "commit_search_url": format!("{api}/search/commits?q={{query}}{search}"),
        "emails_url": format!("{api}/user/emails"),
        "emojis_url": format!("{api}/emojis"),
        "events_url": format!("{api}/events"),
        "feeds_url": format!("{api}/feeds"),
        "followers_url": format!("{api}/user/followers"),
        "following_url": format!("{api}/user/following{{/target}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "hub_url": format!("{api}/hub"),
        "issue_search_url": format!("{api}/search/issues?q={{query}}{search}"),
        "issues_url": format!("{api}/issues"),
        "keys_url": format!("{api}/user/keys"),
        "label_search_url": format!("{api}/search/labels?q={{query}}&repository_id={{repository_id}}{{&page,per_page}}"),
        "notifications_url": format!("{api}/notifications"),
        "organization_url": format!("{api}/orgs/{{org}}"),
        "organization_repositories_url": format!("{api}/orgs/{{org}}/repos{{?type,page,per_page,sort}}"),
        "organization_teams_url": format!("{api}/orgs/{{org}}/teams"),
        "public_gists_url": format!("{api}/gists/public"),
        "rate_limit_url": format!("{api}/rate_limit"),
        "repository_url": format!("{api}/repos/{{owner}}/{{repo}}"),
        "repository_search_url": format!("{api}/search/repositories?q={{query}}{search}"),
        "current_user_repositories_url": format!("{api}/user/repos{{?type,page,per_page,sort}}"),
        "starred_url": format!("{api}/user/starred{{/owner}}{{/repo}}"),
        "starred_gists_url": format!("{api}/gists/starred"),
        "topic_search_url": format!("{api}/search/topics?q={{query}}{{&page,per_page}}"),
        "user_url": format!("{api}/users/{{user}}"),
        "user_organizations_url": format!("{api}/user/orgs"),
        "user_repositories_url": format!("{api}/users/{{user}}/repos{{?type,page,per_page,sort}}"),
        "user_search_url": format!("{api}/search/users?q={{query}}{search}"),
    })
}
