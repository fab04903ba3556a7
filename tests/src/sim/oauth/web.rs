//! The web flow: `GET /login/oauth/authorize` (PKCE S256) and exchanging its code on the token
//! endpoint.

use super::replies::{not_found_page, oauth_error, page};
use super::tokens::issue;
use super::{AuthCode, CODE_TTL, parse_scopes};
use crate::sim::Shared;
use crate::sim::clock;
use crate::sim::http::{Request, Response};
use base64::Engine;
use sha2::{Digest, Sha256};

const AUTHORIZE_ERRORS_DOCS: &str =
    "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-authorization-request-errors";

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

/// The cookie that says which account a browser is signed in to GitHub as: the simulator's
/// stand-in for GitHub's session (`Cookie: sim_login=LOGIN`). Without it, the viewer.
pub const LOGIN_COOKIE: &str = "sim_login";

fn signed_in(req: &Request) -> Option<&str> {
    req.header("cookie")?.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == LOGIN_COOKIE).then_some(value)
    })
}

/// `GET /login/oauth/authorize`: the browser's account (the viewer, or the one its
/// [`LOGIN_COOKIE`] names; already signed in, already consenting) approves at once, unless the
/// control API said to deny.
pub(super) fn authorize(shared: &Shared, req: &Request) -> Response {
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
    let user_id = {
        let w = shared.world();
        match signed_in(req) {
            None => w.viewer_id,
            Some(login) => match w.account_by_login(login) {
                Ok(a) => a.id,
                Err(_) => {
                    return page(
                        403,
                        "Sign in to GitHub",
                        "The browser's session names no account of the simulator.",
                    );
                }
            },
        }
    };
    let code = shared.random_hex(10);
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

/// Unpadded base64url SHA-256 of the verifier: PKCE S256.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The `authorization_code` grant: `creds_ok` is the client id and secret both right.
pub(super) fn exchange_code(
    shared: &Shared,
    js: bool,
    creds_ok: bool,
    code: Option<&str>,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Response {
    if !creds_ok {
        return oauth_error(js, "incorrect_client_credentials");
    }
    let now = clock::now();
    let mut o = shared.oauth();
    let Some(code) = code.and_then(|c| o.codes.get_mut(c)) else {
        return oauth_error(js, "bad_verification_code");
    };
    if code.used || code.expires_at <= now || code.client_id != shared.config.client_id {
        return oauth_error(js, "bad_verification_code");
    }
    if redirect_uri.is_some_and(|r| r != code.redirect_uri) {
        return oauth_error(js, "redirect_uri_mismatch");
    }
    if let Some(challenge) = &code.challenge
        && code_verifier.is_none_or(|v| s256(v) != *challenge)
    {
        return oauth_error(js, "bad_verification_code");
    }
    code.used = true;
    let (user_id, scopes) = (code.user_id, code.scopes.clone());
    drop(o);
    issue(shared, js, user_id, scopes, false)
}
