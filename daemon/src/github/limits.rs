//! What GitHub's refusals mean: primary and secondary rate limits in each form GitHub documents
//! or is seen to send, for REST and GraphQL alike (one reading, so the two never disagree).

use super::GitHubError;
use reqwest::header::HeaderMap;
use std::time::Duration;

/// A refused request's meaning, if it is a rate limit: 403 or 429 with `retry-after` (a
/// secondary limit with its time), with `x-ratelimit-remaining: 0` (the primary budget, until
/// `x-ratelimit-reset`), or whose message says "secondary rate limit" (or the older "abuse
/// detection"), or any other 429 (secondary limits without a time). None: a real refusal
/// (permissions, SSO, a blocked token), not to be retried.
pub fn refusal(status: u16, headers: &HeaderMap, message: &str) -> Option<GitHubError> {
    if status != 403 && status != 429 {
        return None;
    }
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(secs) = header("retry-after").and_then(|v| v.parse::<u64>().ok()) {
        return Some(GitHubError::SecondaryLimit {
            retry_after: Some(Duration::from_secs(secs)),
        });
    }
    let lower = message.to_ascii_lowercase();
    let secondary = lower.contains("secondary rate limit") || lower.contains("abuse detection");
    if header("x-ratelimit-remaining") == Some("0") && !secondary {
        let reset = header("x-ratelimit-reset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        return Some(GitHubError::RateLimited { reset });
    }
    if secondary || status == 429 {
        return Some(GitHubError::SecondaryLimit { retry_after: None });
    }
    if lower.contains("api rate limit exceeded") {
        // The primary limit without its headers (a proxy dropped them): the reset is unknown.
        return Some(GitHubError::RateLimited { reset: 0 });
    }
    None
}

/// Does a GraphQL error entry say the primary rate limit is spent? GitHub sends `"type":
/// "RATE_LIMITED"` today; `"RATE_LIMIT"` and `"code": "graphql_rate_limit"` are seen too.
pub fn is_graphql_rate_limit(kind: Option<&str>, code: Option<&str>) -> bool {
    matches!(kind, Some("RATE_LIMITED" | "RATE_LIMIT")) || code == Some("graphql_rate_limit")
}

/// Does a GraphQL error message say GitHub gave up on the query (its time limit)?
pub fn is_timeout_message(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("timeout") || lower.contains("timed out")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    const SECONDARY: &str = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.";

    #[test]
    fn a_secondary_limit_with_retry_after_gives_its_time() {
        let got = refusal(403, &headers(&[("retry-after", "30")]), SECONDARY);
        assert!(
            matches!(got, Some(GitHubError::SecondaryLimit { retry_after: Some(d) }) if d.as_secs() == 30),
            "{got:?}"
        );
        let got = refusal(429, &headers(&[("retry-after", " 7 ")]), "");
        assert!(
            matches!(got, Some(GitHubError::SecondaryLimit { retry_after: Some(d) }) if d.as_secs() == 7),
            "{got:?}"
        );
    }

    #[test]
    fn a_secondary_limit_without_retry_after_is_still_a_limit() {
        let h = headers(&[
            ("x-ratelimit-remaining", "4321"),
            ("x-ratelimit-reset", "99"),
        ]);
        for status in [403, 429] {
            let got = refusal(status, &h, SECONDARY);
            assert!(
                matches!(got, Some(GitHubError::SecondaryLimit { retry_after: None })),
                "{status}: {got:?}"
            );
        }
        // The older wording.
        let got = refusal(403, &h, "You have triggered an abuse detection mechanism.");
        assert!(matches!(
            got,
            Some(GitHubError::SecondaryLimit { retry_after: None })
        ));
        // A bare 429.
        let got = refusal(429, &HeaderMap::new(), "");
        assert!(matches!(
            got,
            Some(GitHubError::SecondaryLimit { retry_after: None })
        ));
    }

    #[test]
    fn a_spent_primary_budget_waits_for_its_reset() {
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000000"),
        ]);
        let got = refusal(403, &h, "API rate limit exceeded for user ID 1.");
        assert!(
            matches!(
                got,
                Some(GitHubError::RateLimited {
                    reset: 1_700_000_000
                })
            ),
            "{got:?}"
        );
        let got = refusal(429, &h, "");
        assert!(
            matches!(got, Some(GitHubError::RateLimited { .. })),
            "{got:?}"
        );
    }

    #[test]
    fn other_refusals_are_not_limits() {
        let h = headers(&[("x-ratelimit-remaining", "4000")]);
        for message in [
            "Resource not accessible by integration",
            "Although you appear to have the correct authorization credentials, the `acme` organization has enabled OAuth App access restrictions, meaning that data access to third-parties is limited.",
            "Must have admin rights to Repository.",
        ] {
            assert!(refusal(403, &h, message).is_none(), "{message}");
        }
        assert!(refusal(404, &h, SECONDARY).is_none());
        assert!(refusal(500, &HeaderMap::new(), "").is_none());
    }

    #[test]
    fn graphql_rate_limit_entries_in_every_form_seen() {
        assert!(is_graphql_rate_limit(Some("RATE_LIMITED"), None));
        assert!(is_graphql_rate_limit(Some("RATE_LIMIT"), None));
        assert!(is_graphql_rate_limit(None, Some("graphql_rate_limit")));
        assert!(!is_graphql_rate_limit(Some("NOT_FOUND"), None));
        assert!(!is_graphql_rate_limit(None, None));
        assert!(is_timeout_message(
            "Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug."
        ));
        assert!(!is_timeout_message("Could not resolve to a Repository"));
    }
}
