//! The REST endpoints of delivery data, with GitHub's semantics: deployments (newest first;
//! created with the caller as creator) and their statuses, Actions workflow runs (the
//! `{total_count, workflow_runs}` envelope, filters `branch`, `event`, `status`, `created`,
//! `head_sha`), releases, tags, `compare/{base}...{head}` (commits oldest first, 250 without
//! paging) and issues (pull requests included, as REST lists them).

use super::api::DOCS;
use super::http::{Request, Response};
use super::rest::{not_found, paginate_with, validation_failed};
use super::world::{DeployState, NewDeployment, World};
use super::{Shared, clock, json, json_delivery as jd};
use serde_json::{Value, json};
use std::sync::Arc;

/// A GET under `/repos/{owner}/{repo}/`: None when the path is not one of these.
pub fn get(
    shared: &Shared,
    w: &World,
    req: &Request,
    repo_id: u64,
    rest: &[&str],
) -> Option<Response> {
    let u = &shared.urls;
    let r = match rest {
        ["deployments"] => {
            let q = |k: &str| req.query(k);
            let mut items: Vec<_> = w
                .repo_deployments(repo_id)
                .filter(|d| q("sha").is_none_or(|s| s == d.sha))
                .filter(|d| q("ref").is_none_or(|s| s == d.ref_name))
                .filter(|d| q("task").is_none_or(|s| s == d.task))
                .filter(|d| q("environment").is_none_or(|s| s == d.environment()))
                .collect();
            items.reverse();
            paginate_with(shared, req, &items, |d| jd::deployment(u, w, d))
        }
        ["deployments", id, tail @ ..] => {
            let Some(d) = id
                .parse::<u64>()
                .ok()
                .and_then(|id| w.deployments.get(&id))
                .filter(|d| d.repo_id == repo_id)
            else {
                return Some(not_found());
            };
            match tail {
                [] => Response::json(200, &jd::deployment(u, w, d)),
                ["statuses"] => {
                    let items: Vec<_> = d.statuses.iter().rev().collect();
                    paginate_with(shared, req, &items, |s| jd::deployment_status(u, w, d, s))
                }
                ["statuses", sid] => match d.statuses.iter().find(|s| s.id.to_string() == *sid) {
                    Some(s) => Response::json(200, &jd::deployment_status(u, w, d, s)),
                    None => not_found(),
                },
                _ => return None,
            }
        }
        ["actions", "runs"] => return Some(list_runs(shared, w, req, repo_id)),
        ["actions", "runs", id] => match id.parse::<u64>().ok().and_then(|id| w.runs.get(&id)) {
            Some(run) if run.repo_id == repo_id => {
                Response::json(200, &jd::workflow_run(u, w, run))
            }
            _ => not_found(),
        },
        ["releases"] => {
            let mut items: Vec<_> = w
                .releases
                .values()
                .filter(|r| r.repo_id == repo_id)
                .collect();
            items.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
            paginate_with(shared, req, &items, |r| jd::release(u, w, r))
        }
        ["tags"] => {
            // Newest name first, as GitHub lists them (by name, descending).
            let mut items: Vec<_> = w
                .tags
                .range((repo_id, String::new())..)
                .take_while(|((r, _), _)| *r == repo_id)
                .map(|(_, t)| t)
                .collect();
            items.reverse();
            paginate_with(shared, req, &items, |t| jd::tag(u, w, t))
        }
        ["compare", basehead] => compare(shared, w, req, repo_id, basehead),
        ["issues"] => return Some(list_issues(shared, w, req, repo_id)),
        ["issues", n] => {
            let Ok(n) = n.parse::<u64>() else {
                return Some(not_found());
            };
            if let Ok(i) = w.issue(repo_id, n) {
                Response::json(200, &jd::issue(u, w, i))
            } else if let Ok(p) = w.pull(repo_id, n) {
                Response::json(200, &jd::pull_as_issue(u, w, p))
            } else {
                not_found()
            }
        }
        _ => return None,
    };
    Some(r)
}

/// `status` of the runs list: a status or a conclusion, as GitHub's filter takes either.
const RUN_STATUSES: &[&str] = &[
    "completed",
    "action_required",
    "cancelled",
    "failure",
    "neutral",
    "skipped",
    "stale",
    "success",
    "timed_out",
    "in_progress",
    "queued",
    "requested",
    "waiting",
    "pending",
];

/// GitHub documents only 200 for this list: a `status` or `created` it does not know
/// matches no run (rather than a 422).
fn list_runs(shared: &Shared, w: &World, req: &Request, repo_id: u64) -> Response {
    let status = req.query("status");
    let known = status.is_none_or(|s| RUN_STATUSES.contains(&s));
    let created = match req.query("created").map(created_range) {
        Some(Some(range)) => Some(range),
        Some(None) => Some((1, 0)),
        None => None,
    };
    let q = |k: &str| req.query(k);
    let mut runs: Vec<_> = w
        .runs
        .values()
        .filter(|r| r.repo_id == repo_id)
        .filter(|r| q("branch").is_none_or(|b| b == r.head_branch))
        .filter(|r| q("event").is_none_or(|e| e == r.event))
        .filter(|r| q("head_sha").is_none_or(|s| s == r.head_sha))
        .filter(|r| {
            q("actor").is_none_or(|a| {
                w.accounts
                    .get(&r.actor_id)
                    .is_some_and(|x| x.login.eq_ignore_ascii_case(a))
            })
        })
        .filter(|_| known)
        .filter(|r| status.is_none_or(|s| r.status == s || r.conclusion.as_deref() == Some(s)))
        .filter(|r| created.is_none_or(|(lo, hi)| lo <= r.created_at && r.created_at <= hi))
        .collect();
    runs.sort_by_key(|r| std::cmp::Reverse((r.created_at, r.id)));
    let total = runs.len();
    let mut resp = paginate_with(shared, req, &runs, |r| jd::workflow_run(&shared.urls, w, r));
    let list = std::mem::take(&mut resp.body);
    let mut body = format!("{{\"total_count\":{total},\"workflow_runs\":").into_bytes();
    body.extend_from_slice(&list);
    body.push(b'}');
    resp.body = body;
    resp
}

/// GitHub's `created` filter: `>=D`, `<=D`, `>D`, `<D`, `D..D` or a day `D` (dates or
/// date-times), as an inclusive range of seconds.
fn created_range(s: &str) -> Option<(i64, i64)> {
    let time =
        |t: &str| clock::parse_iso(t).or_else(|| clock::parse_iso(&format!("{t}T00:00:00Z")));
    let day_end =
        |t: &str| clock::parse_iso(t).or_else(|| clock::parse_iso(&format!("{t}T23:59:59Z")));
    if let Some(t) = s.strip_prefix(">=") {
        Some((time(t)?, i64::MAX))
    } else if let Some(t) = s.strip_prefix("<=") {
        Some((i64::MIN, day_end(t)?))
    } else if let Some(t) = s.strip_prefix('>') {
        Some((day_end(t)? + 1, i64::MAX))
    } else if let Some(t) = s.strip_prefix('<') {
        Some((i64::MIN, time(t)? - 1))
    } else if let Some((a, b)) = s.split_once("..") {
        Some((time(a)?, day_end(b)?))
    } else {
        Some((time(s)?, day_end(s)?))
    }
}

/// `compare/{base}...{head}`: each side a branch, tag or sha (or a prefix of one).
fn compare(shared: &Shared, w: &World, req: &Request, repo_id: u64, basehead: &str) -> Response {
    let Some((base, head)) = basehead.split_once("...") else {
        return not_found();
    };
    let (Some(base_sha), Some(head_sha)) = (
        w.resolve_ref_ro(repo_id, Some(base)),
        w.resolve_ref_ro(repo_id, Some(head)),
    ) else {
        return not_found();
    };
    let Some(h) = w.history(repo_id) else {
        return not_found();
    };
    let Some(cmp) = h.compare(&base_sha, &head_sha) else {
        return not_found();
    };
    let u = &shared.urls;
    let r = &w.repos[&repo_id];
    let full = w.full_name(r);
    let render = |sha: &str| jd::git_commit(u, w, r, &h.commits[sha]);
    let total = cmp.commits.len();
    // Without paging, GitHub lists at most 250 commits, the newest last.
    let paged = req.query("page").is_some() || req.query("per_page").is_some();
    let (commits, resp) = if paged {
        let list = paginate_with(shared, req, &cmp.commits, |s| render(s));
        let commits: Value = serde_json::from_slice(&list.body).unwrap_or_default();
        (commits, Some(list))
    } else {
        let mut shown: Vec<&String> = cmp.commits.iter().take(249).collect();
        if let Some(last) = cmp.commits.last().filter(|_| total > 249) {
            shown.push(last);
        }
        (shown.into_iter().map(|s| render(s)).collect(), None)
    };
    let merge_base = cmp.merge_base.as_deref().map_or(Value::Null, render);
    let body = json!({
        "url": format!("{}/repos/{full}/compare/{basehead}", u.api),
        "html_url": format!("{}/{full}/compare/{basehead}", u.web),
        "permalink_url": format!("{}/{full}/compare/{}...{}", u.web, base_sha, head_sha),
        "diff_url": format!("{}/{full}/compare/{basehead}.diff", u.web),
        "patch_url": format!("{}/{full}/compare/{basehead}.patch", u.web),
        "base_commit": render(&base_sha),
        "merge_base_commit": merge_base,
        "status": cmp.status,
        "ahead_by": total,
        "behind_by": cmp.behind_by,
        "total_commits": total,
        "commits": commits,
    });
    let mut out = Response::json(200, &body);
    if let Some(link) = resp.and_then(|r| r.headers.into_iter().find(|(k, _)| k == "link")) {
        out = out.header("link", link.1);
    }
    out
}

fn list_issues(shared: &Shared, w: &World, req: &Request, repo_id: u64) -> Response {
    let state = req.query("state").unwrap_or("open");
    if !matches!(state, "open" | "closed" | "all") {
        return validation_failed("state", state);
    }
    let sort = req.query("sort").unwrap_or("created");
    if !matches!(sort, "created" | "updated" | "comments") {
        return validation_failed("sort", sort);
    }
    let direction = req.query("direction").unwrap_or("desc");
    if !matches!(direction, "asc" | "desc") {
        return validation_failed("direction", direction);
    }
    let since = match req.query("since") {
        Some(s) => match clock::parse_iso(s) {
            Some(t) => Some(t),
            None => return validation_failed("since", s),
        },
        None => None,
    };
    // REST's `labels`: every one of them (comma separated).
    let wanted: Vec<String> = req
        .query("labels")
        .map(|l| {
            l.split(',')
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    enum Item<'a> {
        Issue(&'a super::world::Issue),
        Pull(&'a super::world::Pull),
    }
    // (open, labels, created, updated, number)
    fn facts<'a>(i: &Item<'a>) -> (bool, &'a [String], i64, i64, u64) {
        match i {
            Item::Issue(x) => (x.open, &x.labels, x.created_at, x.updated_at, x.number),
            Item::Pull(p) => (p.open, &p.labels, p.created_at, p.updated_at, p.number),
        }
    }
    let mut items: Vec<Item> = w
        .issues
        .range((repo_id, 0)..=(repo_id, u64::MAX))
        .map(|(_, i)| Item::Issue(i))
        .chain(w.repo_pulls(repo_id).map(Item::Pull))
        .filter(|i| {
            let (open, labels, _, updated, _) = facts(i);
            (state == "all" || (state == "open") == open)
                && since.is_none_or(|s| updated >= s)
                && wanted
                    .iter()
                    .all(|l| labels.iter().any(|x| x.to_lowercase() == *l))
        })
        .collect();
    items.sort_by_key(|i| {
        let (_, _, created, updated, number) = facts(i);
        (if sort == "updated" { updated } else { created }, number)
    });
    if direction == "desc" {
        items.reverse();
    }
    let u = &shared.urls;
    paginate_with(shared, req, &items, |i| match i {
        Item::Issue(x) => jd::issue(u, w, x),
        Item::Pull(p) => jd::pull_as_issue(u, w, p),
    })
}

fn unprocessable(message: &str, errors: Value) -> Response {
    Response::json(
        422,
        &json!({ "message": message, "errors": errors, "documentation_url": DOCS, "status": "422" }),
    )
}

/// A POST under `/repos/{owner}/{repo}/deployments`: a deployment, or a status of one.
pub fn post(
    shared: &Arc<Shared>,
    req: &Request,
    user_id: u64,
    repo_id: u64,
    rest: &[&str],
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
        return Response::json(400, &json::error(400, "Problems parsing JSON", DOCS));
    };
    let t = clock::now();
    let str_of = |k: &str| body.get(k).and_then(Value::as_str).map(String::from);
    let mut w = shared.world_mut();
    let login = w.account(user_id).login.clone();
    if !w.members.contains_key(&user_id) {
        return not_found();
    }
    let result = match rest {
        ["deployments"] => {
            let Some(git_ref) = str_of("ref") else {
                return unprocessable(
                    "Invalid request.\n\n\"ref\" wasn't supplied.",
                    json!([{ "resource": "Deployment", "code": "missing_field", "field": "ref" }]),
                );
            };
            let spec = NewDeployment {
                git_ref: Some(git_ref.clone()),
                environment: str_of("environment").unwrap_or_default(),
                task: str_of("task").unwrap_or_default(),
                description: str_of("description").unwrap_or_default(),
                creator: Some(login),
            };
            match w.create_deployment(repo_id, spec, t) {
                Ok((id, events)) => {
                    let v = jd::deployment(&shared.urls, &w, &w.deployments[&id]);
                    Ok((v, events))
                }
                Err(_) => {
                    return Response::json(
                        422,
                        &json!({ "message": format!("No ref found for: {git_ref}"), "documentation_url": DOCS, "status": "422" }),
                    );
                }
            }
        }
        ["deployments", id, "statuses"] => {
            let Some(id) = id
                .parse::<u64>()
                .ok()
                .filter(|id| w.deployments.get(id).is_some_and(|d| d.repo_id == repo_id))
            else {
                return not_found();
            };
            let Some(state) = str_of("state").and_then(|s| DeployState::parse(&s)) else {
                return unprocessable(
                    "Validation Failed",
                    json!([{ "resource": "DeploymentStatus", "code": "invalid", "field": "state" }]),
                );
            };
            let description = str_of("description").unwrap_or_default();
            w.add_deployment_status(
                repo_id,
                id,
                state,
                str_of("environment"),
                &description,
                Some(&login),
                t,
            )
            .map(|(sid, events)| {
                let d = &w.deployments[&id];
                let s = d.statuses.iter().find(|s| s.id == sid).expect("just added");
                (jd::deployment_status(&shared.urls, &w, d, s), events)
            })
        }
        _ => return not_found(),
    };
    drop(w);
    match result {
        Ok((v, events)) => {
            shared.emit(events);
            Response::json(201, &v)
        }
        Err(_) => not_found(),
    }
}
