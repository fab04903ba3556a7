//! Tokens once granted: issuing them (with a refresh token when they expire), the
//! `refresh_token` grant, and the app endpoints on the API host that check and revoke them.

use super::replies::{V, answer, oauth_error};
use super::{REFRESH_TTL, RefreshGrant, basic_auth};
use crate::sim::Shared;
use crate::sim::api::DOCS;
use crate::sim::clock;
use crate::sim::http::{Request, Response};
use crate::sim::json;
use crate::sim::world::Token;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A new token (and refresh token when tokens expire), answered as GitHub does.
pub(super) fn issue(
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

/// The `refresh_token` grant: the client id always, the secret too unless the token came through
/// the device flow.
pub(super) fn refresh(
    shared: &Shared,
    js: bool,
    client_ok: bool,
    secret_ok: bool,
    refresh_token: Option<&str>,
) -> Response {
    let now = clock::now();
    let mut o = shared.oauth();
    let grant = refresh_token.and_then(|t| o.refresh.get(t)).cloned();
    if !client_ok || grant.as_ref().is_some_and(|g| !g.from_device && !secret_ok) {
        return oauth_error(js, "incorrect_client_credentials");
    }
    let Some(grant) = grant.filter(|g| g.expires_at > now) else {
        return oauth_error(js, "bad_refresh_token");
    };
    // Both the refresh token and the access token it came with stop working.
    o.refresh.remove(refresh_token.unwrap_or_default());
    drop(o);
    if let Some(t) = shared.world_mut().tokens.get_mut(&grant.access_token) {
        t.revoked = true;
    }
    issue(shared, js, grant.user_id, grant.scopes, grant.from_device)
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
