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
//! The tests' levers are under `/_sim/oauth` (see [`control`]).

use super::Shared;
use super::api::DOCS;
use super::clock;
use super::http::{Request, Response};
use super::json;
use super::world::{Token, WorldError};
use base64::Engine;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
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

const TOKEN_ERRORS_DOCS: &str = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors";
const AUTHORIZE_ERRORS_DOCS: &str =
    "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors";
const DEVICE_ERRORS_DOCS: &str = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow";

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

// ---- the web host ------------------------------------------------------------------------

/// `/login/...` requests.
pub async fn handle(shared: &Arc<Shared>, req: Request) -> Response {
    match (req.method.as_str(), req.path.trim_end_matches('/')) {
        ("GET", "/login/oauth/authorize") => authorize(shared, &req),
        ("POST", "/login/oauth/access_token") => access_token(shared, &req),
        ("POST", "/login/device/code") => device_code(shared, &req),
        ("GET", "/login/device") => page(
            200,
            "Device activation",
            "Enter the code displayed on your device. (Simulator: approve it with POST /_sim/oauth/device/approve.)",
        ),
        _ => not_found_page(),
    }
}

fn page(status: u16, title: &str, text: &str) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    Response::text(
        status,
        "text/html; charset=utf-8",
        format!(
            "<!DOCTYPE html>\n<html><head><title>{} · GitHub</title></head><body><h1>{}</h1><p>{}</p></body></html>\n",
            esc(title),
            esc(title),
            esc(text)
        ),
    )
}

fn not_found_page() -> Response {
    page(
        404,
        "Page not found",
        "This is not the web page you are looking for.",
    )
}

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

/// `redirect_uri` with `params` added to its query.
fn redirect_with(redirect_uri: &url::Url, params: &[(&str, &str)]) -> Response {
    let mut u = redirect_uri.clone();
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    Response::redirect(u.as_str())
}

/// `GET /login/oauth/authorize`: the viewer (already signed in, already consenting) approves at
/// once, unless the control API said to deny.
fn authorize(shared: &Shared, req: &Request) -> Response {
    if req.query("client_id") != Some(shared.config.client_id.as_str()) {
        return not_found_page();
    }
    let Some(redirect_raw) = req.query("redirect_uri") else {
        return page(
            400,
            "Redirect URI required",
            "The simulated app has no registered callback URL: send redirect_uri.",
        );
    };
    let redirect_uri = match url::Url::parse(redirect_raw) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => u,
        _ => {
            return page(
                400,
                "Invalid redirect URI",
                "The redirect_uri is not a valid http(s) URL.",
            );
        }
    };
    let state = req.query("state").unwrap_or("");
    let challenge = req.query("code_challenge").filter(|c| !c.is_empty());
    if challenge.is_some() && req.query("code_challenge_method") != Some("S256") {
        return redirect_with(
            &redirect_uri,
            &[
                ("error", "invalid_request"),
                (
                    "error_description",
                    "code_challenge_method must be S256; plain is not supported.",
                ),
                ("state", state),
            ],
        );
    }
    if let Some(c) = challenge
        && (c.len() != 43
            || !c
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return redirect_with(
            &redirect_uri,
            &[
                ("error", "invalid_request"),
                (
                    "error_description",
                    "code_challenge must be the unpadded base64url SHA-256 of the code verifier.",
                ),
                ("state", state),
            ],
        );
    }
    {
        let mut o = shared.oauth();
        if o.deny_next > 0 {
            o.deny_next -= 1;
            return redirect_with(
                &redirect_uri,
                &[
                    ("error", "access_denied"),
                    (
                        "error_description",
                        "The user has denied your application access.",
                    ),
                    (
                        "error_uri",
                        &format!("{AUTHORIZE_ERRORS_DOCS}#access-denied"),
                    ),
                    ("state", state),
                ],
            );
        }
    }
    let code = shared.random_hex(10);
    let user_id = shared.world().viewer_id;
    shared.oauth().codes.insert(
        code.clone(),
        AuthCode {
            client_id: shared.config.client_id.clone(),
            redirect_uri: redirect_raw.to_string(),
            scopes: parse_scopes(req.query("scope").unwrap_or("")),
            challenge: challenge.map(String::from),
            user_id,
            expires_at: clock::now() + CODE_TTL,
            used: false,
        },
    );
    redirect_with(&redirect_uri, &[("code", &code), ("state", state)])
}

/// A value of the token endpoint's answer.
enum V {
    S(String),
    N(u64),
}

/// The token endpoint's answer, as JSON or form, in the order GitHub writes the form.
fn answer(json_wanted: bool, status: u16, fields: Vec<(&str, V)>) -> Response {
    if json_wanted {
        let map: Map<String, Value> = fields
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    match v {
                        V::S(s) => Value::String(s),
                        V::N(n) => Value::from(n),
                    },
                )
            })
            .collect();
        let mut r = Response::new(status);
        r.body = serde_json::to_vec(&Value::Object(map)).expect("JSON values serialise");
        r.header("content-type", "application/json; charset=utf-8")
    } else {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            match v {
                V::S(s) => form.append_pair(k, &s),
                V::N(n) => form.append_pair(k, &n.to_string()),
            };
        }
        Response::text(
            status,
            "application/x-www-form-urlencoded; charset=utf-8",
            form.finish(),
        )
    }
}

fn wants_json(req: &Request) -> bool {
    req.header("accept")
        .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"))
}

/// An OAuth error as GitHub words it, with HTTP 200.
fn oauth_error(json_wanted: bool, error: &str) -> Response {
    oauth_error_with(json_wanted, error, Vec::new())
}

fn oauth_error_with(json_wanted: bool, error: &str, extra: Vec<(&str, V)>) -> Response {
    let (description, uri) = match error {
        "incorrect_client_credentials" => (
            "The client_id and/or client_secret passed are incorrect.",
            format!("{TOKEN_ERRORS_DOCS}#incorrect-client-credentials"),
        ),
        "redirect_uri_mismatch" => (
            "The redirect_uri MUST match the registered callback URL for this application.",
            format!("{TOKEN_ERRORS_DOCS}#redirect-uri-mismatch2"),
        ),
        "bad_verification_code" => (
            "The code passed is incorrect or expired.",
            format!("{TOKEN_ERRORS_DOCS}#bad-verification-code"),
        ),
        "unsupported_grant_type" => (
            "The grant type is not supported.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "authorization_pending" => (
            "The authorization request is still pending.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "slow_down" => (
            "Too many requests have been made in the same timeframe.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "expired_token" => (
            "The `device_code` has expired.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "access_denied" => (
            "The authorization request was denied.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "incorrect_device_code" => (
            "The device_code provided is not valid.",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "device_flow_disabled" => (
            "Device Flow must be explicitly enabled for this App",
            DEVICE_ERRORS_DOCS.to_string(),
        ),
        "bad_refresh_token" => (
            "The refresh token passed is incorrect or expired.",
            format!("{TOKEN_ERRORS_DOCS}#bad-refresh-token"),
        ),
        _ => ("", DOCS.to_string()),
    };
    let mut fields = vec![
        ("error", V::S(error.into())),
        ("error_description", V::S(description.into())),
        ("error_uri", V::S(uri)),
    ];
    fields.extend(extra);
    answer(json_wanted, 200, fields)
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

/// Unpadded base64url SHA-256 of the verifier: PKCE S256.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `POST /login/oauth/access_token`.
fn access_token(shared: &Shared, req: &Request) -> Response {
    let js = wants_json(req);
    let f = token_fields(req);
    let get = |k: &str| f.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let client_ok = get("client_id") == Some(shared.config.client_id.as_str());
    let secret_ok = get("client_secret") == Some(shared.config.client_secret.as_str());
    match get("grant_type").unwrap_or("authorization_code") {
        "authorization_code" => {
            if !client_ok || !secret_ok {
                return oauth_error(js, "incorrect_client_credentials");
            }
            let now = clock::now();
            let mut o = shared.oauth();
            let Some(code) = get("code").and_then(|c| o.codes.get_mut(c)) else {
                return oauth_error(js, "bad_verification_code");
            };
            if code.used || code.expires_at <= now || code.client_id != shared.config.client_id {
                return oauth_error(js, "bad_verification_code");
            }
            if get("redirect_uri").is_some_and(|r| r != code.redirect_uri) {
                return oauth_error(js, "redirect_uri_mismatch");
            }
            if let Some(challenge) = &code.challenge
                && get("code_verifier").is_none_or(|v| s256(v) != *challenge)
            {
                return oauth_error(js, "bad_verification_code");
            }
            code.used = true;
            let (user_id, scopes) = (code.user_id, code.scopes.clone());
            drop(o);
            issue(shared, js, user_id, scopes, false)
        }
        DEVICE_GRANT => poll_device(shared, js, client_ok, get("device_code")),
        "refresh_token" => {
            let now = clock::now();
            let mut o = shared.oauth();
            let grant = get("refresh_token").and_then(|t| o.refresh.get(t)).cloned();
            if !client_ok || grant.as_ref().is_some_and(|g| !g.from_device && !secret_ok) {
                return oauth_error(js, "incorrect_client_credentials");
            }
            let Some(grant) = grant.filter(|g| g.expires_at > now) else {
                return oauth_error(js, "bad_refresh_token");
            };
            // Both the refresh token and the access token it came with stop working.
            o.refresh.remove(get("refresh_token").unwrap_or_default());
            drop(o);
            if let Some(t) = shared.world_mut().tokens.get_mut(&grant.access_token) {
                t.revoked = true;
            }
            issue(shared, js, grant.user_id, grant.scopes, grant.from_device)
        }
        _ => oauth_error(js, "unsupported_grant_type"),
    }
}

/// The device flow's poll.
fn poll_device(shared: &Shared, js: bool, client_ok: bool, device_code: Option<&str>) -> Response {
    if !client_ok {
        return oauth_error(js, "incorrect_client_credentials");
    }
    let now = clock::now();
    let viewer = shared.world().viewer_id;
    let mut o = shared.oauth();
    if o.device_flow_disabled {
        return oauth_error(js, "device_flow_disabled");
    }
    let auto = o.auto_approve(shared);
    let Some(d) = device_code.and_then(|c| o.devices.get_mut(c)) else {
        return oauth_error(js, "incorrect_device_code");
    };
    if d.status == DeviceStatus::Used {
        return oauth_error(js, "incorrect_device_code");
    }
    if d.expires_at <= now {
        return oauth_error(js, "expired_token");
    }
    let polled = Instant::now();
    if d.interval > 0
        && d.last_poll
            .is_some_and(|t| polled.duration_since(t).as_secs_f64() < d.interval as f64)
    {
        d.interval += SLOW_DOWN_STEP;
        d.last_poll = Some(polled);
        let interval = d.interval;
        return oauth_error_with(js, "slow_down", vec![("interval", V::N(interval))]);
    }
    d.last_poll = Some(polled);
    d.polls += 1;
    if d.status == DeviceStatus::Pending && auto.is_some_and(|n| d.polls > n) {
        // The viewer typed the code in after `n` polls.
        d.status = DeviceStatus::Approved(viewer);
    }
    match d.status {
        DeviceStatus::Pending => oauth_error(js, "authorization_pending"),
        DeviceStatus::Denied => oauth_error(js, "access_denied"),
        DeviceStatus::Used => oauth_error(js, "incorrect_device_code"),
        DeviceStatus::Approved(user_id) => {
            d.status = DeviceStatus::Used;
            let scopes = d.scopes.clone();
            drop(o);
            issue(shared, js, user_id, scopes, true)
        }
    }
}

/// A new token (and refresh token when tokens expire), answered as GitHub does.
fn issue(
    shared: &Shared,
    js: bool,
    user_id: u64,
    scopes: Vec<String>,
    from_device: bool,
) -> Response {
    let access = format!("gho_{}", shared.random_token(36));
    let now = clock::now();
    let (lifetime, refresh_ttl) = {
        let o = shared.oauth();
        (
            o.token_lifetime(shared),
            o.refresh_lifetime.unwrap_or(REFRESH_TTL),
        )
    };
    let refresh = lifetime.map(|_| format!("ghr_{}", shared.random_token(76)));
    shared.world_mut().tokens.insert(
        access.clone(),
        Token {
            user_id,
            client_id: shared.config.client_id.clone(),
            scopes: scopes.clone(),
            revoked: false,
            expires_at: lifetime.map(|l| now + l as i64),
            refresh_token: refresh.clone(),
        },
    );
    let mut fields = vec![("access_token", V::S(access.clone()))];
    if let (Some(lifetime), Some(refresh)) = (lifetime, refresh) {
        shared.oauth().refresh.insert(
            refresh.clone(),
            RefreshGrant {
                access_token: access,
                user_id,
                client_id: shared.config.client_id.clone(),
                scopes: scopes.clone(),
                expires_at: now + refresh_ttl as i64,
                from_device,
            },
        );
        fields.push(("expires_in", V::N(lifetime)));
        fields.push(("refresh_token", V::S(refresh)));
        fields.push(("refresh_token_expires_in", V::N(refresh_ttl)));
    }
    fields.push(("scope", V::S(scopes.join(","))));
    fields.push(("token_type", V::S("bearer".into())));
    answer(js, 200, fields)
}

/// `POST /login/device/code`.
fn device_code(shared: &Shared, req: &Request) -> Response {
    let js = wants_json(req);
    let f = token_fields(req);
    if f.get("client_id").map(String::as_str) != Some(shared.config.client_id.as_str()) {
        return answer(js, 404, vec![("error", V::S("Not Found".into()))]);
    }
    let mut o = shared.oauth();
    if o.device_flow_disabled {
        let mut r = oauth_error(js, "device_flow_disabled");
        r.status = 400;
        return r;
    }
    let device_code = shared.random_hex(20);
    let user_code = loop {
        let raw: String = shared
            .random_token(32)
            .chars()
            .filter(|c| c.is_ascii_uppercase() || ('2'..='9').contains(c))
            .filter(|c| !matches!(c, 'I' | 'O'))
            .take(8)
            .collect();
        if raw.len() == 8 {
            let code = format!("{}-{}", &raw[..4], &raw[4..]);
            if !o.devices.values().any(|d| d.user_code == code) {
                break code;
            }
        }
    };
    let interval = o.interval(shared);
    o.devices.insert(
        device_code.clone(),
        DeviceCode {
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            client_id: shared.config.client_id.clone(),
            scopes: parse_scopes(f.get("scope").map(String::as_str).unwrap_or("")),
            expires_at: clock::now() + DEVICE_TTL,
            interval,
            last_poll: None,
            polls: 0,
            status: DeviceStatus::Pending,
        },
    );
    answer(
        js,
        200,
        vec![
            ("device_code", V::S(device_code)),
            ("expires_in", V::N(DEVICE_TTL as u64)),
            ("interval", V::N(interval)),
            ("user_code", V::S(user_code)),
            (
                "verification_uri",
                V::S(format!("{}/login/device", shared.urls.web)),
            ),
        ],
    )
}

// ---- the API host: /applications/{client_id}/... -------------------------------------------

/// `/applications/{client_id}/...` (Basic auth with the app's client id and secret).
pub fn applications(shared: &Arc<Shared>, req: &Request) -> Response {
    let segs = req.segments();
    let not_found = || Response::json(404, &json::error(404, "Not Found", DOCS));
    let [_, client_id, what] = segs.as_slice() else {
        return not_found();
    };
    let creds_ok = client_id == &shared.config.client_id
        && basic_auth(req).is_some_and(|(id, secret)| {
            id == shared.config.client_id && secret == shared.config.client_secret
        });
    if !creds_ok {
        return not_found();
    }
    let token = serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|v| v["access_token"].as_str().map(String::from));
    let Some(token) = token else {
        return Response::json(
            422,
            &json!({
                "message": "Invalid request.\n\n\"access_token\" wasn't supplied.",
                "documentation_url": "https://docs.github.com/rest/apps/oauth-applications",
                "status": "422",
            }),
        );
    };
    let method = req.method.as_str();
    let mut w = shared.world_mut();
    let found = w
        .tokens
        .get(&token)
        .filter(|t| t.client_id == shared.config.client_id && !t.revoked)
        .cloned();
    let Some(info) = found else {
        return not_found();
    };
    match (method, *what) {
        ("DELETE", "token") => {
            if let Some(t) = w.tokens.get_mut(&token) {
                t.revoked = true;
            }
            drop(w);
            forget_refresh(shared, |g| g.access_token == token);
            Response::new(204)
        }
        ("DELETE", "grant") => {
            for t in w.tokens.values_mut() {
                if t.user_id == info.user_id && t.client_id == info.client_id {
                    t.revoked = true;
                }
            }
            drop(w);
            forget_refresh(shared, |g| {
                g.user_id == info.user_id && g.client_id == info.client_id
            });
            Response::new(204)
        }
        ("POST", "token") => {
            let user = json::user(&shared.urls, w.account(info.user_id));
            let last_eight = token[token.len().saturating_sub(8)..].to_string();
            let body = json!({
                "id": 1,
                "url": format!("{}/authorizations/1", shared.urls.api),
                "scopes": info.scopes,
                "token": token,
                "token_last_eight": last_eight,
                "hashed_token": hex::encode(Sha256::digest(token.as_bytes())),
                "app": {
                    "url": shared.urls.web,
                    "name": "tidemark (simulated)",
                    "client_id": shared.config.client_id,
                },
                "note": null,
                "note_url": null,
                "updated_at": clock::iso(clock::now()),
                "created_at": clock::iso(clock::now()),
                "fingerprint": null,
                "expires_at": info.expires_at.map(clock::iso),
                "user": user,
            });
            Response::json(200, &body)
        }
        _ => not_found(),
    }
}

fn forget_refresh(shared: &Shared, pred: impl Fn(&RefreshGrant) -> bool) {
    shared.oauth().refresh.retain(|_, g| !pred(g));
}

// ---- the control API ------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn scopes_split_on_spaces_and_commas_without_repeats() {
        assert_eq!(
            parse_scopes("repo read:org,repo  user"),
            vec!["repo", "read:org", "user"]
        );
        assert!(parse_scopes("").is_empty());
    }

    #[test]
    fn errors_are_http_200_form_encoded_unless_json_is_asked_for() {
        let form = oauth_error(false, "bad_verification_code");
        assert_eq!(form.status, 200);
        let fields: HashMap<String, String> = url::form_urlencoded::parse(&form.body)
            .into_owned()
            .collect();
        assert_eq!(fields["error"], "bad_verification_code");
        assert!(fields["error_uri"].starts_with("https://docs.github.com/"));
        let js = oauth_error_with(true, "slow_down", vec![("interval", V::N(10))]);
        let v: Value = serde_json::from_slice(&js.body).unwrap();
        assert_eq!(v["error"], "slow_down");
        assert_eq!(v["interval"], 10);
        assert!(
            v["error_description"]
                .as_str()
                .is_some_and(|d| !d.is_empty())
        );
    }

    #[test]
    fn basic_auth_decodes_form_encoded_parts() {
        let req = Request {
            method: "POST".into(),
            path: "/".into(),
            query: Vec::new(),
            headers: vec![(
                "authorization".into(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode("Iv1.x:s%2Fecret")
                ),
            )],
            body: Vec::new(),
        };
        assert_eq!(basic_auth(&req), Some(("Iv1.x".into(), "s/ecret".into())));
    }
}
