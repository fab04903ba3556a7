//! The Slack simulator over real HTTP: OAuth v2 install, the Web API methods in Slack's shapes,
//! its errors (HTTP 200, `ok: false`), rate limits with `Retry-After`, faults, and the control
//! API's counts. This file holds the client the tests share.

mod control;
mod limits;
mod methods;
mod oauth;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tidemark_tests::slack_sim::{SlackConfig, SlackSim};

pub struct Slack {
    pub sim: SlackSim,
    pub http: reqwest::Client,
    pub token: String,
}

/// One answer: status, headers, JSON body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.body["ok"] == json!(true)
    }

    /// An error as Slack sends it: HTTP 200, `ok: false`, the error named.
    pub fn assert_error(&self, error: &str) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(self.body["ok"], json!(false), "{}", self.body);
        assert_eq!(self.body["error"], json!(error), "{}", self.body);
    }
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

impl Slack {
    pub fn new(config: SlackConfig) -> Slack {
        let sim = SlackSim::start(config);
        let token = sim.bot_token().unwrap_or_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Slack { sim, http, token }
    }

    pub fn default() -> Slack {
        Slack::new(SlackConfig::default())
    }

    pub async fn answer(r: reqwest::Response) -> Answer {
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `POST /api/<method>`, form-encoded, as most clients call it.
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: &str,
        args: &[(&str, &str)],
    ) -> Answer {
        let mut req = self
            .http
            .post(format!("{}/api/{method}", self.sim.url()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(args));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Slack::answer(req.send().await.unwrap()).await
    }

    pub async fn call(&self, method: &str, args: &[(&str, &str)]) -> Answer {
        self.call_as(Some(&self.token), method, args).await
    }

    /// `POST /api/<method>` with a JSON body under `content_type`.
    pub async fn call_json(&self, method: &str, content_type: &str, body: Value) -> Answer {
        let r = self
            .http
            .post(format!("{}/api/{method}", self.sim.url()))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        Slack::answer(r).await
    }

    pub async fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let r = self
            .http
            .request(
                method.parse().unwrap(),
                format!("{}/_sim/{path}", self.sim.url()),
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(
            status.is_success(),
            "{method} /_sim/{path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap()
    }

    /// The authorize page's redirect, parsed: (params of the Location).
    pub async fn authorize(&self, query: &[(&str, &str)]) -> Vec<(String, String)> {
        let r = self
            .http
            .get(format!(
                "{}/oauth/v2/authorize?{}",
                self.sim.url(),
                form(query)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FOUND);
        let location = r.headers()["location"].to_str().unwrap();
        let u = url::Url::parse(location).unwrap();
        assert_eq!(u.path(), "/slack/callback");
        u.query_pairs().into_owned().collect()
    }
}
