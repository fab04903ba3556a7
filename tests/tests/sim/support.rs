//! What the simulator's tests share: a simulator with a small org, and a client for it.

use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};

pub fn small() -> SimConfig {
    SimConfig {
        org: OrgSpec {
            repos: 3,
            prs_per_repo: 4,
            members: 5,
            now: 1_760_000_000,
            ..OrgSpec::default()
        },
        ..SimConfig::default()
    }
}

/// A running simulator and an HTTP client that does not follow redirects (the web flow's answers
/// are redirects to look at).
pub struct Gh {
    pub sim: Sim,
    pub http: reqwest::Client,
    /// The viewer's token, for `api`.
    pub token: String,
    /// The org's login.
    pub org: String,
}

impl Gh {
    pub fn new(config: SimConfig) -> Gh {
        let sim = Sim::start(config, "127.0.0.1:0").unwrap();
        let token = sim.token_for(&sim.viewer_login());
        let org = sim.world().org().login.clone();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Gh {
            sim,
            http,
            token,
            org,
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.sim.url())
        }
    }

    pub async fn api_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let r = self.send(token, method, path, body).await;
        let status = r.status();
        let bytes = r.bytes().await.unwrap();
        let v = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, v)
    }

    pub async fn send(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        let mut req = self
            .http
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    /// `/_sim/...`: must succeed.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }
}

pub fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}
