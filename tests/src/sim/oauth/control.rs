//! The control API's levers on OAuth: settings, denying, approving and expiring codes.

use super::{DeviceCode, DeviceStatus, OAuthState, REFRESH_TTL};
use crate::sim::Shared;
use crate::sim::clock;
use crate::sim::http::{Request, Response};
use serde_json::{Value, json};
use std::sync::Arc;

/// `/_sim/oauth...`: None when the path is not ours.
///
/// - `GET /_sim/oauth`: settings, pending authorization codes and device codes.
/// - `POST /_sim/oauth` `{"interval": 0, "auto_approve": 3|null, "token_lifetime": 28800|null,
///   "refresh_token_lifetime": 15811200, "deny_next": true|n, "device_flow": true|false}`: change
///   any of them (absent keys stay as they are); answers like `GET`.
/// - `POST /_sim/oauth/deny`: deny the next authorization (`error=access_denied`).
/// - `POST /_sim/oauth/device/approve` `{"user_code": "ABCD-EFGH", "login": "who"?}`: approve as
///   the viewer (or `login`); `POST /_sim/oauth/device/deny` `{"user_code"}`: deny.
/// - `POST /_sim/oauth/device/expire` `{"user_code"?}`: expire one device code, or all.
/// - `POST /_sim/oauth/codes/expire`: expire every authorization code not yet exchanged.
/// - `POST /_sim/oauth/reset`: forget all of it and go back to the config.
pub fn control(shared: &Arc<Shared>, req: &Request) -> Option<Response> {
    let path = req.path.trim_end_matches('/');
    let rest = path.strip_prefix("/_sim/oauth")?;
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    let fields: Value = if req.body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v @ Value::Object(_)) => v,
            _ => return Some(control_error(400, "body must be a JSON object")),
        }
    };
    let resp = match (req.method.as_str(), rest) {
        ("GET", "") => Response::json(200, &snapshot(shared)),
        ("POST", "") => match settings(shared, &fields) {
            Ok(()) => Response::json(200, &snapshot(shared)),
            Err(msg) => control_error(400, &msg),
        },
        ("POST", "/deny") => {
            shared.oauth().deny_next += 1;
            ok()
        }
        ("POST", "/device/approve") | ("POST", "/device/deny") => {
            let approve = rest.ends_with("approve");
            let user_id = match fields["login"].as_str() {
                Some(login) => match shared.world().account_by_login(login) {
                    Ok(a) => a.id,
                    Err(e) => return Some(control_error(404, &e.to_string())),
                },
                None => shared.world().viewer_id,
            };
            let Some(user_code) = fields["user_code"].as_str() else {
                return Some(control_error(400, "user_code is required"));
            };
            let mut o = shared.oauth();
            let found = o.devices.values_mut().find(|d| {
                d.user_code.eq_ignore_ascii_case(user_code) && d.status == DeviceStatus::Pending
            });
            match found {
                Some(d) => {
                    d.status = if approve {
                        DeviceStatus::Approved(user_id)
                    } else {
                        DeviceStatus::Denied
                    };
                    ok()
                }
                None => control_error(404, &format!("no pending device code {user_code}")),
            }
        }
        ("POST", "/device/expire") => {
            let only = fields["user_code"].as_str();
            let past = clock::now() - 1;
            let mut o = shared.oauth();
            let mut n = 0;
            for d in o.devices.values_mut() {
                if only.is_none_or(|c| d.user_code.eq_ignore_ascii_case(c)) {
                    d.expires_at = past;
                    n += 1;
                }
            }
            Response::json(200, &json!({ "ok": true, "expired": n }))
        }
        ("POST", "/codes/expire") => {
            let past = clock::now() - 1;
            let mut o = shared.oauth();
            for c in o.codes.values_mut() {
                c.expires_at = past;
            }
            ok()
        }
        ("POST", "/reset") => {
            *shared.oauth() = OAuthState::default();
            ok()
        }
        _ => control_error(404, "no such control endpoint"),
    };
    Some(resp)
}

fn ok() -> Response {
    Response::json(200, &json!({ "ok": true }))
}

fn control_error(status: u16, msg: &str) -> Response {
    Response::json(status, &json!({ "message": msg }))
}

/// Optional u64 field: absent → None, null → Some(None), number → Some(Some(n)).
fn opt_u64(v: &Value, key: &str) -> Result<Option<Option<u64>>, String> {
    match v.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(n) => n
            .as_u64()
            .map(|n| Some(Some(n)))
            .ok_or_else(|| format!("{key}: a number of seconds or null")),
    }
}

fn settings(shared: &Shared, f: &Value) -> Result<(), String> {
    let interval = opt_u64(f, "interval")?;
    let auto_approve = opt_u64(f, "auto_approve")?;
    let token_lifetime = opt_u64(f, "token_lifetime")?;
    let refresh_lifetime = opt_u64(f, "refresh_token_lifetime")?;
    let deny_next = match f.get("deny_next") {
        None => None,
        Some(Value::Bool(b)) => Some(u32::from(*b)),
        Some(v) => Some(v.as_u64().ok_or("deny_next: true, false or a count")? as u32),
    };
    let device_flow = match f.get("device_flow") {
        None => None,
        Some(v) => Some(v.as_bool().ok_or("device_flow: true or false")?),
    };
    let mut o = shared.oauth();
    if let Some(i) = interval {
        let i = i.unwrap_or(shared.config.device_interval);
        o.interval = Some(i);
        // Pending codes poll at the new pace too.
        for d in o.devices.values_mut() {
            d.interval = i;
        }
    }
    if let Some(a) = auto_approve {
        o.auto_approve = Some(a.map(|n| n.min(u32::MAX as u64) as u32));
    }
    if let Some(t) = token_lifetime {
        o.token_lifetime = Some(t);
    }
    if let Some(r) = refresh_lifetime {
        o.refresh_lifetime = r;
    }
    if let Some(n) = deny_next {
        o.deny_next = n;
    }
    if let Some(on) = device_flow {
        o.device_flow_disabled = !on;
    }
    Ok(())
}

fn snapshot(shared: &Shared) -> Value {
    let now = clock::now();
    let o = shared.oauth();
    let mut devices: Vec<&DeviceCode> = o.devices.values().collect();
    devices.sort_by_key(|d| d.expires_at);
    let devices: Vec<Value> = devices
        .iter()
        .map(|d| {
            let status = match d.status {
                _ if d.expires_at <= now && d.status != DeviceStatus::Used => "expired",
                DeviceStatus::Pending => "pending",
                DeviceStatus::Approved(_) => "approved",
                DeviceStatus::Denied => "denied",
                DeviceStatus::Used => "used",
            };
            json!({
                "user_code": d.user_code,
                "status": status,
                "polls": d.polls,
                "interval": d.interval,
                "scopes": d.scopes,
                "expires_in": (d.expires_at - now).max(0),
            })
        })
        .collect();
    let codes: Vec<Value> = o
        .codes
        .values()
        .filter(|c| !c.used && c.expires_at > now)
        .map(|c| {
            json!({
                "redirect_uri": c.redirect_uri,
                "scopes": c.scopes,
                "pkce": c.challenge.is_some(),
                "expires_in": c.expires_at - now,
            })
        })
        .collect();
    json!({
        "client_id": shared.config.client_id,
        "interval": o.interval(shared),
        "auto_approve": o.auto_approve(shared),
        "token_lifetime": o.token_lifetime(shared),
        "refresh_token_lifetime": o.refresh_lifetime.unwrap_or(REFRESH_TTL),
        "deny_next": o.deny_next,
        "device_flow": !o.device_flow_disabled,
        "pending_codes": codes,
        "device_codes": devices,
    })
}
