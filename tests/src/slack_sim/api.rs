//! The Web API's frame (`/api/<method>`: arguments, token, scopes, limits, faults, the answer's
//! shape) and the read methods: `auth.test`, `auth.revoke`, `conversations.list`,
//! `conversations.history`.

use super::Shared;
use super::limits::{FaultKind, take_fault};
use super::world::{Token, World, parse_ts};
use crate::sim::http::{Fault, Request, Response};
use base64::Engine;
use serde_json::{Map, Value, json};

/// A failed call: `{"ok": false, "error": error, ...extra}`, HTTP 429 when rate-limited.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub error: String,
    pub extra: Map<String, Value>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(error: &str) -> ApiError {
        ApiError {
            error: error.into(),
            extra: Map::new(),
            retry_after: None,
        }
    }

    pub fn ratelimited(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new("ratelimited")
        }
    }

    fn with(mut self, key: &str, value: Value) -> ApiError {
        self.extra.insert(key.into(), value);
        self
    }
}

pub type Answer = Result<Value, ApiError>;

/// One call of a method: its arguments (query and body together) and who is calling.
pub struct Call<'a> {
    pub shared: &'a Shared,
    pub method: &'a str,
    pub fields: Vec<(String, String)>,
    pub req: &'a Request,
    bearer: Option<String>,
    /// The caller's scopes, once authenticated: the `x-oauth-scopes` header.
    scopes: Option<String>,
}

impl<'a> Call<'a> {
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A present, non-empty argument.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.arg(name).filter(|v| !v.is_empty())
    }

    /// Slack's booleans: `true`/`1`.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.arg(name), Some("true" | "1"))
    }

    /// `limit`: `default` when absent or 0, at most `max`.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        match self.non_empty("limit") {
            None => Ok(default),
            Some(s) => match s.parse::<usize>() {
                Ok(0) => Ok(default),
                Ok(n) => Ok(n.min(max)),
                Err(_) => Err(ApiError::new("invalid_arguments").with(
                    "response_metadata",
                    json!({"messages": ["[ERROR] invalid `limit`"]}),
                )),
            },
        }
    }

    /// The calling token, live, within the method's rate limit.
    pub fn authed(&mut self, w: &World) -> Result<Token, ApiError> {
        let Some(value) = self.bearer.as_deref() else {
            return Err(ApiError::new("not_authed"));
        };
        let Some(t) = w.token(value) else {
            return Err(ApiError::new("invalid_auth"));
        };
        if t.revoked {
            return Err(ApiError::new("token_revoked"));
        }
        if t.inactive {
            return Err(ApiError::new("account_inactive"));
        }
        self.scopes = Some(t.scopes.join(","));
        self.shared
            .limits()
            .method(self.method)
            .map_err(ApiError::ratelimited)?;
        Ok(t.clone())
    }

    /// `missing_scope` unless the token has `scope`.
    pub fn need(&self, t: &Token, scope: &str) -> Result<(), ApiError> {
        if t.has(scope) {
            return Ok(());
        }
        Err(ApiError::new("missing_scope")
            .with("needed", json!(scope))
            .with("provided", json!(t.scopes.join(","))))
    }
}

/// `/api/<method>`: count it, apply a fault if one is due, run it, shape the answer.
pub fn call(shared: &Shared, method: &str, req: &Request) -> Response {
    *shared.stats().calls.entry(method.into()).or_default() += 1;
    let fault = take_fault(&mut shared.faults(), method);
    let mut reset_after = false;
    if let Some(f) = &fault {
        shared.stats().faults_injected += 1;
        match f.kind {
            FaultKind::Ratelimited => {
                return finish(
                    shared,
                    method,
                    Err(ApiError::ratelimited(f.retry_after)),
                    None,
                );
            }
            FaultKind::Reset => return Response::new(500).faulty(Fault::Reset),
            FaultKind::Error500 => {
                return Response::text(
                    500,
                    "text/html",
                    "<html><body>Internal Server Error</body></html>\n",
                );
            }
            FaultKind::ResetAfter => reset_after = true,
        }
    }
    let json_body = req
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    if json_body && !matches!(serde_json::from_slice(&req.body), Ok(Value::Object(_))) {
        return finish(shared, method, Err(ApiError::new("invalid_json")), None);
    }
    let mut fields = req.query.clone();
    fields.extend(req.fields());
    let bearer = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer ").map(|t| t.trim().to_string()))
        .or_else(|| {
            fields
                .iter()
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.clone())
        })
        .filter(|t| !t.is_empty());
    let mut c = Call {
        shared,
        method,
        fields,
        req,
        bearer,
        scopes: None,
    };
    let answer = match method {
        "auth.test" => auth_test(&mut c),
        "auth.revoke" => auth_revoke(&mut c),
        "conversations.list" => conversations_list(&mut c),
        "conversations.history" => conversations_history(&mut c),
        "chat.postMessage" => super::chat::post_message(&mut c),
        "chat.update" => super::chat::update(&mut c),
        "oauth.v2.access" => super::oauth::access(&mut c),
        _ => {
            return Response::json(
                404,
                &json!({"ok": false, "error": "unknown_method", "req_method": method}),
            );
        }
    };
    // Slack warns, and still answers, when a JSON body's type names no charset.
    let charset_missing = json_body
        && !req
            .header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("charset"));
    let warning = charset_missing.then_some("missing_charset");
    let mut r = finish(shared, method, answer, warning);
    if let Some(s) = c.scopes {
        r = r.header("x-oauth-scopes", s);
    }
    if reset_after {
        r = r.faulty(Fault::Reset);
    }
    r
}

/// Count the answer and render it: `ok` first, then the method's fields.
fn finish(shared: &Shared, method: &str, answer: Answer, warning: Option<&str>) -> Response {
    let mut stats = shared.stats();
    match answer {
        Ok(v) => {
            *stats.ok.entry(method.into()).or_default() += 1;
            let mut out = Map::new();
            out.insert("ok".into(), json!(true));
            if let Value::Object(m) = v {
                out.extend(m);
            }
            if let Some(w) = warning {
                out.insert("warning".into(), json!(w));
                let meta = out.entry("response_metadata").or_insert_with(|| json!({}));
                meta["warnings"] = json!([w]);
            }
            Response::json(200, &Value::Object(out))
        }
        Err(e) => {
            *stats
                .errors
                .entry(method.into())
                .or_default()
                .entry(e.error.clone())
                .or_default() += 1;
            let mut out = Map::new();
            out.insert("ok".into(), json!(false));
            out.insert("error".into(), json!(e.error));
            out.extend(e.extra);
            match e.retry_after {
                Some(secs) => {
                    *stats.rate_limited.entry(method.into()).or_default() += 1;
                    Response::json(429, &Value::Object(out)).header("retry-after", secs.to_string())
                }
                None => Response::json(200, &Value::Object(out)),
            }
        }
    }
}

/// Slack's cursors are opaque base64 of `<kind>:<position>`; ours too.
pub fn encode_cursor(kind: &str, at: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{kind}:{at}"))
}

/// The position in a cursor of `kind`; `invalid_cursor` for anything else.
pub fn decode_cursor(kind: &str, cursor: &str) -> Result<String, ApiError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .map_err(|_| ApiError::new("invalid_cursor"))?;
    let text = String::from_utf8(bytes).map_err(|_| ApiError::new("invalid_cursor"))?;
    text.strip_prefix(kind)
        .and_then(|r| r.strip_prefix(':'))
        .map(String::from)
        .ok_or_else(|| ApiError::new("invalid_cursor"))
}

fn auth_test(c: &mut Call) -> Answer {
    let w = c.shared.world();
    c.authed(&w)?;
    Ok(json!({
        "url": format!("https://{}.slack.com/", w.team.domain),
        "team": w.team.name,
        "user": w.app.bot_name,
        "team_id": w.team.id,
        "user_id": w.app.bot_user_id,
        "bot_id": w.app.bot_id,
        "is_enterprise_install": false,
    }))
}

fn auth_revoke(c: &mut Call) -> Answer {
    let mut w = c.shared.world();
    let t = c.authed(&w)?;
    // `test=true` checks the call without revoking.
    if c.flag("test") {
        return Ok(json!({"revoked": false}));
    }
    w.revoke(t.value.expose());
    Ok(json!({"revoked": true}))
}

fn conversations_list(c: &mut Call) -> Answer {
    let w = c.shared.world();
    let t = c.authed(&w)?;
    let types = c.non_empty("types").unwrap_or("public_channel").to_string();
    let (mut public, mut private) = (false, false);
    for ty in types.split(',').map(str::trim) {
        match ty {
            "public_channel" => {
                c.need(&t, "channels:read")?;
                public = true;
            }
            "private_channel" => {
                c.need(&t, "groups:read")?;
                private = true;
            }
            // The simulated workspace has no DMs: the scope is still asked for.
            "im" => c.need(&t, "im:read")?,
            "mpim" => c.need(&t, "mpim:read")?,
            _ => return Err(ApiError::new("invalid_types")),
        }
    }
    let exclude_archived = c.flag("exclude_archived");
    let limit = c.limit(100, 1000)?;
    let start = match c.non_empty("cursor") {
        None => 0,
        Some(cur) => {
            let id = decode_cursor("channel", cur)?;
            w.channels
                .iter()
                .position(|ch| ch.id == id)
                .ok_or_else(|| ApiError::new("invalid_cursor"))?
        }
    };
    // A bot sees every public channel, and the private ones it is in.
    let mut shown = w.channels[start..].iter().filter(|ch| {
        let kind_ok = if ch.is_private {
            private && ch.bot_member
        } else {
            public
        };
        kind_ok && !(exclude_archived && ch.archived)
    });
    let page: Vec<Value> = shown
        .by_ref()
        .take(limit)
        .map(|ch| w.channel_json(ch))
        .collect();
    let next = shown
        .next()
        .map(|ch| encode_cursor("channel", &ch.id))
        .unwrap_or_default();
    Ok(json!({"channels": page, "response_metadata": {"next_cursor": next}}))
}

fn conversations_history(c: &mut Call) -> Answer {
    let w = c.shared.world();
    let t = c.authed(&w)?;
    let ch = c
        .non_empty("channel")
        .and_then(|id| w.channels.iter().find(|ch| ch.id == id))
        .ok_or_else(|| ApiError::new("channel_not_found"))?;
    c.need(
        &t,
        if ch.is_private {
            "groups:history"
        } else {
            "channels:history"
        },
    )?;
    if !ch.bot_member {
        return Err(ApiError::new("not_in_channel"));
    }
    let latest = match c.non_empty("latest") {
        Some(s) => Some(parse_ts(s).ok_or_else(|| ApiError::new("invalid_ts_latest"))?),
        None => None,
    };
    let oldest = match c.non_empty("oldest") {
        Some(s) => parse_ts(s).ok_or_else(|| ApiError::new("invalid_ts_oldest"))?,
        None => 0,
    };
    let inclusive = c.flag("inclusive");
    let limit = c.limit(100, 999)?;
    let before = match c.non_empty("cursor") {
        Some(cur) => Some(
            decode_cursor("next_ts", cur)?
                .parse::<u64>()
                .map_err(|_| ApiError::new("invalid_cursor"))?,
        ),
        None => None,
    };
    let mut matching = ch.messages.iter().rev().filter(|m| {
        let ts = parse_ts(&m.ts).unwrap_or(0);
        let after_oldest = if inclusive { ts >= oldest } else { ts > oldest };
        let before_latest = latest.is_none_or(|l| if inclusive { ts <= l } else { ts < l });
        after_oldest && before_latest && before.is_none_or(|b| ts <= b)
    });
    let page: Vec<Value> = matching
        .by_ref()
        .take(limit)
        .map(|m| w.message_json(m))
        .collect();
    let next = matching.next();
    let mut out = json!({
        "messages": page,
        "has_more": next.is_some(),
        "pin_count": 0,
        "channel_actions_ts": null,
        "channel_actions_count": 0,
    });
    if let Some(m) = next {
        let at = parse_ts(&m.ts).unwrap_or(0).to_string();
        out["response_metadata"] = json!({"next_cursor": encode_cursor("next_ts", &at)});
    }
    Ok(out)
}
