//! GitHub's GraphQL API: one POST per query, its rate-limit account read from both the headers
//! and `rateLimit`, and its failures typed (a 502 is "the page was too big", not "GitHub is down").

use super::budget::{Budget, Resource};
use super::{GitHubError, trim_base};
use crate::crypto::Secret;
use serde::Deserialize;
use serde_json::Value;

/// `https://api.github.com` → `.../graphql`; GitHub Enterprise's `https://HOST/api/v3` →
/// `https://HOST/api/graphql`.
pub fn endpoint(api_url: &str) -> String {
    let base = trim_base(api_url);
    match base.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{base}/graphql"),
    }
}

/// The message of a [`GitHubError::Status`] 502 that means "ask for less".
pub const QUERY_TIMEOUT: &str = "the query timed out at GitHub";

/// One error of a GraphQL answer.
#[derive(Debug, Clone, Deserialize)]
pub struct GqlError {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub path: Vec<Value>,
}

impl GqlError {
    /// The alias or field the error is about (first path element).
    pub fn root(&self) -> Option<&str> {
        self.path.first().and_then(|v| v.as_str())
    }
}

/// A GraphQL answer: data (possibly partial) and errors.
#[derive(Debug)]
pub struct Answer {
    pub data: Value,
    pub errors: Vec<GqlError>,
}

#[derive(Clone)]
pub struct GraphQl {
    http: reqwest::Client,
    url: String,
}

impl GraphQl {
    pub fn new(http: reqwest::Client, api_url: &str) -> GraphQl {
        GraphQl {
            http,
            url: endpoint(api_url),
        }
    }

    /// Run one query, waiting for the budget's turn first.
    pub async fn query(
        &self,
        token: &Secret,
        budget: &Budget,
        query: &str,
        variables: Value,
        on_wait: impl Fn(i64),
    ) -> Result<Answer, GitHubError> {
        let _slot = budget.turn(Resource::Graphql, on_wait).await;
        let resp = self
            .http
            .post(&self.url)
            .bearer_auth(token.expose())
            .header("accept", "application/json")
            .json(&serde_json::json!({ "query": query, "variables": variables }))
            .send()
            .await
            .map_err(|e| GitHubError::Unreachable {
                url: self.url.clone(),
                reason: super::api::without_url(&e),
            })?;
        budget.observe_headers(resp.headers());
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| GitHubError::Decode {
            what: "a GraphQL answer".into(),
            reason: super::api::without_url(&e),
        })?;
        if status.as_u16() == 401 {
            return Err(GitHubError::Unauthorized);
        }
        if status.as_u16() == 403 || status.as_u16() == 429 {
            let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
            if let Some(secs) = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()) {
                let retry_after = std::time::Duration::from_secs(secs);
                budget.back_off(retry_after);
                return Err(GitHubError::SecondaryLimit { retry_after });
            }
            if header("x-ratelimit-remaining") == Some("0") {
                let reset = header("x-ratelimit-reset")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                budget.exhausted(Resource::Graphql, reset);
                return Err(GitHubError::RateLimited { reset });
            }
        }
        if !status.is_success() {
            // GitHub's "your query took too long" is a 502 with a GraphQL body; a bare 502 from
            // a proxy is just GitHub being unwell.
            let timed_out =
                status.as_u16() == 502 && String::from_utf8_lossy(&bytes).contains("timeout");
            return Err(GitHubError::Status {
                status: status.as_u16(),
                message: if timed_out {
                    QUERY_TIMEOUT.into()
                } else {
                    status.canonical_reason().unwrap_or("error").into()
                },
            });
        }
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            data: Value,
            #[serde(default)]
            errors: Vec<GqlError>,
        }
        let raw: Raw = serde_json::from_slice(&bytes).map_err(|e| GitHubError::Decode {
            what: "a GraphQL answer".into(),
            reason: e.to_string(),
        })?;
        if let Some(rl) = raw.data.get("rateLimit") {
            let remaining = rl["remaining"].as_u64();
            let reset = rl["resetAt"].as_str().and_then(parse_time);
            if let (Some(remaining), Some(reset)) = (remaining, reset) {
                budget.observe_graphql(remaining, reset);
            }
        }
        if let Some(limited) = raw
            .errors
            .iter()
            .find(|e| e.kind.as_deref() == Some("RATE_LIMITED"))
        {
            let reset = raw.data["rateLimit"]["resetAt"]
                .as_str()
                .and_then(parse_time)
                .unwrap_or(0);
            budget.exhausted(Resource::Graphql, reset);
            let _ = limited;
            return Err(GitHubError::RateLimited { reset });
        }
        if raw.data.is_null() && !raw.errors.is_empty() {
            let msg = raw
                .errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("; ");
            return Err(GitHubError::Status {
                status: 200,
                message: format!("GraphQL: {msg}"),
            });
        }
        Ok(Answer {
            data: raw.data,
            errors: raw.errors,
        })
    }
}

/// GitHub's times: RFC 3339 (`2011-01-26T19:01:12Z`) → Unix seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_follows_the_api_url() {
        assert_eq!(
            endpoint("https://api.github.com"),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            endpoint("https://ghe.example/api/v3/"),
            "https://ghe.example/api/graphql"
        );
        assert_eq!(
            endpoint("http://127.0.0.1:5000"),
            "http://127.0.0.1:5000/graphql"
        );
        assert_eq!(parse_time("2011-01-26T19:01:12Z"), Some(1_296_068_472));
        assert_eq!(parse_time("soon"), None);
    }
}
