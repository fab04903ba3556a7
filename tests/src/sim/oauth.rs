//! GitHub's OAuth on the web host: the web flow (`/login/oauth/authorize`, `/login/oauth/access_token`
//! with PKCE S256) and the device flow (`/login/device/code`), plus the app endpoints
//! (`DELETE /applications/{client_id}/grant`). STUB: being written.

use super::Shared;
use super::http::{Request, Response};
use super::world::{Token, WorldError};
use std::sync::Arc;

/// Pending authorizations, device codes and their polling state.
#[derive(Debug, Default)]
pub struct OAuthState {}

/// `/login/...` requests.
pub async fn handle(_shared: &Arc<Shared>, _req: Request) -> Response {
    Response::json(404, &serde_json::json!({"message": "Not Found"}))
}

/// `/applications/{client_id}/...` (Basic auth with the app's client id and secret).
pub fn applications(_shared: &Arc<Shared>, _req: &Request) -> Response {
    Response::json(404, &serde_json::json!({"message": "Not Found"}))
}

/// `/_sim/oauth/...`: None when the path is not ours.
pub fn control(_shared: &Arc<Shared>, _req: &Request) -> Option<Response> {
    None
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
