//! `/orgs/{org}/hooks[/{id}[/config|/pings|/deliveries[/{id}[/attempts]]]]`: GitHub's
//! organization webhooks API. Only an owner of the org with the `admin:org_hook` scope may use
//! it; anyone else gets 404, as on GitHub. Organization hooks get the org's `organization`
//! events (members added and removed), which repository hooks never do.

use super::Shared;
use super::api::Caller;
use super::clock::now;
use super::hooks_api::{
    body_json, config_in, dedup, find_delivery, invalid, list_deliveries, redeliver, string_list,
};
use super::http::{Request, Response};
use super::json;
use super::rest::{not_found, paginate};
use super::world::{Event, Hook, ORG_LEVEL};
use serde_json::{Value, json};
use std::sync::Arc;

const ACCEPTED_SCOPES: &str = "admin:org_hook";

/// `rest` is the path after `/orgs/{org}/hooks`.
pub async fn handle(
    shared: &Arc<Shared>,
    req: &Request,
    caller: &Caller,
    rest: &[&str],
) -> Response {
    let owner = shared.world().is_owner(caller.user_id);
    let scoped = caller.scopes.iter().any(|s| s == ACCEPTED_SCOPES);
    if !(owner && scoped) {
        return not_found().header("x-accepted-oauth-scopes", ACCEPTED_SCOPES);
    }
    route(shared, req, caller, rest).header("x-accepted-oauth-scopes", ACCEPTED_SCOPES)
}

fn route(shared: &Arc<Shared>, req: &Request, caller: &Caller, rest: &[&str]) -> Response {
    let method = req.method.as_str();
    let (hook_id, tail) = match rest {
        [] => {
            return match method {
                "GET" => {
                    let w = shared.world();
                    let items = w
                        .org_hooks
                        .values()
                        .map(|h| json::org_hook(&shared.urls, &w, h))
                        .collect();
                    drop(w);
                    paginate(shared, req, items)
                }
                "POST" => create(shared, req, caller),
                _ => not_found(),
            };
        }
        [id, tail @ ..] => match id.parse::<u64>() {
            Ok(id) if shared.world().org_hooks.contains_key(&id) => (id, tail),
            _ => return not_found(),
        },
    };
    match (method, tail) {
        ("GET", []) => {
            let w = shared.world();
            Response::json(
                200,
                &json::org_hook(&shared.urls, &w, &w.org_hooks[&hook_id]),
            )
        }
        ("PATCH", []) => update(shared, req, hook_id, false),
        ("DELETE", []) => {
            shared.world_mut().org_hooks.remove(&hook_id);
            shared.deliverer.forget(hook_id);
            Response::new(204)
        }
        ("GET", ["config"]) => {
            let w = shared.world();
            let hook = json::org_hook(&shared.urls, &w, &w.org_hooks[&hook_id]);
            Response::json(200, &hook["config"])
        }
        ("PATCH", ["config"]) => update(shared, req, hook_id, true),
        ("POST", ["pings"]) => {
            ping(shared, hook_id, caller.user_id);
            Response::new(204)
        }
        ("GET", ["deliveries"]) => list_deliveries(shared, req, hook_id),
        ("GET", ["deliveries", id]) => match id.parse::<u64>() {
            Ok(id) => match find_delivery(&shared.world(), hook_id, id) {
                Some(d) => Response::json(200, &super::hooks_api::delivery_detail(&d)),
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

fn ping(shared: &Arc<Shared>, hook_id: u64, sender: u64) {
    shared.emit(vec![Event {
        name: "ping".into(),
        repo_id: ORG_LEVEL,
        payload: json!({ "hook_id": hook_id, "sender_id": sender }),
    }]);
}

fn already_exists() -> Response {
    invalid(json!({
        "resource": "Hook",
        "code": "custom",
        "message": "Hook already exists on this organization",
    }))
}

/// `POST /orgs/{org}/hooks`: 201 with the hook, then a `ping` to it.
fn create(shared: &Arc<Shared>, req: &Request, caller: &Caller) -> Response {
    let body = match body_json(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    if body.get("name").and_then(Value::as_str) != Some("web") {
        // GitHub: an organization hook's name must be "web" (and must be given).
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
        if w.org_hooks.values().any(|h| h.url == url) {
            return already_exists();
        }
        let id = w.next_id(crate::sim::world::IdKind::Hook);
        let t = now();
        w.org_hooks.insert(
            id,
            Hook {
                id,
                repo_id: ORG_LEVEL,
                url,
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
        let hook = json::org_hook(&shared.urls, &w, &w.org_hooks[&id]);
        let location = hook["url"].as_str().unwrap_or_default().to_string();
        (id, Response::json(201, &hook).header("location", location))
    };
    ping(shared, hook_id, caller.user_id);
    resp
}

/// `PATCH /orgs/{org}/hooks/{id}` (events, active, config) or `.../config` (merged).
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
    let events = if config_only {
        None
    } else {
        match string_list(body.get("events").unwrap_or(&Value::Null), "events") {
            Ok(e) => e,
            Err(r) => return r,
        }
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
        && w.org_hooks
            .values()
            .any(|h| h.id != hook_id && &h.url == url)
    {
        return already_exists();
    }
    let hook = w
        .org_hooks
        .get_mut(&hook_id)
        .expect("checked by the caller");
    if let Some(c) = cfg {
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
    if let Some(a) = active {
        hook.active = a;
    }
    hook.updated_at = now();
    let v = json::org_hook(&shared.urls, w, &w.org_hooks[&hook_id]);
    if config_only {
        Response::json(200, &v["config"])
    } else {
        Response::json(200, &v)
    }
}
