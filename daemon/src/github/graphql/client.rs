//! GitHub's GraphQL API on the wire: one POST per document, its rate-limit account read from
//! the headers and `rateLimit`, and its failures typed as GitHub sends them (a primary limit as
//! a 403 or as a 200 with `RATE_LIMITED`, secondary limits with and without `retry-after`, the
//! query time limit as a 502/504 with or without a body).

use super::super::budget::{Budget, Resource};
use super::super::limits::{is_graphql_rate_limit, is_timeout_message, refusal};
use super::super::{GitHubError, trim_base};
use crate::crypto::Secret;
use serde::Deserialize;
use serde::de::DeserializeOwned;
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

/// One error of a GraphQL answer.
#[derive(Debug, Clone, Deserialize)]
pub struct GqlError {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub path: Vec<Value>,
    #[serde(default)]
    pub extensions: Option<Value>,
}

impl GqlError {
    /// The alias or field the error is about (first path element).
    pub fn root(&self) -> Option<&str> {
        self.path.first().and_then(|v| v.as_str())
    }

    fn is_rate_limit(&self) -> bool {
        let ext_code = self
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(Value::as_str);
        is_graphql_rate_limit(self.kind.as_deref(), self.code.as_deref().or(ext_code))
    }
}

/// A GraphQL answer: data (possibly partial) and errors.
#[derive(Debug)]
pub struct Answer {
    pub data: Value,
    pub errors: Vec<GqlError>,
}

impl Answer {
    /// The data as the document's typed answer. A shape we cannot read is an error, never a
    /// silent default.
    pub fn decode<T: DeserializeOwned>(&self, what: &str) -> Result<T, GitHubError> {
        T::deserialize(&self.data).map_err(|e| GitHubError::Decode {
            what: what.to_string(),
            reason: e.to_string(),
        })
    }

    /// The answer under one alias of the query (null or absent: None).
    pub fn decode_alias<T: DeserializeOwned>(
        &self,
        alias: &str,
        what: &str,
    ) -> Result<Option<T>, GitHubError> {
        match self.data.get(alias) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => T::deserialize(v)
                .map(Some)
                .map_err(|e| GitHubError::Decode {
                    what: what.to_string(),
                    reason: e.to_string(),
                }),
        }
    }

    /// The message of the error about `alias`, if GitHub sent one.
    pub fn error_at(&self, alias: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.root() == Some(alias))
            .map(|e| e.message.as_str())
    }
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

    /// Run one query, waiting for the budget's turn first. Limits are recorded in `budget`
    /// (so the next turn waits for them) before they are returned as errors.
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
                reason: super::super::api::without_url(&e),
            })?;
        budget.observe_headers(resp.headers());
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| GitHubError::Decode {
            what: "a GraphQL answer".into(),
            reason: super::super::api::without_url(&e),
        })?;
        let result = read_answer(status, &headers, &bytes, budget);
        match &result {
            Err(GitHubError::SecondaryLimit { .. } | GitHubError::RateLimited { .. }) => {}
            _ => budget.succeeded(),
        }
        result
    }
}

/// What one HTTP answer to a GraphQL POST means.
fn read_answer(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    bytes: &[u8],
    budget: &Budget,
) -> Result<Answer, GitHubError> {
    if status == 401 {
        return Err(GitHubError::Unauthorized);
    }
    #[derive(Deserialize)]
    struct Raw {
        #[serde(default)]
        data: Value,
        #[serde(default)]
        errors: Vec<GqlError>,
        #[serde(default)]
        message: Option<String>,
    }
    let raw: Option<Raw> = serde_json::from_slice(bytes).ok();
    let message = raw
        .as_ref()
        .and_then(|r| r.message.clone())
        .or_else(|| {
            raw.as_ref()
                .and_then(|r| r.errors.first().map(|e| e.message.clone()))
        })
        .unwrap_or_default();
    if let Some(limit) = refusal(status, headers, &message) {
        return Err(record_limit(limit, budget));
    }
    if status == 502 || status == 504 {
        // GitHub's 10-second limit, whether its front end answered with a GraphQL body or a
        // bare page: ask for less.
        return Err(GitHubError::QueryTimeout { status });
    }
    if !(200..300).contains(&status) {
        return Err(GitHubError::Status {
            status,
            message: if message.is_empty() {
                reqwest::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("error")
                    .into()
            } else {
                message
            },
        });
    }
    let raw = raw.ok_or_else(|| GitHubError::Decode {
        what: "a GraphQL answer".into(),
        reason: "not JSON".into(),
    })?;
    if let Some(rl) = raw.data.get("rateLimit") {
        let remaining = rl["remaining"].as_u64();
        let reset = rl["resetAt"].as_str().and_then(parse_time);
        if let (Some(remaining), Some(reset)) = (remaining, reset) {
            budget.observe_graphql(remaining, reset);
        }
    }
    if raw.errors.iter().any(GqlError::is_rate_limit) {
        // Primary limit as an HTTP 200: `data` is null, so the reset comes from the headers
        // (already recorded), never from the missing `rateLimit`.
        let reset = headers
            .get("x-ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        return Err(record_limit(GitHubError::RateLimited { reset }, budget));
    }
    if raw.data.is_null() && !raw.errors.is_empty() {
        if raw.errors.iter().any(|e| is_timeout_message(&e.message)) {
            return Err(GitHubError::QueryTimeout { status });
        }
        let msg = raw
            .errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(GitHubError::Status {
            status,
            message: format!("GraphQL: {msg}"),
        });
    }
    Ok(Answer {
        data: raw.data,
        errors: raw.errors,
    })
}

/// Put a limit into the budget, so no request leaves before it has passed; the error returned
/// carries the time actually waited for.
fn record_limit(limit: GitHubError, budget: &Budget) -> GitHubError {
    match limit {
        GitHubError::SecondaryLimit { retry_after } => GitHubError::SecondaryLimit {
            retry_after: Some(budget.secondary(retry_after)),
        },
        GitHubError::RateLimited { reset } => {
            // No usable reset (a body without headers): the last one GitHub gave, else a minute.
            let reset = if reset > crate::store::now() {
                reset
            } else {
                budget
                    .known_reset(Resource::Graphql)
                    .unwrap_or_else(|| crate::store::now() + 60)
            };
            budget.exhausted(Resource::Graphql, reset);
            GitHubError::RateLimited { reset }
        }
        other => other,
    }
}

/// GitHub's times: RFC 3339 (`2011-01-26T19:01:12Z`) → Unix seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
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

    fn headers(pairs: &[(&'static str, String)]) -> reqwest::header::HeaderMap {
        let mut h = reqwest::header::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    /// GitHub's primary limit as an HTTP 200: the reset comes from the headers, and the budget
    /// holds every request until then.
    #[test]
    fn rate_limited_as_200_waits_for_the_headers_reset() {
        let reset = crate::store::now() + 1_800;
        let h = headers(&[
            ("x-ratelimit-limit", "5000".into()),
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", reset.to_string()),
            ("x-ratelimit-resource", "graphql".into()),
        ]);
        for body in [
            r#"{"data":null,"errors":[{"type":"RATE_LIMITED","message":"API rate limit exceeded for user ID 1."}]}"#,
            r#"{"errors":[{"type":"RATE_LIMIT","message":"API rate limit exceeded"}]}"#,
            r#"{"data":null,"errors":[{"code":"graphql_rate_limit","message":"rate limit"}]}"#,
            r#"{"data":null,"errors":[{"message":"rate limit","extensions":{"code":"graphql_rate_limit"}}]}"#,
        ] {
            let budget = Budget::default();
            budget.observe_headers(&h);
            let got = read_answer(200, &h, body.as_bytes(), &budget);
            assert!(
                matches!(got, Err(GitHubError::RateLimited { reset: r }) if r == reset),
                "{body}: {got:?}"
            );
            let graphql = budget
                .snapshot()
                .into_iter()
                .find(|b| b.resource == "graphql")
                .unwrap();
            assert_eq!((graphql.remaining, graphql.reset_at), (0, reset), "{body}");
        }
        // Without headers the last known reset holds, else a minute: never "now" (0).
        let budget = Budget::default();
        let got = read_answer(
            200,
            &reqwest::header::HeaderMap::new(),
            br#"{"data":null,"errors":[{"type":"RATE_LIMITED","message":"x"}]}"#,
            &budget,
        );
        let now = crate::store::now();
        assert!(
            matches!(got, Err(GitHubError::RateLimited { reset }) if reset >= now + 59),
            "{got:?}"
        );
    }

    #[test]
    fn a_403_primary_limit_and_secondary_limits_are_recorded() {
        let reset = crate::store::now() + 600;
        let budget = Budget::default();
        let h = headers(&[
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", reset.to_string()),
        ]);
        let body = br#"{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api"}"#;
        let got = read_answer(403, &h, body, &budget);
        assert!(
            matches!(got, Err(GitHubError::RateLimited { reset: r }) if r == reset),
            "{got:?}"
        );

        let budget = Budget::default();
        let h = headers(&[("x-ratelimit-remaining", "4000".into())]);
        let body = br#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/graphql/overview/rate-limits-and-node-limits-for-the-graphql-api#secondary-rate-limits"}"#;
        let got = read_answer(403, &h, body, &budget);
        assert!(
            matches!(got, Err(GitHubError::SecondaryLimit { retry_after: Some(d) }) if d.as_secs() == 60),
            "{got:?}"
        );
        let got = read_answer(403, &h, body, &budget);
        assert!(
            matches!(got, Err(GitHubError::SecondaryLimit { retry_after: Some(d) }) if d.as_secs() == 120),
            "it persists: twice as long, {got:?}"
        );
    }

    #[test]
    fn timeouts_in_every_form_ask_for_less() {
        let budget = Budget::default();
        let none = reqwest::header::HeaderMap::new();
        for (status, body) in [
            (502, &br#"{"data":null,"errors":[{"message":"Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug."}]}"#[..]),
            (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
            (504, b"<html><body><h1>504 Gateway Time-out</h1></body></html>"),
            (502, b""),
            (200, br#"{"data":null,"errors":[{"message":"Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug."}]}"#),
        ] {
            let got = read_answer(status, &none, body, &budget);
            assert!(matches!(got, Err(GitHubError::QueryTimeout { .. })), "{status}: {got:?}");
        }
        // Other errors stay what they are.
        let got = read_answer(500, &none, b"oops", &budget);
        assert!(
            matches!(got, Err(GitHubError::Status { status: 500, .. })),
            "{got:?}"
        );
        let got = read_answer(
            200,
            &none,
            br#"{"data":null,"errors":[{"message":"Field 'x' doesn't exist on type 'PullRequest'"}]}"#,
            &budget,
        );
        assert!(
            matches!(got, Err(GitHubError::Status { status: 200, .. })),
            "{got:?}"
        );
    }
}
