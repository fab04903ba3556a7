//! Talking to GitHub: the shared client (`live`: settings, HTTP, rate budgets), the REST client
//! (`api`), GraphQL (`graphql`, `reader`), OAuth (`oauth`) and token refresh (`tokens`), webhook
//! event kinds (`events`), and GitHub's JSON (`types`). The only module that knows GitHub's
//! URLs, headers and error conventions.

pub mod api;
pub mod budget;
pub mod delivery;
pub mod events;
pub mod graphql;
pub mod hooks;
pub mod limits;
pub mod live;
pub mod oauth;
pub mod reader;
pub mod tokens;
pub mod types;

use std::time::Duration;

pub use api::Api;
pub use live::{GitHub, GitHubLive};

/// Where GitHub lives and which OAuth app tidemark is.
#[derive(Clone)]
pub struct GitHubConfig {
    /// The web host: OAuth endpoints (`https://github.com`, or a GHES / simulator URL).
    pub web_url: String,
    /// The API host (`https://api.github.com`).
    pub api_url: String,
    pub client_id: Option<String>,
    /// Optional: the web flow and grant revocation need it; the device flow does not.
    pub client_secret: Option<crate::crypto::Secret>,
    /// Pin the OAuth callback listener (loopback only); default an ephemeral port.
    pub oauth_addr: Option<std::net::SocketAddr>,
}

impl std::fmt::Debug for GitHubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubConfig")
            .field("web_url", &self.web_url)
            .field("api_url", &self.api_url)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<set>"),
            )
            .field("oauth_addr", &self.oauth_addr)
            .finish()
    }
}

impl Default for GitHubConfig {
    fn default() -> Self {
        GitHubConfig {
            web_url: "https://github.com".into(),
            api_url: "https://api.github.com".into(),
            client_id: None,
            client_secret: None,
            oauth_addr: None,
        }
    }
}

/// What can go wrong talking to GitHub. Messages never carry a token.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error("GitHub rejected the token (401 Bad credentials): reconnect GitHub")]
    Unauthorized,
    #[error("GitHub rate limit reached; it resets at {reset} (Unix time)")]
    RateLimited { reset: i64 },
    /// `retry_after` as GitHub gave it; None when it named no time (then wait at least a
    /// minute, longer if it persists: `Budget::secondary`).
    #[error("GitHub asked us to slow down (secondary rate limit){}", match retry_after {
        Some(d) => format!("; retry in {}s", d.as_secs()),
        None => String::new(),
    })]
    SecondaryLimit { retry_after: Option<Duration> },
    /// GitHub gave up on a query (its 10-second limit): a 502 or 504, with or without a
    /// GraphQL body, or a 200 whose only error says it timed out. Ask for less.
    #[error("GitHub timed out on the query (HTTP {status})")]
    QueryTimeout { status: u16 },
    #[error("GitHub answered {status}: {message}")]
    Status { status: u16, message: String },
    #[error("GitHub is unreachable at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("unexpected answer from GitHub ({what}): {reason}")]
    Decode { what: String, reason: String },
    #[error("{0}")]
    Config(String),
}

impl GitHubError {
    /// Worth trying again later (as opposed to a configuration or permission problem).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            GitHubError::Unreachable { .. }
                | GitHubError::RateLimited { .. }
                | GitHubError::SecondaryLimit { .. }
                | GitHubError::QueryTimeout { .. }
        ) || matches!(self, GitHubError::Status { status, .. } if *status >= 500)
    }
}

/// The HTTP client every GitHub call uses: no redirects (a token must never follow one), a
/// timeout, and our user agent.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("tidemark/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a reqwest client with static settings builds")
}

/// `https://x/` → `https://x`, so paths can be appended.
pub fn trim_base(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}
