//! Slack's Web API as tidemark uses it: `oauth.v2.access`, `auth.test`, `auth.revoke`,
//! `conversations.list`, `conversations.history`, `chat.postMessage`, `chat.update`. Slack
//! answers errors as HTTP 200 with `{"ok": false, "error": "..."}` and rate limits as 429 with
//! `Retry-After`; both become a [`SlackError`]. Tokens travel only in the Authorization
//! header (or the form of the code exchange) and never in an error.

use crate::crypto::Secret;
use serde_json::Value;
use std::time::Duration;

/// Channels asked per page of `conversations.list` (Slack's recommended at most 200).
const PAGE: u32 = 200;
/// Pages read at most (20,000 channels).
const MAX_PAGES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackError {
    /// Slack said no: its error code (`channel_not_found`, `token_revoked`, …).
    #[error("Slack answered `{0}`")]
    Api(String),
    #[error("Slack asks to wait {0:?} (rate limited)")]
    RateLimited(Duration),
    #[error("Slack is unreachable: {0}")]
    Unreachable(String),
    #[error("Slack's answer was not understood: {0}")]
    Protocol(String),
}

impl SlackError {
    /// The token no longer works: a person must connect again.
    pub fn is_revoked(&self) -> bool {
        matches!(self, SlackError::Api(code) if matches!(
            code.as_str(),
            "token_revoked" | "invalid_auth" | "account_inactive" | "not_authed"
                | "token_expired" | "no_permission" | "missing_scope" | "team_access_not_granted"
        ))
    }

    /// The channel cannot take our messages (gone, archived, the bot not in it).
    pub fn is_channel_problem(&self) -> bool {
        matches!(self, SlackError::Api(code) if matches!(
            code.as_str(),
            "channel_not_found" | "not_in_channel" | "is_archived"
        ))
    }

    /// Worth trying again later as it is.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SlackError::RateLimited(_) | SlackError::Unreachable(_)
        ) || matches!(self, SlackError::Api(c) if c == "internal_error" || c == "fatal_error" || c == "ratelimited")
    }
}

/// What an app installation gave.
pub struct Installed {
    pub token: Secret,
    pub workspace: String,
    pub workspace_id: String,
    pub bot_user_id: Option<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    pub id: String,
    pub name: String,
    pub is_member: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub ts: String,
    pub text: String,
    pub bot_id: Option<String>,
}

/// How a call authenticates: the bot token, or the app itself (the code exchange).
enum Auth<'a> {
    Bearer(&'a Secret),
    Basic(&'a str, &'a Secret),
}

#[derive(Clone)]
pub struct SlackApi {
    http: reqwest::Client,
    base: String,
}

impl SlackApi {
    pub fn new(http: reqwest::Client, base: &str) -> SlackApi {
        SlackApi {
            http,
            base: base.trim_end_matches('/').to_string(),
        }
    }

    /// The "Add to Slack" page for these scopes.
    pub fn authorize_url(
        &self,
        client_id: &str,
        scopes: &str,
        redirect: &str,
        state: &str,
    ) -> String {
        let mut u = url::Url::parse(&format!("{}/oauth/v2/authorize", self.base))
            .expect("a base URL checked by the settings");
        u.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("scope", scopes)
            .append_pair("redirect_uri", redirect)
            .append_pair("state", state);
        u.to_string()
    }

    /// One Web API call: POST form, token in the header (None for the code exchange).
    async fn call(
        &self,
        method: &str,
        token: Option<&Secret>,
        form: &[(&str, &str)],
    ) -> Result<Value, SlackError> {
        self.call_as(method, token.map(Auth::Bearer), form).await
    }

    async fn call_as(
        &self,
        method: &str,
        auth: Option<Auth<'_>>,
        form: &[(&str, &str)],
    ) -> Result<Value, SlackError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let mut req = self
            .http
            .post(format!("{}/api/{method}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        match auth {
            Some(Auth::Bearer(t)) => req = req.bearer_auth(t.expose()),
            Some(Auth::Basic(id, secret)) => req = req.basic_auth(id, Some(secret.expose())),
            None => {}
        }
        let resp = req
            .send()
            .await
            .map_err(|e| SlackError::Unreachable(crate::github::api::without_url(&e)))?;
        let status = resp.status();
        if status.as_u16() == 429 {
            let wait = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(30);
            return Err(SlackError::RateLimited(Duration::from_secs(
                wait.clamp(1, 3_600),
            )));
        }
        if status.is_server_error() {
            return Err(SlackError::Unreachable(format!("Slack answered {status}")));
        }
        let body: Value = resp.json().await.map_err(|e| {
            SlackError::Protocol(format!("{method}: {}", crate::github::api::without_url(&e)))
        })?;
        if body["ok"].as_bool() == Some(true) {
            return Ok(body);
        }
        match body["error"].as_str() {
            Some(code) => Err(SlackError::Api(code.chars().take(80).collect())),
            None => Err(SlackError::Protocol(format!(
                "{method}: HTTP {status} without `ok`"
            ))),
        }
    }

    /// Exchange an authorization code for the bot token (`oauth.v2.access`).
    pub async fn oauth_access(
        &self,
        client_id: &str,
        client_secret: &Secret,
        code: &Secret,
        redirect: &str,
    ) -> Result<Installed, SlackError> {
        // The app's credentials by HTTP Basic, as Slack prefers to parameters.
        let body = self
            .call_as(
                "oauth.v2.access",
                Some(Auth::Basic(client_id, client_secret)),
                &[("code", code.expose()), ("redirect_uri", redirect)],
            )
            .await?;
        let token = body["access_token"]
            .as_str()
            .filter(|t| t.starts_with("xoxb-"))
            .ok_or_else(|| SlackError::Protocol("oauth.v2.access: no bot token".into()))?;
        Ok(Installed {
            token: Secret::new(token),
            workspace: body["team"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            workspace_id: body["team"]["id"].as_str().unwrap_or_default().to_string(),
            bot_user_id: body["bot_user_id"].as_str().map(String::from),
            scopes: body["scope"]
                .as_str()
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        })
    }

    /// Is the token still good? (`auth.test`)
    pub async fn auth_test(&self, token: &Secret) -> Result<(), SlackError> {
        self.call("auth.test", Some(token), &[]).await.map(|_| ())
    }

    /// Revoke the token (`auth.revoke`).
    pub async fn revoke(&self, token: &Secret) -> Result<(), SlackError> {
        self.call("auth.revoke", Some(token), &[]).await.map(|_| ())
    }

    /// Every public channel not archived, by cursor.
    pub async fn channels(&self, token: &Secret) -> Result<Vec<Channel>, SlackError> {
        let mut out = Vec::new();
        let mut cursor = String::new();
        let limit = PAGE.to_string();
        for _ in 0..MAX_PAGES {
            let mut form = vec![
                ("types", "public_channel"),
                ("exclude_archived", "true"),
                ("limit", limit.as_str()),
            ];
            if !cursor.is_empty() {
                form.push(("cursor", cursor.as_str()));
            }
            let body = self.call("conversations.list", Some(token), &form).await?;
            for c in body["channels"].as_array().into_iter().flatten() {
                if let (Some(id), Some(name)) = (c["id"].as_str(), c["name"].as_str()) {
                    out.push(Channel {
                        id: id.to_string(),
                        name: name.to_string(),
                        is_member: c["is_member"].as_bool().unwrap_or(false),
                    });
                }
            }
            cursor = body["response_metadata"]["next_cursor"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if cursor.is_empty() {
                return Ok(out);
            }
        }
        Err(SlackError::Protocol(
            "conversations.list: more pages than tidemark reads".into(),
        ))
    }

    /// Post a message; answers its `ts`.
    pub async fn post(
        &self,
        token: &Secret,
        channel: &str,
        text: &str,
    ) -> Result<String, SlackError> {
        let body = self
            .call(
                "chat.postMessage",
                Some(token),
                &[
                    ("channel", channel),
                    ("text", text),
                    ("unfurl_links", "false"),
                ],
            )
            .await?;
        body["ts"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| SlackError::Protocol("chat.postMessage: no ts".into()))
    }

    /// Replace a posted message's text (idempotent: the same text twice is one edit's result).
    pub async fn update(
        &self,
        token: &Secret,
        channel: &str,
        ts: &str,
        text: &str,
    ) -> Result<(), SlackError> {
        self.call(
            "chat.update",
            Some(token),
            &[("channel", channel), ("ts", ts), ("text", text)],
        )
        .await
        .map(|_| ())
    }

    /// The channel's messages since `oldest` (a Unix time), newest first, at most `limit`.
    pub async fn history(
        &self,
        token: &Secret,
        channel: &str,
        oldest: i64,
        limit: u32,
    ) -> Result<Vec<Message>, SlackError> {
        let oldest = format!("{oldest}.000000");
        let limit = limit.to_string();
        let body = self
            .call(
                "conversations.history",
                Some(token),
                &[("channel", channel), ("oldest", &oldest), ("limit", &limit)],
            )
            .await?;
        Ok(body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| {
                Some(Message {
                    ts: m["ts"].as_str()?.to_string(),
                    text: m["text"].as_str().unwrap_or_default().to_string(),
                    bot_id: m["bot_id"].as_str().map(String::from),
                })
            })
            .collect())
    }
}
