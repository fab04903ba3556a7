//! `/_sim/`: the tests' hands on the simulator. Mutate the org (each change sends the webhooks
//! GitHub would), switch faults on, read stats, and export the whole truth as JSON.
//! Never faulted, never rate-limited, never counted.

use super::clock::{iso, now};
use super::http::{Request, Response};
use super::world::{NewPull, OrgRole, ReviewState, World, WorldError};
use super::{Faults, Shared};
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn handle(shared: &Arc<Shared>, req: Request) -> Response {
    if let Some(r) = super::oauth::control(shared, &req) {
        return r;
    }
    let segs = req.segments();
    let fields: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => return bad(&format!("body is not JSON: {e}")),
        }
    };
    let method = req.method.as_str();
    match (method, &segs[1..]) {
        ("GET", ["stats"]) => Response::json(
            200,
            &serde_json::to_value(shared.stats().clone()).expect("stats"),
        ),
        ("POST", ["stats", "reset"]) => {
            *shared.stats() = super::Stats::default();
            ok(json!({}))
        }
        ("GET", ["truth"]) => Response::json(200, &truth(&shared.world())),
        ("GET", ["faults"]) => Response::json(
            200,
            &serde_json::to_value(shared.faults().clone()).expect("faults"),
        ),
        ("POST", ["faults"]) => match serde_json::from_value::<Faults>(fields) {
            Ok(f) => {
                *shared.faults() = f;
                ok(json!({}))
            }
            Err(e) => bad(&format!("faults: {e}")),
        },
        ("POST", ["limits", "reset"]) => {
            shared.limits().reset();
            ok(json!({}))
        }
        ("POST", ["tokens"]) => {
            let login = str_field(&fields, "login").unwrap_or_default();
            let scopes = fields["scopes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_else(|| vec!["repo".into(), "read:org".into(), "read:user".into()]);
            match super::oauth::mint_token(shared, &login, scopes) {
                Ok(token) => ok(json!({ "token": token })),
                Err(e) => world_error(e),
            }
        }
        ("POST", ["tokens", "scopes"]) => {
            // Change what the tokens of `login` (default: the viewer) may do, as if they had
            // been granted these scopes: `{"login"?: "...", "scopes": ["read:user"]}`.
            let Some(scopes) = fields["scopes"].as_array().map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect::<Vec<_>>()
            }) else {
                return bad("scopes: a list of scope names");
            };
            let mut w = shared.world_mut();
            let user_id = match str_field(&fields, "login") {
                Some(login) => match w.account_by_login(&login) {
                    Ok(a) => a.id,
                    Err(e) => return world_error(e),
                },
                None => w.viewer_id,
            };
            let mut n = 0;
            for t in w.tokens.values_mut() {
                if t.user_id == user_id && !t.revoked {
                    t.scopes = scopes.clone();
                    n += 1;
                }
            }
            ok(json!({ "changed": n }))
        }
        ("POST", ["org"]) => {
            // `{"oauth_app_restrictions": true}`: the org restricts OAuth apps (and has not
            // approved ours): its REST resources answer GitHub's 403.
            let mut w = shared.world_mut();
            if let Some(on) = fields["oauth_app_restrictions"].as_bool() {
                w.oauth_restricted = on;
            }
            ok(json!({ "oauth_app_restrictions": w.oauth_restricted }))
        }
        ("POST", ["tokens", "revoke"]) => {
            let all = fields["all"].as_bool().unwrap_or(false);
            let token = str_field(&fields, "token");
            let mut w = shared.world_mut();
            let mut n = 0;
            for (t, info) in w.tokens.iter_mut() {
                if all || token.as_deref() == Some(t.as_str()) {
                    info.revoked = true;
                    n += 1;
                }
            }
            ok(json!({ "revoked": n }))
        }
        _ => mutate(shared, method, &segs[1..], &fields),
    }
}

/// Changes to the org; each sends its webhooks.
fn mutate(shared: &Arc<Shared>, method: &str, segs: &[&str], f: &Value) -> Response {
    let t = now();
    let result: Result<(Value, Vec<super::world::Event>), WorldError> = {
        let mut w = shared.world_mut();
        let w = &mut *w;
        match (method, segs) {
            ("POST", ["orgs"]) => {
                let login = str_field(f, "login").unwrap_or_default();
                if login.is_empty() || w.org().login.eq_ignore_ascii_case(&login) {
                    Err(WorldError::Invalid(
                        "login: a new organization login".into(),
                    ))
                } else {
                    let id = w.next_id(crate::sim::world::IdKind::Account);
                    w.other_orgs.push(super::world::Org {
                        id,
                        name: login.clone(),
                        login,
                        created_at: t,
                    });
                    Ok((json!({ "id": id }), Vec::new()))
                }
            }
            ("POST", ["members"]) => {
                let role = if str_field(f, "role").as_deref() == Some("admin") {
                    OrgRole::Admin
                } else {
                    OrgRole::Member
                };
                let login = str_field(f, "login").unwrap_or_default();
                w.add_member(&login, role, t).map(|ev| (json!({}), ev))
            }
            ("DELETE", ["members", login]) => w.remove_member(login).map(|ev| (json!({}), ev)),
            ("POST", ["repos"]) => {
                let name = str_field(f, "name").unwrap_or_default();
                w.create_repo(&name, f["private"].as_bool().unwrap_or(false), t)
                    .map(|(id, ev)| (json!({ "id": id }), ev))
            }
            (_, ["repos", name, rest @ ..]) => {
                let org = w.org().login.clone();
                match w.repo_by_name(&org, name).map(|r| r.id) {
                    Ok(repo_id) => repo_mutation(w, method, repo_id, rest, f, t),
                    Err(e) => Err(e),
                }
            }
            ("DELETE", ["hooks", id]) => {
                // Deleted on GitHub's side, with no event (as when an admin removes it): a
                // repository's hook or the organization's.
                let id: u64 = id.parse().unwrap_or(0);
                match w.hooks.remove(&id).or_else(|| w.org_hooks.remove(&id)) {
                    Some(_) => Ok((json!({}), Vec::new())),
                    None => Err(WorldError::NotFound(format!("hook {id}"))),
                }
            }
            _ => return Response::json(404, &json!({ "message": "no such control endpoint" })),
        }
    };
    match result {
        Ok((body, events)) => {
            shared.emit(events);
            ok(body)
        }
        Err(e) => world_error(e),
    }
}

fn repo_mutation(
    w: &mut World,
    method: &str,
    repo_id: u64,
    rest: &[&str],
    f: &Value,
    t: i64,
) -> Result<(Value, Vec<super::world::Event>), WorldError> {
    if let Some(out) = super::control_delivery::mutation(w, method, repo_id, rest, f, t) {
        return out;
    }
    let none = || json!({});
    match (method, rest) {
        ("DELETE", []) => w.delete_repo(repo_id).map(|(_, ev)| (none(), ev)),
        ("POST", ["rename"]) => {
            let name = str_field(f, "name")
                .ok_or_else(|| WorldError::Invalid("name is required".into()))?;
            w.rename_repo(repo_id, &name, t).map(|ev| (none(), ev))
        }
        ("POST", ["collaborators"]) => {
            // `{"login": "...", "permission": "admin" | "write"}`: the repository's hooks get
            // `member` `added`.
            let login = str_field(f, "login")
                .ok_or_else(|| WorldError::Invalid("login is required".into()))?;
            let admin = str_field(f, "permission").as_deref() == Some("admin");
            w.add_collaborator(repo_id, &login, admin)
                .map(|ev| (none(), ev))
        }
        ("DELETE", ["collaborators", login]) => {
            w.remove_collaborator(repo_id, login).map(|ev| (none(), ev))
        }
        ("POST", ["archive"]) => w
            .set_archived(repo_id, f["archived"].as_bool().unwrap_or(true), t)
            .map(|ev| (none(), ev)),
        ("POST", ["pulls"]) => {
            let spec = NewPull {
                author: str_field(f, "author")
                    .unwrap_or_else(|| w.account(w.viewer_id).login.clone()),
                title: str_field(f, "title").unwrap_or_else(|| "A change".into()),
                body: str_field(f, "body").unwrap_or_default(),
                draft: f["draft"].as_bool().unwrap_or(false),
                commits: f["commits"].as_u64().unwrap_or(1),
            };
            w.open_pull(repo_id, spec, t)
                .map(|(n, ev)| (json!({ "number": n }), ev))
        }
        ("POST", ["pulls", n, action]) => {
            let n: u64 = n
                .parse()
                .map_err(|_| WorldError::NotFound(format!("pull request {n}")))?;
            let login = |key: &str| str_field(f, key);
            let ev = match *action {
                "edit" => w.edit_pull(repo_id, n, &login("title").unwrap_or_default(), t)?,
                "close" => w.close_pull(repo_id, n, t)?,
                "merge" => {
                    let by = login("by").unwrap_or_else(|| w.account(w.viewer_id).login.clone());
                    w.merge_pull(repo_id, n, &by, t)?
                }
                "reopen" => w.reopen_pull(repo_id, n, t)?,
                "draft" => w.set_draft(repo_id, n, true, t)?,
                "ready" => w.set_draft(repo_id, n, false, t)?,
                "push" => w.push_commits(
                    repo_id,
                    n,
                    f["commits"].as_u64().unwrap_or(1),
                    login("author").as_deref(),
                    t,
                )?,
                "review" => {
                    let state = login("state")
                        .and_then(|s| ReviewState::parse(&s))
                        .ok_or_else(|| {
                            WorldError::Invalid(
                                "state: approved, changes_requested or commented".into(),
                            )
                        })?;
                    let user = login("user")
                        .ok_or_else(|| WorldError::Invalid("user is required".into()))?;
                    let (id, ev) = w.submit_review(
                        repo_id,
                        n,
                        &user,
                        state,
                        &login("body").unwrap_or_default(),
                        t,
                    )?;
                    return Ok((json!({ "id": id }), ev));
                }
                "dismiss" => {
                    let id = f["review_id"]
                        .as_u64()
                        .ok_or_else(|| WorldError::Invalid("review_id is required".into()))?;
                    w.dismiss_review(repo_id, n, id, t)?
                }
                other => {
                    return Err(WorldError::Invalid(format!(
                        "unknown pull request action {other}"
                    )));
                }
            };
            Ok((none(), ev))
        }
        _ => Err(WorldError::NotFound("control endpoint".into())),
    }
}

/// The whole truth, for comparing a daemon's store against.
pub fn truth(w: &World) -> Value {
    let org = w.org();
    let accounts: Vec<Value> = w
        .accounts
        .values()
        .map(|a| {
            json!({
                "id": a.id, "login": a.login, "name": a.name, "email": a.email, "is_bot": a.is_bot,
                "role": w.members.get(&a.id).map(|r| r.as_str()),
            })
        })
        .collect();
    let repos: Vec<Value> = w
        .repos
        .values()
        .map(|r| {
            json!({
                "id": r.id, "name": r.name, "full_name": w.full_name(r), "private": r.private,
                "archived": r.archived, "created_at": iso(r.created_at), "pushed_at": iso(r.pushed_at),
                "default_branch": r.default_branch,
            })
        })
        .collect();
    let pulls: Vec<Value> = w
        .pulls
        .values()
        .map(|p| {
            json!({
                "id": p.id, "repo_id": p.repo_id, "number": p.number, "title": p.title,
                "author_id": p.user_id, "state": p.graphql_state(), "draft": p.draft,
                "created_at": p.created_at, "updated_at": p.updated_at, "closed_at": p.closed_at,
                "merged_at": p.merged_at, "merged_by": p.merged_by,
                "merge_commit_sha": p.merge_commit_sha,
                "merge_method": p.merge_method.map(|m| m.as_str()),
                "head_ref": p.head_ref, "base_ref": p.base_ref, "labels": p.labels,
                "additions": p.additions(), "deletions": p.deletions(),
                "timeline": p.timeline.iter().map(|e| json!({
                    "kind": format!("{:?}", e.kind), "at": e.at, "actor_id": e.actor_id,
                })).collect::<Vec<_>>(),
                "reviews": p.reviews.iter().map(|r| json!({
                    "id": r.id, "user_id": r.user_id, "state": r.state.upper(), "submitted_at": r.submitted_at,
                })).collect::<Vec<_>>(),
                "commits": p.commits.iter().map(|c| json!({
                    "sha": c.sha, "author_email": c.author_email, "author_user_id": c.author_user_id,
                    "authored_at": c.authored_at, "committed_at": c.committed_at,
                    "additions": c.additions, "deletions": c.deletions,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let hooks: Vec<Value> = w
        .hooks
        .values()
        .map(|h| {
            json!({
                "id": h.id, "repo_id": h.repo_id, "url": h.url, "content_type": h.content_type,
                "secret": h.secret, "events": h.events, "active": h.active,
            })
        })
        .collect();
    let org_hooks: Vec<Value> = w
        .org_hooks
        .values()
        .map(|h| {
            json!({
                "id": h.id, "url": h.url, "content_type": h.content_type, "secret": h.secret,
                "events": h.events, "active": h.active,
            })
        })
        .collect();
    let mut truth = json!({
        "org": {
            "id": org.id, "login": org.login, "name": org.name,
            "oauth_app_restrictions": w.oauth_restricted,
        },
        "org_hooks": org_hooks,
        "viewer_id": w.viewer_id,
        "accounts": accounts,
        "repos": repos,
        "pulls": pulls,
        "hooks": hooks,
        "deliveries": w.deliveries.len(),
    });
    super::json::merge(&mut truth, super::control_delivery::truth(w));
    truth
}

fn str_field(f: &Value, key: &str) -> Option<String> {
    f.get(key).and_then(|v| v.as_str()).map(String::from)
}

fn ok(mut body: Value) -> Response {
    if let Value::Object(m) = &mut body {
        m.insert("ok".into(), Value::Bool(true));
    }
    Response::json(200, &body)
}

fn bad(msg: &str) -> Response {
    Response::json(400, &json!({ "message": msg }))
}

fn world_error(e: WorldError) -> Response {
    let status = match e {
        WorldError::NotFound(_) => 404,
        WorldError::Invalid(_) => 422,
    };
    Response::json(status, &json!({ "message": e.to_string() }))
}
