//! The client's side of OAuth: authorizing, the token endpoint, the device flow and revocation.

use crate::support::Gh;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

pub const REDIRECT: &str = "http://127.0.0.1:8976/callback";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// S256 of VERIFIER (RFC 7636, appendix B).
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

impl Gh {
    pub fn client_id(&self) -> String {
        self.sim.shared.config.client_id.clone()
    }

    pub fn client_secret(&self) -> String {
        self.sim.shared.config.client_secret.clone()
    }

    /// `GET /login/oauth/authorize`: the redirect's query, as a map.
    pub async fn authorize(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let client_id = self.client_id();
        let mut params: Vec<(&str, &str)> = vec![
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("scope", "repo read:org"),
            ("state", "st4te"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in extra {
            params.retain(|(name, _)| name != k);
            params.push((k, v));
        }
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            q.append_pair(k, v);
        }
        let r = self
            .http
            .get(self.url(&format!("/login/oauth/authorize?{}", q.finish())))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with(REDIRECT), "{location}");
        url::Url::parse(&location)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    /// `POST /login/oauth/access_token` with form fields; the answer parsed from form or JSON.
    pub async fn token(
        &self,
        fields: &[(&str, &str)],
        json: bool,
    ) -> (String, HashMap<String, Value>) {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        let mut req = self
            .http
            .post(self.url("/login/oauth/access_token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.finish());
        if json {
            req = req.header("accept", "application/json");
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200, "GitHub answers OAuth errors with 200 too");
        let ct = r.headers()["content-type"].to_str().unwrap().to_string();
        let body = r.bytes().await.unwrap();
        let map = if json {
            assert!(ct.starts_with("application/json"), "{ct}");
            serde_json::from_slice::<serde_json::Map<String, Value>>(&body)
                .unwrap()
                .into_iter()
                .collect()
        } else {
            assert!(ct.starts_with("application/x-www-form-urlencoded"), "{ct}");
            url::form_urlencoded::parse(&body)
                .into_owned()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        };
        (ct, map)
    }

    pub async fn exchange(&self, code: &str, verifier: &str, json: bool) -> HashMap<String, Value> {
        let (id, secret) = (self.client_id(), self.client_secret());
        self.token(
            &[
                ("client_id", &id),
                ("client_secret", &secret),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ],
            json,
        )
        .await
        .1
    }

    pub async fn user_status(&self, token: &str) -> StatusCode {
        self.send(token, "GET", "/user", None).await.status()
    }
}

impl Gh {
    /// `POST /login/device/code` (JSON answer).
    pub async fn device_code(&self) -> Value {
        let r = self
            .http
            .post(self.url("/login/device/code"))
            .header("accept", "application/json")
            .form_fields(&[("client_id", &self.client_id()), ("scope", "repo read:org")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    /// One poll of the token endpoint for `device_code`, no client secret.
    pub async fn poll(&self, device_code: &str) -> HashMap<String, Value> {
        let id = self.client_id();
        self.token(
            &[
                ("client_id", &id),
                ("device_code", device_code),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ],
            true,
        )
        .await
        .1
    }
}

/// reqwest's `form` feature is not on: a form body by hand.
pub trait FormFields {
    fn form_fields(self, fields: &[(&str, &str)]) -> Self;
}

impl FormFields for reqwest::RequestBuilder {
    fn form_fields(self, fields: &[(&str, &str)]) -> Self {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(form.finish())
    }
}

impl Gh {
    pub async fn revoke(&self, what: &str, token: &str, secret: &str) -> StatusCode {
        let id = self.client_id();
        self.http
            .delete(self.url(&format!("/applications/{id}/{what}")))
            .basic_auth(&id, Some(secret))
            .json(&json!({ "access_token": token }))
            .send()
            .await
            .unwrap()
            .status()
    }

    /// A token through the web flow.
    pub async fn web_token(&self) -> HashMap<String, Value> {
        let code = self.authorize(&[]).await["code"].clone();
        self.exchange(&code, VERIFIER, true).await
    }
}
