//! OAuth v2, the "Add to Slack" install: `GET /oauth/v2/authorize` (the page a person approves
//! on; the simulator answers with the redirect Slack sends once they have) and
//! `oauth.v2.access`, which trades the code for the bot token.

use super::Shared;
use super::api::{Answer, ApiError, Call};
use super::world::{Code, Secret};
use crate::sim::http::{Request, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Mutex;
use tokio::sync::{oneshot, watch};

/// Codes live ten minutes (Slack's figure).
pub const CODE_TTL: i64 = 600;

/// What the person on the authorize page does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthMode {
    /// Approves at once.
    Approve,
    /// Cancels: `error=access_denied`.
    Deny,
    /// Leaves the page open until a test approves or denies ([`OAuthControl::release`]).
    Hold,
}

/// The authorize page's behaviour and the requests held on it.
pub struct OAuthControl {
    inner: Mutex<(OAuthMode, Vec<oneshot::Sender<bool>>)>,
    /// How many requests are held, for tests to wait on.
    held: watch::Sender<usize>,
}

impl OAuthControl {
    pub fn new(mode: OAuthMode) -> OAuthControl {
        OAuthControl {
            inner: Mutex::new((mode, Vec::new())),
            held: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (OAuthMode, Vec<oneshot::Sender<bool>>)> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn mode(&self) -> OAuthMode {
        self.lock().0
    }

    pub fn set_mode(&self, mode: OAuthMode) {
        self.lock().0 = mode;
    }

    pub fn held(&self) -> usize {
        self.lock().1.len()
    }

    /// Answer every held request: approved or denied. How many there were.
    pub fn release(&self, approve: bool) -> usize {
        let held = std::mem::take(&mut self.lock().1);
        let n = held.len();
        for tx in held {
            let _ = tx.send(approve);
        }
        self.held.send_replace(0);
        n
    }

    pub async fn wait_held(&self, n: usize) {
        let mut rx = self.held.subscribe();
        let _ = rx.wait_for(|held| *held >= n).await;
    }

    /// The person's answer: at once, or when a test releases the request.
    async fn decide(&self) -> bool {
        let rx = {
            let mut g = self.lock();
            match g.0 {
                OAuthMode::Approve => return true,
                OAuthMode::Deny => return false,
                OAuthMode::Hold => {
                    let (tx, rx) = oneshot::channel();
                    g.1.push(tx);
                    self.held.send_replace(g.1.len());
                    rx
                }
            }
        };
        rx.await.unwrap_or(false)
    }
}

/// Slack's own error page (the browser never reaches the app).
fn error_page(status: u16, error: &str) -> Response {
    Response::text(
        status,
        "text/html; charset=utf-8",
        format!("<html><body><h1>Something went wrong</h1><p>{error}</p></body></html>\n"),
    )
}

fn redirect_with(to: &url::Url, params: &[(&str, &str)]) -> Response {
    let mut u = to.clone();
    u.query_pairs_mut().extend_pairs(params);
    Response::redirect(u.as_str())
}

/// `GET /oauth/v2/authorize?client_id=…&scope=a,b&redirect_uri=…&state=…`.
pub async fn authorize(shared: &Shared, req: &Request) -> Response {
    if req.query("client_id") != Some(shared.config.client_id.as_str()) {
        return error_page(400, "invalid_client_id");
    }
    let registered = &shared.config.redirect_uris;
    let redirect_raw = match req.query("redirect_uri").filter(|r| !r.is_empty()) {
        Some(r) => r.to_string(),
        // Slack falls back on the app's first registered URL.
        None => match registered.first() {
            Some(r) => r.clone(),
            None => return error_page(400, "bad_redirect_uri"),
        },
    };
    let redirect = match url::Url::parse(&redirect_raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        _ => return error_page(400, "bad_redirect_uri"),
    };
    if !registered.is_empty()
        && !registered
            .iter()
            .any(|r| redirect_raw.starts_with(r.as_str()))
    {
        return error_page(400, "bad_redirect_uri");
    }
    let state = req.query("state").unwrap_or("").to_string();
    let scopes: Vec<String> = req
        .query("scope")
        .unwrap_or("")
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if scopes.is_empty() && req.query("user_scope").is_none_or(str::is_empty) {
        return redirect_with(&redirect, &[("error", "invalid_scope"), ("state", &state)]);
    }
    if !shared.oauth.decide().await {
        return redirect_with(&redirect, &[("error", "access_denied"), ("state", &state)]);
    }
    let code = format!(
        "{}.{}.{}",
        shared.random_digits(10),
        shared.random_digits(13),
        shared.random(64)
    );
    let expires_at = shared.now() + CODE_TTL;
    {
        let mut w = shared.world();
        let installer = w.users[0].id.clone();
        w.codes.push(Code {
            value: Secret::new(code.clone()),
            scopes,
            redirect_uri: req.query("redirect_uri").map(String::from),
            expires_at,
            used: false,
            installer,
        });
    }
    redirect_with(&redirect, &[("code", &code), ("state", &state)])
}

/// `client_id:client_secret` from HTTP Basic auth (Slack's preferred way), else the form.
fn client_credentials(c: &Call) -> (Option<String>, Option<String>) {
    let basic = c
        .req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(i, p)| (i.to_string(), p.to_string()))
        });
    match basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (
            c.non_empty("client_id").map(String::from),
            c.non_empty("client_secret").map(String::from),
        ),
    }
}

/// `oauth.v2.access`: one code, one answer.
pub fn access(c: &mut Call) -> Answer {
    let (id, secret) = client_credentials(c);
    let shared = c.shared;
    let now = shared.now();
    let new_token = shared.new_bot_token();
    let mut w = shared.world();
    if id.as_deref() != Some(w.app.client_id.as_str()) {
        return Err(ApiError::new("invalid_client_id"));
    }
    if secret.as_deref() != Some(w.app.client_secret.expose()) {
        return Err(ApiError::new("bad_client_secret"));
    }
    let given = c.non_empty("code").unwrap_or("");
    let redirect_uri = c.non_empty("redirect_uri");
    let Some(code) = w.codes.iter_mut().find(|k| k.value.expose() == given) else {
        return Err(ApiError::new("invalid_code"));
    };
    if code.used {
        return Err(ApiError::new("code_already_used"));
    }
    if code.expires_at <= now {
        return Err(ApiError::new("invalid_code"));
    }
    // The exchange must name the redirect the authorize request named (OAuth 2.0, 4.1.3).
    if code.redirect_uri.is_some() && code.redirect_uri.as_deref() != redirect_uri {
        return Err(ApiError::new("bad_redirect_uri"));
    }
    code.used = true;
    let (scopes, installer) = (code.scopes.clone(), code.installer.clone());
    // A reinstall while the bot token lives keeps that token and adds the new scopes to it.
    let live = w.tokens.iter_mut().find(|t| !t.revoked && !t.inactive);
    let (token, scopes) = match live {
        Some(t) => {
            for s in scopes {
                if !t.has(&s) {
                    t.scopes.push(s);
                }
            }
            (t.value.expose().to_string(), t.scopes.clone())
        }
        None => (w.mint_token(new_token, scopes.clone()), scopes),
    };
    w.installed = true;
    Ok(json!({
        "access_token": token,
        "token_type": "bot",
        "scope": scopes.join(","),
        "bot_user_id": w.app.bot_user_id,
        "app_id": w.app.id,
        "team": {"name": w.team.name, "id": w.team.id},
        "enterprise": null,
        "authed_user": {"id": installer},
        "is_enterprise_install": false,
    }))
}
