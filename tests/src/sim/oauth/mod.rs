//! GitHub's OAuth on the web host: the web flow (`/login/oauth/authorize`,
//! `/login/oauth/access_token` with PKCE S256), the device flow (`/login/device/code`, polled on
//! the token endpoint), refresh tokens when tokens expire, and the app endpoints on the API host
//! (`DELETE /applications/{client_id}/grant|token`, `POST /applications/{client_id}/token`).
//!
//! GitHub's habits kept here: the token endpoint answers errors with HTTP 200 and an `error`
//! field; it answers form-encoded unless asked for JSON (`Accept: application/json`); the web flow
//! needs the client secret even with PKCE; the device flow needs none; polling faster than
//! `interval` answers `slow_down` and adds 5 seconds; wrong app credentials on `/applications`
//! answer 404.
//!
//! The tests' levers are under `/_sim/oauth` (see [`control()`]).
//!
//! Here: the state, the routing of `/login/...` and of the token endpoint's grant types, and
//! reading the token endpoint's requests. The web flow is in `web.rs`, the device flow in
//! `device.rs`, issuing, refreshing and revoking tokens in `tokens.rs`, how the web host answers
//! in `replies.rs`, and the control API in `control.rs`.

mod control;
mod device;
mod replies;
mod tokens;
mod web;

#[cfg(test)]
mod tests;

pub use control::control;
pub use tokens::applications;
pub use web::{LOGIN_COOKIE, s256};

use super::Shared;
use super::http::{Request, Response};
use super::world::{Token, WorldError};
use base64::Engine;
use replies::{not_found_page, oauth_error, page};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// An authorization code lives this long (GitHub: 10 minutes).
pub const CODE_TTL: i64 = 600;
/// A device code lives this long (GitHub: 15 minutes).
pub const DEVICE_TTL: i64 = 900;
/// What `slow_down` adds to a device code's interval.
pub const SLOW_DOWN_STEP: u64 = 5;
/// A refresh token lives this long (GitHub: six months).
pub const REFRESH_TTL: u64 = 15_811_200;

pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A code from `/login/oauth/authorize`, waiting to be exchanged.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    /// The PKCE S256 challenge, when the client sent one.
    pub challenge: Option<String>,
    pub user_id: u64,
    pub expires_at: i64,
    pub used: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Pending,
    Approved(u64),
    Denied,
    /// Exchanged for a token.
    Used,
}

/// A device code from `/login/device/code`.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub device_code: String,
    pub user_code: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires_at: i64,
    /// Seconds the client must leave between polls (grows with each `slow_down`).
    pub interval: u64,
    pub last_poll: Option<Instant>,
    /// Polls answered (slow_down answers not counted).
    pub polls: u32,
    pub status: DeviceStatus,
}

/// A refresh token and what it renews.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub access_token: String,
    pub user_id: u64,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires_at: i64,
    /// Issued through the device flow: refreshing needs no client secret.
    pub from_device: bool,
}

/// Pending authorizations, device codes and their polling state, and the control API's
/// overrides of the config.
#[derive(Debug, Default)]
pub struct OAuthState {
    pub codes: HashMap<String, AuthCode>,
    /// By device code.
    pub devices: HashMap<String, DeviceCode>,
    /// By refresh token.
    pub refresh: HashMap<String, RefreshGrant>,
    /// Authorizations still to deny (`error=access_denied`).
    pub deny_next: u32,
    /// Overrides `SimConfig::device_interval`.
    pub interval: Option<u64>,
    /// Overrides `SimConfig::auto_approve`.
    pub auto_approve: Option<Option<u32>>,
    /// Overrides `SimConfig::token_lifetime`.
    pub token_lifetime: Option<Option<u64>>,
    /// Overrides [`REFRESH_TTL`].
    pub refresh_lifetime: Option<u64>,
    /// The app has the device flow switched off.
    pub device_flow_disabled: bool,
}

impl OAuthState {
    fn interval(&self, shared: &Shared) -> u64 {
        self.interval.unwrap_or(shared.config.device_interval)
    }

    fn auto_approve(&self, shared: &Shared) -> Option<u32> {
        self.auto_approve.unwrap_or(shared.config.auto_approve)
    }

    fn token_lifetime(&self, shared: &Shared) -> Option<u64> {
        self.token_lifetime.unwrap_or(shared.config.token_lifetime)
    }
}

/// `/login/...` requests.
pub async fn handle(shared: &Arc<Shared>, req: Request) -> Response {
    match (req.method.as_str(), req.path.trim_end_matches('/')) {
        ("GET", "/login/oauth/authorize") => web::authorize(shared, &req),
        ("POST", "/login/oauth/access_token") => access_token(shared, &req),
        ("POST", "/login/device/code") => device::device_code(shared, &req),
        ("GET", "/login/device") => page(
            200,
            "Device activation",
            "Enter the code displayed on your device. (Simulator: approve it with POST /_sim/oauth/device/approve.)",
        ),
        _ => not_found_page(),
    }
}

/// `POST /login/oauth/access_token`: one endpoint for every grant type.
fn access_token(shared: &Shared, req: &Request) -> Response {
    let js = wants_json(req);
    let f = token_fields(req);
    let get = |k: &str| f.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let client_ok = get("client_id") == Some(shared.config.client_id.as_str());
    let secret_ok = get("client_secret") == Some(shared.config.client_secret.as_str());
    match get("grant_type").unwrap_or("authorization_code") {
        "authorization_code" => web::exchange_code(
            shared,
            js,
            client_ok && secret_ok,
            get("code"),
            get("redirect_uri"),
            get("code_verifier"),
        ),
        DEVICE_GRANT => device::poll(shared, js, client_ok, get("device_code")),
        "refresh_token" => tokens::refresh(shared, js, client_ok, secret_ok, get("refresh_token")),
        _ => oauth_error(js, "unsupported_grant_type"),
    }
}

fn wants_json(req: &Request) -> bool {
    req.header("accept")
        .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"))
}

// ---- reading the token endpoint's requests ------------------------------------------------

/// Space- or comma-separated scopes, in order, without repeats.
fn parse_scopes(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for scope in s.split([' ', ',']).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == scope) {
            out.push(scope.to_string());
        }
    }
    out
}

/// Form or JSON body fields, then query parameters (GitHub reads both), then Basic auth for the
/// client credentials.
fn token_fields(req: &Request) -> HashMap<String, String> {
    let mut fields: HashMap<String, String> = HashMap::new();
    for (k, v) in req.query.iter().cloned().chain(req.fields()) {
        fields.insert(k, v);
    }
    if let Some((id, secret)) = basic_auth(req) {
        fields.entry("client_id".into()).or_insert(id);
        fields.entry("client_secret".into()).or_insert(secret);
    }
    fields
}

/// `Authorization: Basic base64(id:secret)`.
fn basic_auth(req: &Request) -> Option<(String, String)> {
    let h = req.header("authorization")?;
    let (scheme, b64) = h.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, secret) = raw.split_once(':')?;
    // RFC 6749 §2.3.1: the parts are form-urlencoded before joining.
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((dec(id), dec(secret)))
}

/// A new `gho_` token for `login`, as if it had gone through OAuth.
pub fn mint_token(shared: &Shared, login: &str, scopes: Vec<String>) -> Result<String, WorldError> {
    let token = format!("gho_{}", shared.random_token(36));
    let mut world = shared.world();
    let user_id = world.account_by_login(login)?.id;
    world.tokens.insert(
        token.clone(),
        Token {
            user_id,
            client_id: shared.config.client_id.clone(),
            scopes,
            revoked: false,
            expires_at: None,
            refresh_token: None,
        },
    );
    Ok(token)
}
