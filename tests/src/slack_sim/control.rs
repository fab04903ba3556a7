//! `/_sim/`: the tests' hands on the simulator (JSON in, JSON out). Never faulted, limited or
//! counted.
//!
//! | request | does |
//! | --- | --- |
//! | `GET /_sim/state` | team, app, installed, channels (no messages) |
//! | `GET /_sim/token` | `{"token"}`: the first live bot token (for a daemon started apart) |
//! | `POST /_sim/tokens` `{"scopes": [...]}` | mint a bot token: `{"token"}` |
//! | `POST /_sim/tokens/revoke` `{"token"}` or `{"all": true}` | `{"revoked": n}` |
//! | `POST /_sim/tokens/inactive` `{"token", "inactive"}` | the bot user (de)activated |
//! | `POST /_sim/uninstall` | every token revoked: `{"revoked": n}` |
//! | `POST /_sim/channels` `{"name", "private"?, "member"?}` | `{"id"}` |
//! | `POST /_sim/channels/{id or name}` `{"member"?, "archived"?}` | change a channel |
//! | `GET /_sim/channels/{id or name}/messages` | its messages, oldest first, with edits |
//! | `POST /_sim/channels/{id or name}/messages` `{"text", "user"?}` | a person posts |
//! | `GET /_sim/stats`, `POST /_sim/stats/reset` | calls, ok, errors, 429s per method; posts per channel |
//! | `GET`/`POST /_sim/limits` | [`LimitSettings`] |
//! | `GET /_sim/faults`, `POST /_sim/faults` [`FaultRule`], `DELETE /_sim/faults` | faults |
//! | `GET /_sim/oauth`, `POST /_sim/oauth` `{"mode"}` | authorize page: `approve`, `deny`, `hold` |
//! | `POST /_sim/oauth/approve`, `/deny` | release held authorize requests: `{"released": n}` |
//! | `POST /_sim/clock` `{"advance_secs"}` | move the clock (code expiry) |

use super::limits::{FaultRule, LimitSettings};
use super::{OAuthMode, Shared, Stats};
use crate::sim::http::{Request, Response};
use serde_json::{Value, json};

fn ok(v: Value) -> Response {
    Response::json(200, &v)
}

fn bad(msg: &str) -> Response {
    Response::json(400, &json!({ "error": msg }))
}

fn not_found(what: &str) -> Response {
    Response::json(404, &json!({ "error": format!("no such {what}") }))
}

pub fn handle(shared: &Shared, req: Request) -> Response {
    let body: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => return bad(&format!("body is not JSON: {e}")),
        }
    };
    let segs = req.segments();
    match (req.method.as_str(), &segs[1..]) {
        ("GET", ["state"]) => ok(state(shared)),
        ("GET", ["token"]) => {
            let w = shared.world();
            match w.tokens.iter().find(|t| !t.revoked) {
                Some(t) => ok(json!({ "token": t.value.expose() })),
                None => not_found("live token"),
            }
        }
        ("POST", ["tokens"]) => {
            let scopes = strings(&body["scopes"])
                .unwrap_or_else(|| shared.config.installed_scopes.clone().unwrap_or_default());
            let token = shared.new_bot_token();
            ok(json!({ "token": shared.world().mint_token(token, scopes) }))
        }
        ("POST", ["tokens", "revoke"]) => {
            let mut w = shared.world();
            let n = if body["all"].as_bool() == Some(true) {
                w.uninstall()
            } else {
                match body["token"].as_str() {
                    Some(t) => usize::from(w.revoke(t)),
                    None => return bad("token or all"),
                }
            };
            ok(json!({ "revoked": n }))
        }
        ("POST", ["tokens", "inactive"]) => {
            let mut w = shared.world();
            let token = body["token"].as_str().unwrap_or("");
            match w.tokens.iter_mut().find(|t| t.value.expose() == token) {
                Some(t) => {
                    t.inactive = body["inactive"].as_bool().unwrap_or(true);
                    ok(json!({ "inactive": t.inactive }))
                }
                None => not_found("token"),
            }
        }
        ("POST", ["uninstall"]) => ok(json!({ "revoked": shared.world().uninstall() })),
        ("POST", ["channels"]) => {
            let Some(name) = body["name"].as_str() else {
                return bad("name");
            };
            let mut w = shared.world();
            if w.channel(name).is_some() {
                return bad("name_taken");
            }
            let private = body["private"].as_bool().unwrap_or(false);
            let member = body["member"].as_bool().unwrap_or(true);
            let id = w.add_channel(name, private, member, shared.now());
            ok(json!({ "id": id }))
        }
        ("POST", ["channels", key]) => {
            let mut w = shared.world();
            let Some(c) = w.channel_mut(key) else {
                return not_found("channel");
            };
            if let Some(m) = body["member"].as_bool() {
                c.bot_member = m;
            }
            if let Some(a) = body["archived"].as_bool() {
                c.archived = a;
            }
            ok(json!({ "id": c.id, "member": c.bot_member, "archived": c.archived }))
        }
        ("GET", ["channels", key, "messages"]) => {
            let w = shared.world();
            match w.channel(key) {
                Some(c) => ok(json!({ "channel": c.id, "messages": c.messages })),
                None => not_found("channel"),
            }
        }
        ("POST", ["channels", key, "messages"]) => {
            let Some(text) = body["text"].as_str() else {
                return bad("text");
            };
            let mut w = shared.world();
            let user = body["user"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| w.users[0].id.clone());
            let at = shared.now_micros();
            match w.post(key, user, None, text.into(), None, None, at) {
                Some(m) => ok(json!({ "ts": m.ts })),
                None => not_found("channel"),
            }
        }
        ("GET", ["stats"]) => ok(serde_json::to_value(shared.stats().clone()).expect("stats")),
        ("POST", ["stats", "reset"]) => {
            *shared.stats() = Stats::default();
            ok(json!({}))
        }
        ("GET", ["limits"]) => ok(serde_json::to_value(&shared.limits().settings).expect("limits")),
        ("POST", ["limits"]) => match serde_json::from_value::<LimitSettings>(body) {
            Ok(s) => {
                shared.limits().set(s);
                ok(json!({}))
            }
            Err(e) => bad(&format!("limits: {e}")),
        },
        ("GET", ["faults"]) => ok(json!({ "faults": *shared.faults() })),
        ("POST", ["faults"]) => match serde_json::from_value::<FaultRule>(body) {
            Ok(rule) => {
                shared.faults().push(rule);
                ok(json!({}))
            }
            Err(e) => bad(&format!("fault: {e}")),
        },
        ("DELETE", ["faults"]) => {
            shared.faults().clear();
            ok(json!({}))
        }
        ("GET", ["oauth"]) => ok(oauth_state(shared)),
        ("POST", ["oauth"]) => match serde_json::from_value::<OAuthMode>(body["mode"].clone()) {
            Ok(mode) => {
                shared.oauth.set_mode(mode);
                ok(oauth_state(shared))
            }
            Err(e) => bad(&format!("mode: {e}")),
        },
        ("POST", ["oauth", "approve"]) => ok(json!({ "released": shared.oauth.release(true) })),
        ("POST", ["oauth", "deny"]) => ok(json!({ "released": shared.oauth.release(false) })),
        ("POST", ["clock"]) => match body["advance_secs"].as_i64() {
            Some(s) => ok(json!({ "offset_secs": shared.advance_clock(s) })),
            None => bad("advance_secs"),
        },
        _ => not_found("control endpoint"),
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array().map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    })
}

fn oauth_state(shared: &Shared) -> Value {
    json!({ "mode": shared.oauth.mode(), "held": shared.oauth.held() })
}

fn state(shared: &Shared) -> Value {
    let w = shared.world();
    let channels: Vec<Value> = w
        .channels
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "private": c.is_private,
                "archived": c.archived,
                "member": c.bot_member,
                "messages": c.messages.len(),
            })
        })
        .collect();
    json!({
        "team": w.team,
        "app": {
            "id": w.app.id,
            "client_id": w.app.client_id,
            "bot_user_id": w.app.bot_user_id,
            "bot_id": w.app.bot_id,
        },
        "installed": w.installed,
        "users": w.users,
        "channels": channels,
    })
}
