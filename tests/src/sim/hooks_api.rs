//! `/repos/{owner}/{repo}/hooks[/{id}[/config|/pings|/deliveries[/{id}[/attempts]]]]`: GitHub's
//! repository webhooks API. Only the repository's admins (the org's owners, and those made
//! admins of it) may manage hooks; anyone else (or a token without a hook scope) gets 404, as
//! on GitHub. Its request parsing and deliveries API are shared with `org_hooks.rs`.

use super::Shared;
use super::api::{Caller, DOCS};
use super::clock::{iso, now};
use super::http::{Request, Response};
use super::json;
use super::rest::{not_found, paginate};
use super::webhooks::Job;
use super::world::{Delivery, Event, Hook, World};
use serde_json::{Map, Value, json};
use std::sync::Arc;

const HOOKS_DOCS: &str = "https://docs.github.com/rest/repos/webhooks";
const ACCEPTED_SCOPES: &str = "admin:repo_hook, read:repo_hook, repo, write:repo_hook";

/// `rest` is the path after `/repos/{owner}/{repo}/hooks`.
pub async fn handle(
    shared: &Arc<Shared>,
    req: &Request,
    caller: &Caller,
    repo_id: u64,
    rest: &[&str],
) -> Response {
    let method = req.method.as_str();
    if !allowed(shared, caller, repo_id, method) {
        return not_found().header("x-accepted-oauth-scopes", ACCEPTED_SCOPES);
    }
    let resp = route(shared, req, caller, repo_id, method, rest);
    resp.header("x-accepted-oauth-scopes", ACCEPTED_SCOPES)
}

/// An admin of the repository with a scope that covers the method.
fn allowed(shared: &Shared, caller: &Caller, repo_id: u64, method: &str) -> bool {
    let admin = shared.world().is_repo_admin(caller.user_id, repo_id);
    let scopes: &[&str] = match method {
        "GET" | "HEAD" => &[
            "repo",
            "admin:repo_hook",
            "write:repo_hook",
            "read:repo_hook",
        ],
        "DELETE" => &["repo", "admin:repo_hook"],
        _ => &["repo", "admin:repo_hook", "write:repo_hook"],
    };
    admin && caller.scopes.iter().any(|s| scopes.contains(&s.as_str()))
}

fn route(
    shared: &Arc<Shared>,
    req: &Request,
    caller: &Caller,
    repo_id: u64,
    method: &str,
    rest: &[&str],
) -> Response {
    let (hook_id, tail) = match rest {
        [] => {
            return match method {
                "GET" => {
                    let w = shared.world();
                    let items = w
                        .hooks_of(repo_id)
                        .map(|h| json::hook(&shared.urls, &w, h))
                        .collect();
                    drop(w);
                    paginate(shared, req, items)
                }
                "POST" => create(shared, req, caller, repo_id),
                _ => not_found(),
            };
        }
        [id, tail @ ..] => match id.parse::<u64>() {
            Ok(id) => (id, tail),
            Err(_) => return not_found(),
        },
    };
    // The hook must belong to this repository.
    if shared
        .world()
        .hooks
        .get(&hook_id)
        .is_none_or(|h| h.repo_id != repo_id)
    {
        return not_found();
    }
    match (method, tail) {
        ("GET", []) => {
            let w = shared.world();
            Response::json(200, &json::hook(&shared.urls, &w, &w.hooks[&hook_id]))
        }
        ("PATCH", []) => update(shared, req, hook_id, false),
        ("DELETE", []) => {
            shared.world_mut().hooks.remove(&hook_id);
            shared.deliverer.forget(hook_id);
            Response::new(204)
        }
        ("GET", ["config"]) => {
            let w = shared.world();
            let hook = json::hook(&shared.urls, &w, &w.hooks[&hook_id]);
            Response::json(200, &hook["config"])
        }
        ("PATCH", ["config"]) => update(shared, req, hook_id, true),
        ("POST", ["pings"]) => {
            ping(shared, repo_id, hook_id, caller.user_id);
            Response::new(204)
        }
        ("GET", ["deliveries"]) => list_deliveries(shared, req, hook_id),
        ("GET", ["deliveries", id]) => match id.parse::<u64>() {
            Ok(id) => match find_delivery(&shared.world(), hook_id, id) {
                Some(d) => Response::json(200, &delivery_detail(&d)),
                None => not_found(),
            },
            Err(_) => not_found(),
        },
        ("POST", ["deliveries", id, "attempts"]) => match id.parse::<u64>() {
            Ok(id) => redeliver(shared, hook_id, id),
            Err(_) => not_found(),
        },
        _ => not_found(),
    }
}

/// Send `ping` to one hook (on creation and on `POST .../pings`).
fn ping(shared: &Arc<Shared>, repo_id: u64, hook_id: u64, sender: u64) {
    shared.emit(vec![Event {
        name: "ping".into(),
        repo_id,
        payload: json!({ "hook_id": hook_id, "sender_id": sender }),
    }]);
}

pub(super) fn body_json(req: &Request) -> Result<Map<String, Value>, Response> {
    if req.body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(Response::json(
            400,
            &json::error(400, "Problems parsing JSON", DOCS),
        )),
    }
}

/// GitHub's 422 with one error.
pub(super) fn invalid(error: Value) -> Response {
    Response::json(
        422,
        &json!({
            "message": "Validation Failed",
            "errors": [error],
            "documentation_url": format!("{HOOKS_DOCS}#create-a-repository-webhook"),
            "status": "422",
        }),
    )
}

/// `events`, `add_events`, `remove_events`: a list of strings.
pub(super) fn string_list(v: &Value, field: &str) -> Result<Option<Vec<String>>, Response> {
    match v {
        Value::Null => Ok(None),
        Value::Array(a) if a.iter().all(Value::is_string) => Ok(Some(
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect(),
        )),
        _ => Err(invalid(
            json!({ "resource": "Hook", "code": "invalid", "field": field }),
        )),
    }
}

/// A hook's `config` fields, validated. Absent fields are None.
pub(super) struct ConfigIn {
    pub(super) url: Option<String>,
    pub(super) content_type: Option<String>,
    pub(super) secret: Option<String>,
    pub(super) insecure_ssl: Option<String>,
}

pub(super) fn config_in(v: &Value) -> Result<ConfigIn, Response> {
    let url = v["url"].as_str().map(String::from);
    if let Some(u) = &url {
        let parsed = url::Url::parse(u);
        if !parsed.is_ok_and(|p| p.scheme() == "http" || p.scheme() == "https") {
            return Err(invalid(
                json!({ "resource": "Hook", "code": "custom", "message": format!("Url is not a valid URL: {u}") }),
            ));
        }
    }
    let content_type = match &v["content_type"] {
        Value::Null => None,
        Value::String(s) if s == "json" || s == "form" => Some(s.clone()),
        _ => {
            return Err(invalid(
                json!({ "resource": "Hook", "code": "invalid", "field": "content_type" }),
            ));
        }
    };
    let insecure_ssl = match &v["insecure_ssl"] {
        Value::Null => None,
        Value::String(s) if s == "0" || s == "1" => Some(s.clone()),
        Value::Number(n) if n.as_u64() == Some(0) || n.as_u64() == Some(1) => Some(n.to_string()),
        _ => {
            return Err(invalid(
                json!({ "resource": "Hook", "code": "invalid", "field": "insecure_ssl" }),
            ));
        }
    };
    let secret = v["secret"].as_str().map(String::from);
    Ok(ConfigIn {
        url,
        content_type,
        secret,
        insecure_ssl,
    })
}

fn already_exists() -> Response {
    invalid(json!({
        "resource": "Hook",
        "code": "custom",
        "message": "Hook already exists on this repository",
    }))
}

/// `POST /repos/{o}/{r}/hooks`: 201 with the hook, then a `ping` to it.
fn create(shared: &Arc<Shared>, req: &Request, caller: &Caller, repo_id: u64) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if let Some(name) = body.get("name")
        && name != "web"
    {
        return invalid(json!({ "resource": "Hook", "code": "invalid", "field": "name" }));
    }
    let config = body.get("config").cloned().unwrap_or(Value::Null);
    if !config.is_object() {
        return invalid(json!({ "resource": "Hook", "code": "missing_field", "field": "config" }));
    }
    let cfg = match config_in(&config) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(url) = cfg.url else {
        return invalid(
            json!({ "resource": "Hook", "code": "custom", "message": "url wasn't supplied" }),
        );
    };
    let events = match string_list(body.get("events").unwrap_or(&Value::Null), "events") {
        Ok(e) => e.unwrap_or_else(|| vec!["push".into()]),
        Err(r) => return r,
    };
    let active = match body.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return invalid(json!({ "resource": "Hook", "code": "invalid", "field": "active" }));
        }
    };
    let (hook_id, resp) = {
        let mut w = shared.world_mut();
        if w.hooks_of(repo_id).any(|h| h.url == url) {
            return already_exists();
        }
        let id = w.next_id(crate::sim::world::IdKind::Hook);
        let t = now();
        w.hooks.insert(
            id,
            Hook {
                id,
                repo_id,
                url,
                // GitHub's default is form.
                content_type: cfg.content_type.unwrap_or_else(|| "form".into()),
                secret: cfg.secret.filter(|s| !s.is_empty()),
                insecure_ssl: cfg.insecure_ssl.unwrap_or_else(|| "0".into()),
                events: dedup(events),
                active,
                created_at: t,
                updated_at: t,
                last_response: None,
            },
        );
        let hook = json::hook(&shared.urls, &w, &w.hooks[&id]);
        let location = hook["url"].as_str().unwrap_or_default().to_string();
        (id, Response::json(201, &hook).header("location", location))
    };
    ping(shared, repo_id, hook_id, caller.user_id);
    resp
}

pub(super) fn dedup(events: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events {
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

/// `PATCH .../hooks/{id}` (or `.../config` with `config_only`). As GitHub documents, a new
/// `config` replaces the old one: a secret not given again is removed. `.../config` merges.
fn update(shared: &Arc<Shared>, req: &Request, hook_id: u64, config_only: bool) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let config = if config_only {
        Some(Value::Object(body.clone()))
    } else {
        body.get("config").cloned().filter(|c| !c.is_null())
    };
    let cfg = match config.as_ref().map(config_in).transpose() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let field = |name: &str| string_list(body.get(name).unwrap_or(&Value::Null), name);
    let (events, add, remove) = match (field("events"), field("add_events"), field("remove_events"))
    {
        (Ok(e), Ok(a), Ok(r)) if !config_only => (e, a, r),
        (Ok(_), Ok(_), Ok(_)) => (None, None, None),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
    };
    let active = match body.get("active") {
        _ if config_only => None,
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return invalid(json!({ "resource": "Hook", "code": "invalid", "field": "active" }));
        }
    };
    let mut w = shared.world_mut();
    let w = &mut *w;
    if let Some(url) = cfg.as_ref().and_then(|c| c.url.as_ref())
        && w.hooks
            .values()
            .any(|h| h.id != hook_id && h.repo_id == w.hooks[&hook_id].repo_id && &h.url == url)
    {
        return already_exists();
    }
    let hook = w.hooks.get_mut(&hook_id).expect("checked by the caller");
    if let Some(c) = cfg {
        if !config_only && c.url.is_none() {
            return invalid(
                json!({ "resource": "Hook", "code": "custom", "message": "url wasn't supplied" }),
            );
        }
        if let Some(url) = c.url {
            hook.url = url;
        }
        if let Some(ct) = c.content_type {
            hook.content_type = ct;
        }
        if let Some(ssl) = c.insecure_ssl {
            hook.insecure_ssl = ssl;
        }
        if c.secret.is_some() || !config_only {
            hook.secret = c.secret.filter(|s| !s.is_empty());
        }
    }
    if let Some(e) = events {
        hook.events = dedup(e);
    }
    if let Some(a) = add {
        let mut all = std::mem::take(&mut hook.events);
        all.extend(a);
        hook.events = dedup(all);
    }
    if let Some(r) = remove {
        hook.events.retain(|e| !r.contains(e));
    }
    if let Some(a) = active {
        hook.active = a;
    }
    hook.updated_at = now();
    let v = json::hook(&shared.urls, w, &w.hooks[&hook_id]);
    if config_only {
        Response::json(200, &v["config"])
    } else {
        Response::json(200, &v)
    }
}

pub(super) fn find_delivery(w: &World, hook_id: u64, id: u64) -> Option<Delivery> {
    w.deliveries
        .iter()
        .find(|d| d.id == id && d.hook_id == hook_id)
        .cloned()
}

/// A delivery as the list shows it.
pub fn delivery_summary(d: &Delivery) -> Value {
    json!({
        "id": d.id,
        "guid": d.guid,
        "delivered_at": iso(d.delivered_at),
        "redelivery": d.redelivery,
        "duration": d.duration_ms as f64 / 1000.0,
        "status": d.status,
        "status_code": d.status_code,
        "event": d.event,
        "action": d.action,
        "installation_id": null,
        "repository_id": d.repo_id,
        "throttled_at": null,
    })
}

fn header_map(headers: &[(String, String)]) -> Value {
    Value::Object(
        headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// One delivery with its request and response.
pub fn delivery_detail(d: &Delivery) -> Value {
    let mut v = delivery_summary(d);
    let payload: Value = serde_json::from_slice(&d.payload).unwrap_or(Value::Null);
    json::merge(
        &mut v,
        json!({
            "url": d.url,
            "request": { "headers": header_map(&d.request_headers), "payload": payload },
            "response": { "headers": header_map(&d.response_headers), "payload": d.response_body },
        }),
    );
    v
}

/// Newest first, `per_page` (at most 100) at a time, continued with GitHub's opaque `cursor`.
pub(super) fn list_deliveries(shared: &Shared, req: &Request, hook_id: u64) -> Response {
    let per_page = req
        .query("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(30)
        .min(100);
    let before = match req.query("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match c.strip_prefix("v1_").and_then(|n| n.parse::<u64>().ok()) {
            Some(id) => Some(id),
            None => {
                return Response::json(
                    400,
                    &json::error(
                        400,
                        "Invalid cursor",
                        &format!("{HOOKS_DOCS}#list-deliveries-for-a-repository-webhook"),
                    ),
                );
            }
        },
    };
    let redelivery = req.query("redelivery").map(|v| v == "true");
    let w = shared.world();
    let mut all: Vec<&Delivery> = w
        .deliveries
        .iter()
        .filter(|d| d.hook_id == hook_id)
        .filter(|d| before.is_none_or(|b| d.id < b))
        .filter(|d| redelivery.is_none_or(|r| d.redelivery == r))
        .collect();
    all.sort_by_key(|d| std::cmp::Reverse(d.id));
    let page: Vec<Value> = all
        .iter()
        .take(per_page)
        .map(|d| delivery_summary(d))
        .collect();
    let mut resp = Response::json(200, &Value::Array(page));
    if all.len() > per_page {
        let last = all[per_page - 1].id;
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in req.query.iter().filter(|(k, _)| k != "cursor") {
            q.append_pair(k, v);
        }
        q.append_pair("cursor", &format!("v1_{last}"));
        resp = resp.header(
            "link",
            format!(
                "<{}{}?{}>; rel=\"next\"",
                shared.urls.api,
                req.path,
                q.finish()
            ),
        );
    }
    resp
}

/// `POST .../deliveries/{id}/attempts`: the same payload and GUID again, to the hook as it is now.
pub(super) fn redeliver(shared: &Arc<Shared>, hook_id: u64, delivery_id: u64) -> Response {
    let job = {
        let w = shared.world();
        let Some(d) = find_delivery(&w, hook_id, delivery_id) else {
            return not_found();
        };
        let Some(hook) = w.any_hook(hook_id) else {
            return not_found();
        };
        Job {
            hook_id,
            repo_id: d.repo_id,
            org_id: w.org().id,
            url: hook.url.clone(),
            content_type: hook.content_type.clone(),
            secret: hook.secret.clone(),
            guid: d.guid,
            event: d.event,
            action: d.action,
            payload: d.payload,
            redelivery: true,
        }
    };
    shared.deliverer.enqueue(shared, job);
    Response::json(202, &json!({}))
}
