//! OAuth with GitHub through the `oauth2` crate: the device flow, the web flow with PKCE, and
//! refreshing expiring tokens. `oauth2` talks HTTP through [`GitHubHttp`], a small adapter onto
//! our reqwest client that follows no redirects and turns GitHub's habit of answering token
//! errors with HTTP 200 and an `error` field into the 400 that OAuth 2 (and `oauth2`) expect.

use super::{GitHubConfig, GitHubError, trim_base};
use crate::crypto::Secret;
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationUrl, DeviceCodeErrorResponse, DeviceCodeErrorResponseType, EndpointNotSet,
    EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, StandardDeviceAuthorizationResponse, TokenResponse,
    TokenUrl,
};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// What tidemark asks GitHub for: read the org and its members, read repositories (private ones
/// too) and manage their webhooks, read the user.
pub const SCOPES: &[&str] = &["read:org", "repo", "read:user"];

/// Asked for in addition with `connect github --org-hook`: manage organization webhooks, so an
/// org owner's connection gets one and member changes arrive at once. Not by default: it asks
/// every user for more than tidemark needs otherwise.
pub const ORG_HOOK_SCOPE: &str = "admin:org_hook";

/// The scopes a connect flow asks for.
pub fn scopes(org_hook: bool) -> Vec<&'static str> {
    let mut out = SCOPES.to_vec();
    if org_hook {
        out.push(ORG_HOOK_SCOPE);
    }
    out
}

/// How an OAuth exchange failed, in words for the user. Never carries a code or token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("the authorization was denied at GitHub")]
    Denied,
    #[error("the code expired before it was approved; start again")]
    Expired,
    #[error("GitHub did not accept the authorization code (wrong, expired or already used)")]
    BadCode,
    #[error(
        "GitHub rejected tidemark's OAuth client id or secret (check the daemon's github_client_id and github_client_secret: `tidemark daemon status`)"
    )]
    BadClient,
    #[error("GitHub says the redirect URI does not match the OAuth app's callback URL")]
    RedirectMismatch,
    #[error(
        "the device flow is not enabled for this OAuth app: enable it in the app's settings on GitHub, or use the web flow"
    )]
    DeviceFlowDisabled,
    #[error("GitHub did not accept the refresh token; reconnect GitHub")]
    BadRefreshToken,
    #[error("GitHub is unreachable: {0}")]
    Unreachable(String),
    #[error("GitHub's OAuth answer was not understood: {0}")]
    Protocol(String),
    #[error("{0}")]
    Config(String),
    /// No client id: GitHub is not set up on this daemon. Worded for any client (the CLI and
    /// the TUI each add how to set it up).
    #[error(
        "GitHub is not set up on this daemon yet: it needs the client id of a GitHub OAuth app"
    )]
    NoApp,
}

/// Tokens GitHub issued.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    /// Unix seconds; None for GitHub's non-expiring OAuth tokens.
    pub expires_at: Option<i64>,
    pub scopes: Vec<String>,
}

/// A started device flow: what to show the user, and the opaque state to poll with.
pub struct DeviceStart {
    pub user_code: String,
    pub verification_uri: String,
    pub expires_in: Duration,
    details: StandardDeviceAuthorizationResponse,
}

/// A prepared web flow: the URL for the browser and what the callback must match.
pub struct WebStart {
    pub authorize_url: String,
    pub state: Secret,
    pub verifier: Secret,
}

/// The HTTP adapter `oauth2` sends its requests through.
pub struct GitHubHttp(pub reqwest::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl<'c> AsyncHttpClient<'c> for GitHubHttp {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let url = parts.uri.to_string();
            // A connection that never opened (a refused port, no descriptors left) sent
            // nothing, so a single-use code is still unspent: try again a few times.
            let mut attempt = 0;
            let resp = loop {
                let sent = self
                    .0
                    .request(parts.method.clone(), &url)
                    .headers(parts.headers.clone())
                    .body(body.clone())
                    .send()
                    .await;
                match sent {
                    Err(e) if e.is_connect() && attempt < CONNECT_RETRIES => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
                    }
                    other => break other.map_err(|e| HttpError(describe(&e)))?,
                }
            };
            let mut status = resp.status();
            if status.is_server_error() {
                // Not an OAuth answer at all: GitHub is down or overloaded.
                return Err(HttpError(format!("GitHub answered {status}")));
            }
            let headers = resp.headers().clone();
            let body = resp
                .bytes()
                .await
                .map_err(|e| HttpError(describe(&e)))?
                .to_vec();
            if status == reqwest::StatusCode::OK && carries_error(&body) {
                status = reqwest::StatusCode::BAD_REQUEST;
            }
            let mut out = oauth2::http::Response::builder().status(status);
            for (k, v) in &headers {
                out = out.header(k, v);
            }
            out.body(body).map_err(|e| HttpError(e.to_string()))
        })
    }
}

/// Tries after the first when a connection to GitHub cannot be opened (0.5 s, 1 s, 2 s apart).
const CONNECT_RETRIES: u32 = 3;

/// GitHub's "200 with an error" answer: a JSON object with an `error` field.
fn carries_error(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|v| v.get("error").is_some_and(serde_json::Value::is_string))
}

use super::api::without_url as describe;

type Client = BasicClient<EndpointSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// GitHub's OAuth endpoints for one app.
pub struct OAuth {
    client: Client,
    http: GitHubHttp,
    has_secret: bool,
}

impl OAuth {
    pub fn new(config: &GitHubConfig, http: reqwest::Client) -> Result<OAuth, OAuthError> {
        let client_id = config
            .client_id
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or(OAuthError::NoApp)?;
        let web = trim_base(&config.web_url);
        let url_err = |e: url::ParseError| OAuthError::Config(format!("GitHub URL {web}: {e}"));
        let mut client = BasicClient::new(ClientId::new(client_id))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::new(format!("{web}/login/oauth/authorize")).map_err(url_err)?)
            .set_token_uri(
                TokenUrl::new(format!("{web}/login/oauth/access_token")).map_err(url_err)?,
            )
            .set_device_authorization_url(
                DeviceAuthorizationUrl::new(format!("{web}/login/device/code")).map_err(url_err)?,
            );
        if let Some(secret) = &config.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
        }
        Ok(OAuth {
            client,
            http: GitHubHttp(http),
            has_secret: config.client_secret.is_some(),
        })
    }

    pub fn has_secret(&self) -> bool {
        self.has_secret
    }

    pub async fn start_device(&self, scopes: &[&str]) -> Result<DeviceStart, OAuthError> {
        let details: StandardDeviceAuthorizationResponse = self
            .client
            .exchange_device_code()
            .add_scopes(scopes.iter().map(|s| Scope::new(s.to_string())))
            .request_async(&self.http)
            .await
            .map_err(|e| map_error(e, basic_kind))?;
        Ok(DeviceStart {
            user_code: details.user_code().secret().clone(),
            verification_uri: details.verification_uri().to_string(),
            expires_in: details.expires_in(),
            details,
        })
    }

    /// Poll until the user approves, denies, or the code expires. Honours GitHub's interval and
    /// `slow_down` (oauth2 adds 5 s each time, as RFC 8628 says).
    pub async fn finish_device(&self, start: &DeviceStart) -> Result<TokenSet, OAuthError> {
        let token = self
            .client
            .exchange_device_access_token(&start.details)
            .request_async(
                &self.http,
                |d: Duration| tokio::time::sleep(d.max(Duration::from_millis(100))),
                None,
            )
            .await
            .map_err(|e| map_error(e, device_kind))?;
        Ok(token_set(&token))
    }

    pub fn start_web(&self, redirect_uri: &str, scopes: &[&str]) -> Result<WebStart, OAuthError> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| OAuthError::Config(format!("redirect URI: {e}")))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client
            .authorize_url(CsrfToken::new_random)
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .add_scopes(scopes.iter().map(|s| Scope::new(s.to_string())))
            .set_pkce_challenge(challenge)
            .url();
        Ok(WebStart {
            authorize_url: url.to_string(),
            state: Secret::new(state.secret().clone()),
            verifier: Secret::new(verifier.secret().clone()),
        })
    }

    pub async fn finish_web(
        &self,
        code: &Secret,
        verifier: &Secret,
        redirect_uri: &str,
    ) -> Result<TokenSet, OAuthError> {
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| OAuthError::Config(format!("redirect URI: {e}")))?;
        let token = self
            .client
            .exchange_code(AuthorizationCode::new(code.expose().to_string()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose().to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| map_error(e, basic_kind))?;
        Ok(token_set(&token))
    }

    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenSet, OAuthError> {
        let token = self
            .client
            .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_string()))
            .request_async(&self.http)
            .await
            .map_err(|e| map_error(e, basic_kind))?;
        Ok(token_set(&token))
    }
}

fn token_set(t: &BasicTokenResponse) -> TokenSet {
    // GitHub separates scopes with commas; oauth2 splits on spaces.
    let scopes = t
        .scopes()
        .map(|s| {
            s.iter()
                .flat_map(|scope| scope.as_str().split(','))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    TokenSet {
        access_token: Secret::new(t.access_token().secret().clone()),
        refresh_token: t.refresh_token().map(|r| Secret::new(r.secret().clone())),
        expires_at: t
            .expires_in()
            .map(|d| crate::store::now() + d.as_secs() as i64),
        scopes,
    }
}

/// The error code GitHub sent, as a string, for either kind of OAuth error response.
fn basic_kind(e: &BasicErrorResponse) -> String {
    match e.error() {
        BasicErrorResponseType::Extension(s) => s.clone(),
        other => other.to_string(),
    }
}

fn device_kind(e: &DeviceCodeErrorResponse) -> String {
    match e.error() {
        DeviceCodeErrorResponseType::Basic(b) => match b {
            BasicErrorResponseType::Extension(s) => s.clone(),
            other => other.to_string(),
        },
        other => other.to_string(),
    }
}

fn map_error<T>(e: RequestTokenError<HttpError, T>, kind: fn(&T) -> String) -> OAuthError
where
    T: oauth2::ErrorResponse,
{
    match e {
        RequestTokenError::ServerResponse(r) => match kind(&r).as_str() {
            "access_denied" => OAuthError::Denied,
            "expired_token" => OAuthError::Expired,
            "bad_verification_code" | "invalid_grant" => OAuthError::BadCode,
            "incorrect_client_credentials" | "invalid_client" | "unauthorized_client" => {
                OAuthError::BadClient
            }
            "redirect_uri_mismatch" => OAuthError::RedirectMismatch,
            "device_flow_disabled" => OAuthError::DeviceFlowDisabled,
            "bad_refresh_token" => OAuthError::BadRefreshToken,
            other => OAuthError::Protocol(format!("GitHub answered `{other}`")),
        },
        RequestTokenError::Request(e) => OAuthError::Unreachable(e.0),
        // The body is not echoed: it could hold a token.
        RequestTokenError::Parse(e, _) => OAuthError::Protocol(e.to_string()),
        RequestTokenError::Other(s) => OAuthError::Protocol(s),
    }
}

impl From<OAuthError> for GitHubError {
    fn from(e: OAuthError) -> Self {
        match e {
            OAuthError::Unreachable(reason) => GitHubError::Unreachable {
                url: "the OAuth endpoint".into(),
                reason,
            },
            OAuthError::Config(s) => GitHubError::Config(s),
            e @ OAuthError::NoApp => GitHubError::Config(e.to_string()),
            other => GitHubError::Status {
                status: 400,
                message: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_200_with_error_is_recognised() {
        assert!(carries_error(
            br#"{"error":"authorization_pending","error_description":"x"}"#
        ));
        assert!(!carries_error(
            br#"{"access_token":"gho_x","token_type":"bearer","scope":"repo"}"#
        ));
        assert!(!carries_error(b"access_token=gho_x&scope=repo"));
    }

    #[test]
    fn a_missing_client_id_is_a_clear_configuration_error() {
        let err = OAuth::new(&GitHubConfig::default(), super::super::http_client())
            .err()
            .expect("no client id");
        assert!(matches!(err, OAuthError::NoApp), "{err}");
        assert!(
            err.to_string().contains("not set up on this daemon"),
            "{err}"
        );
    }
}
