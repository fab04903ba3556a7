//! GitHub's REST API with a user's token: one request helper that turns GitHub's status codes and
//! rate-limit headers into [`GitHubError`]s, and the calls tidemark makes.

use super::types::{ErrorBody, HookInfo, Org, OrgMembership, Repo, User};
use super::{GitHubError, trim_base};
use crate::crypto::Secret;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

/// The REST API at one base URL.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(http: reqwest::Client, api_url: &str) -> Api {
        Api {
            http,
            base: trim_base(api_url),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Send one request and map GitHub's failure answers to errors.
    async fn send(
        &self,
        method: Method,
        path_or_url: &str,
        token: &Secret,
        body: Option<&serde_json::Value>,
    ) -> Result<reqwest::Response, GitHubError> {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.base)
        };
        let mut req = self
            .http
            .request(method, &url)
            .bearer_auth(token.expose())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| GitHubError::Unreachable {
            url: strip_query(&url),
            reason: without_url(&e),
        })?;
        check(resp).await
    }

    /// One GET, its answer unchecked: the caller reads the status and headers (limits, paging).
    /// With `if_none_match` (an ETag GitHub gave), an unchanged answer is a 304, which GitHub
    /// does not count against the rate limit.
    pub(crate) async fn get_unchecked(
        &self,
        path_or_url: &str,
        token: &Secret,
        if_none_match: Option<&str>,
    ) -> Result<reqwest::Response, GitHubError> {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.base)
        };
        let mut req = self
            .http
            .get(&url)
            .bearer_auth(token.expose())
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if let Some(etag) = if_none_match {
            req = req.header("if-none-match", etag);
        }
        req.send().await.map_err(|e| GitHubError::Unreachable {
            url: strip_query(&url),
            reason: without_url(&e),
        })
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &Secret,
    ) -> Result<T, GitHubError> {
        let resp = self.send(Method::GET, path, token, None).await?;
        decode(resp, path).await
    }

    /// Every page of a list, following `Link: rel="next"`.
    async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        token: &Secret,
    ) -> Result<Vec<T>, GitHubError> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut next = Some(format!("{path}{sep}per_page=100"));
        let mut out = Vec::new();
        while let Some(url) = next.take() {
            let resp = self.send(Method::GET, &url, token, None).await?;
            next = next_link(resp.headers());
            let mut page: Vec<T> = decode(resp, path).await?;
            out.append(&mut page);
        }
        Ok(out)
    }

    pub async fn user(&self, token: &Secret) -> Result<User, GitHubError> {
        self.get_json("/user", token).await
    }

    /// `GET /user` and the token's scopes as GitHub lists them in `X-OAuth-Scopes` (None when
    /// the answer has no such header: tokens other than OAuth and classic personal ones).
    pub async fn user_and_scopes(
        &self,
        token: &Secret,
    ) -> Result<(User, Option<Vec<String>>), GitHubError> {
        let resp = self.send(Method::GET, "/user", token, None).await?;
        let scopes = resp
            .headers()
            .get("x-oauth-scopes")
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            });
        Ok((decode(resp, "/user").await?, scopes))
    }

    /// The authenticated user's membership of `org` (`GET /user/memberships/orgs/{org}`);
    /// None when GitHub says there is none (404, or 403 for an org the token cannot see).
    pub async fn org_membership(
        &self,
        token: &Secret,
        org: &str,
    ) -> Result<Option<OrgMembership>, GitHubError> {
        match self
            .get_json(&format!("/user/memberships/orgs/{org}"), token)
            .await
        {
            Ok(m) => Ok(Some(m)),
            Err(GitHubError::Status {
                status: 404 | 403, ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// One page of one repository of `org`: whether the token may read the org's resources
    /// at all (an org with OAuth App access restrictions answers 403).
    pub async fn org_repos_probe(&self, token: &Secret, org: &str) -> Result<(), GitHubError> {
        self.send(
            Method::GET,
            &format!("/orgs/{org}/repos?per_page=1"),
            token,
            None,
        )
        .await
        .map(|_| ())
    }

    pub async fn orgs(&self, token: &Secret) -> Result<Vec<Org>, GitHubError> {
        self.get_all("/user/orgs", token).await
    }

    /// Every repository of an organization the token can see.
    pub async fn org_repos(&self, token: &Secret, org: &str) -> Result<Vec<Repo>, GitHubError> {
        self.get_all(&format!("/orgs/{org}/repos?type=all&sort=full_name"), token)
            .await
    }

    /// One repository (`owner/repo`, already validated as a name).
    pub async fn repo(&self, token: &Secret, full_name: &str) -> Result<Repo, GitHubError> {
        self.get_json(&format!("/repos/{full_name}"), token).await
    }

    /// Create a repository webhook; returns its id.
    pub async fn create_hook(
        &self,
        token: &Secret,
        full_name: &str,
        body: &serde_json::Value,
    ) -> Result<u64, GitHubError> {
        #[derive(serde::Deserialize)]
        struct Created {
            id: u64,
        }
        let resp = self
            .send(
                Method::POST,
                &format!("/repos/{full_name}/hooks"),
                token,
                Some(body),
            )
            .await?;
        let created: Created = decode(resp, "a created webhook").await?;
        Ok(created.id)
    }

    /// A hook's recent deliveries, newest first, back to `since` (GitHub keeps 3 days).
    pub async fn hook_deliveries(
        &self,
        token: &Secret,
        full_name: &str,
        hook_id: u64,
        since: i64,
    ) -> Result<Vec<super::types::HookDelivery>, GitHubError> {
        let mut next = Some(format!(
            "/repos/{full_name}/hooks/{hook_id}/deliveries?per_page=100"
        ));
        let mut out = Vec::new();
        while let Some(url) = next.take() {
            let resp = self.send(Method::GET, &url, token, None).await?;
            next = next_link(resp.headers());
            let page: Vec<super::types::HookDelivery> = decode(resp, "hook deliveries").await?;
            let reached_old = page
                .iter()
                .any(|d| super::graphql::parse_time(&d.delivered_at).is_some_and(|t| t < since));
            out.extend(page);
            if reached_old {
                break;
            }
        }
        Ok(out)
    }

    /// Ask GitHub to deliver one delivery again (same `X-GitHub-Delivery`).
    pub async fn redeliver(
        &self,
        token: &Secret,
        full_name: &str,
        hook_id: u64,
        delivery_id: u64,
    ) -> Result<(), GitHubError> {
        self.send(
            Method::POST,
            &format!("/repos/{full_name}/hooks/{hook_id}/deliveries/{delivery_id}/attempts"),
            token,
            None,
        )
        .await
        .map(|_| ())
    }

    /// Change a hook's configuration (`PATCH .../hooks/{id}/config`): its URL and secret.
    pub async fn update_hook_config(
        &self,
        token: &Secret,
        full_name: &str,
        hook_id: u64,
        config: &serde_json::Value,
    ) -> Result<(), GitHubError> {
        self.patch_at(
            token,
            &format!("/repos/{full_name}/hooks/{hook_id}/config"),
            config,
        )
        .await
    }

    /// A repository hook as GitHub has it now; None when it is gone (404).
    pub async fn hook(
        &self,
        token: &Secret,
        full_name: &str,
        hook_id: u64,
    ) -> Result<Option<HookInfo>, GitHubError> {
        self.hook_at(token, &format!("/repos/{full_name}/hooks/{hook_id}"))
            .await
    }

    /// Ask GitHub to send the hook a `ping` (`POST .../hooks/{id}/pings`).
    pub async fn ping_hook(
        &self,
        token: &Secret,
        full_name: &str,
        hook_id: u64,
    ) -> Result<(), GitHubError> {
        self.send(
            Method::POST,
            &format!("/repos/{full_name}/hooks/{hook_id}/pings"),
            token,
            None,
        )
        .await
        .map(|_| ())
    }

    /// Every hook of a repository.
    pub async fn hooks(
        &self,
        token: &Secret,
        full_name: &str,
    ) -> Result<Vec<HookInfo>, GitHubError> {
        self.get_all(&format!("/repos/{full_name}/hooks"), token)
            .await
    }

    /// Change a repository hook (`PATCH /repos/{o}/{r}/hooks/{id}`), e.g. its `events`.
    pub async fn update_hook(
        &self,
        token: &Secret,
        full_name: &str,
        hook_id: u64,
        body: &serde_json::Value,
    ) -> Result<(), GitHubError> {
        self.patch_at(token, &format!("/repos/{full_name}/hooks/{hook_id}"), body)
            .await
    }

    /// Create an organization webhook (`POST /orgs/{org}/hooks`, needs `admin:org_hook` and an
    /// org owner); returns its id.
    pub async fn create_org_hook(
        &self,
        token: &Secret,
        org: &str,
        body: &serde_json::Value,
    ) -> Result<u64, GitHubError> {
        #[derive(serde::Deserialize)]
        struct Created {
            id: u64,
        }
        let resp = self
            .send(
                Method::POST,
                &format!("/orgs/{org}/hooks"),
                token,
                Some(body),
            )
            .await?;
        let created: Created = decode(resp, "a created organization webhook").await?;
        Ok(created.id)
    }

    /// Every hook of an organization.
    pub async fn org_hooks(&self, token: &Secret, org: &str) -> Result<Vec<HookInfo>, GitHubError> {
        self.get_all(&format!("/orgs/{org}/hooks"), token).await
    }

    /// An organization hook as GitHub has it now; None when it is gone (404).
    pub async fn org_hook(
        &self,
        token: &Secret,
        org: &str,
        hook_id: u64,
    ) -> Result<Option<HookInfo>, GitHubError> {
        self.hook_at(token, &format!("/orgs/{org}/hooks/{hook_id}"))
            .await
    }

    /// Change an organization hook (`PATCH /orgs/{org}/hooks/{id}`): its events, or with
    /// `config` its URL and secret.
    pub async fn update_org_hook(
        &self,
        token: &Secret,
        org: &str,
        hook_id: u64,
        body: &serde_json::Value,
    ) -> Result<(), GitHubError> {
        self.patch_at(token, &format!("/orgs/{org}/hooks/{hook_id}"), body)
            .await
    }

    /// Change an organization hook's configuration (`PATCH /orgs/{org}/hooks/{id}/config`).
    pub async fn update_org_hook_config(
        &self,
        token: &Secret,
        org: &str,
        hook_id: u64,
        config: &serde_json::Value,
    ) -> Result<(), GitHubError> {
        self.patch_at(
            token,
            &format!("/orgs/{org}/hooks/{hook_id}/config"),
            config,
        )
        .await
    }

    /// Delete an organization webhook; one already gone counts as deleted.
    pub async fn delete_org_hook(
        &self,
        token: &Secret,
        org: &str,
        hook_id: u64,
    ) -> Result<(), GitHubError> {
        self.delete_at(token, &format!("/orgs/{org}/hooks/{hook_id}"))
            .await
    }

    /// PATCH a hook (a repository's or an organization's) or its configuration.
    async fn patch_at(
        &self,
        token: &Secret,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<(), GitHubError> {
        self.send(Method::PATCH, path, token, Some(body))
            .await
            .map(|_| ())
    }

    /// DELETE a hook; one already gone counts as deleted.
    async fn delete_at(&self, token: &Secret, path: &str) -> Result<(), GitHubError> {
        match self.send(Method::DELETE, path, token, None).await {
            Ok(_) => Ok(()),
            Err(GitHubError::Status { status: 404, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn hook_at(&self, token: &Secret, path: &str) -> Result<Option<HookInfo>, GitHubError> {
        match self.send(Method::GET, path, token, None).await {
            Ok(resp) => Ok(Some(decode(resp, "a webhook").await?)),
            Err(GitHubError::Status { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Delete a repository webhook; one already gone counts as deleted.
    pub async fn delete_hook(
        &self,
        token: &Secret,
        full_name: &str,
        hook_id: u64,
    ) -> Result<(), GitHubError> {
        self.delete_at(token, &format!("/repos/{full_name}/hooks/{hook_id}"))
            .await
    }

    /// Revoke one token of our OAuth app (`DELETE /applications/{id}/token`, basic auth with the
    /// app's credentials). Not `/grant`: that would also kill the tokens of other teams that the
    /// same GitHub user connected.
    pub async fn revoke_token(
        &self,
        client_id: &str,
        client_secret: &Secret,
        token: &Secret,
    ) -> Result<(), GitHubError> {
        let url = format!("{}/applications/{client_id}/token", self.base);
        let resp = self
            .http
            .delete(&url)
            .basic_auth(client_id, Some(client_secret.expose()))
            .header("accept", "application/vnd.github+json")
            .json(&serde_json::json!({ "access_token": token.expose() }))
            .send()
            .await
            .map_err(|e| GitHubError::Unreachable {
                url: strip_query(&url),
                reason: without_url(&e),
            })?;
        check(resp).await.map(|_| ())
    }
}

/// Turn GitHub's non-2xx answers into errors, reading the rate-limit headers.
async fn check(resp: reqwest::Response) -> Result<reqwest::Response, GitHubError> {
    let status = resp.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        return Ok(resp);
    }
    let headers = resp.headers().clone();
    let message = resp
        .json::<ErrorBody>()
        .await
        .map(|b| b.describe())
        .unwrap_or_default();
    if status == StatusCode::UNAUTHORIZED {
        return Err(GitHubError::Unauthorized);
    }
    if let Some(limit) = super::limits::refusal(status.as_u16(), &headers, &message) {
        return Err(limit);
    }
    Err(GitHubError::Status {
        status: status.as_u16(),
        message: if message.is_empty() {
            status.canonical_reason().unwrap_or("error").to_string()
        } else {
            message
        },
    })
}

pub(crate) async fn decode<T: DeserializeOwned>(
    resp: reqwest::Response,
    what: &str,
) -> Result<T, GitHubError> {
    let bytes = resp.bytes().await.map_err(|e| GitHubError::Decode {
        what: strip_query(what),
        reason: without_url(&e),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| GitHubError::Decode {
        what: strip_query(what),
        reason: e.to_string(),
    })
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

/// A reqwest error's message without its URL's query (which could carry a code we must not
/// log), with its causes.
pub(crate) fn without_url(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    if let Some(url) = e.url() {
        msg = msg.replace(url.as_str(), &strip_query(url.as_str()));
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_githubs_rels() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(
            "link",
            "<https://api.github.com/x?page=1>; rel=\"prev\", <https://api.github.com/x?page=3>; rel=\"next\", <https://api.github.com/x?page=9>; rel=\"last\""
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/x?page=3")
        );
        h.insert(
            "link",
            "<https://api.github.com/x?page=1>; rel=\"first\""
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&h), None);
    }
}
