//! The simulator's OAuth (web flow with PKCE, device flow, expiring tokens, revocation), over real
//! HTTP. The client's side of each step is in `oauth/client.rs`.

mod client;

use crate::support::{Gh, set, small};
use base64::Engine;
use client::{FormFields, REDIRECT, VERIFIER};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use tidemark_tests::sim::SimConfig;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn is_gho(t: &str) -> bool {
    t.strip_prefix("gho_")
        .is_some_and(|r| r.len() == 36 && r.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[tokio::test]
async fn web_flow_with_pkce() {
    let gh = Gh::new(small());
    let q = gh.authorize(&[]).await;
    assert_eq!(q["state"], "st4te");
    let code = q["code"].clone();

    // A wrong verifier: the code is not accepted (and not used up).
    let wrong = gh
        .exchange(
            &code,
            "not-the-verifier-but-long-enough-to-look-real-1234",
            false,
        )
        .await;
    assert_eq!(s(&wrong["error"]), "bad_verification_code");
    assert!(!s(&wrong["error_description"]).is_empty());
    assert!(s(&wrong["error_uri"]).starts_with("https://docs.github.com/"));

    // Wrong secret: the credentials are checked first.
    let id = gh.client_id();
    let (_, bad) = gh
        .token(
            &[
                ("client_id", &id),
                ("client_secret", "nope"),
                ("code", &code),
                ("code_verifier", VERIFIER),
            ],
            true,
        )
        .await;
    assert_eq!(s(&bad["error"]), "incorrect_client_credentials");
    // No secret at all: the web flow needs it even with PKCE.
    let (_, bad) = gh
        .token(
            &[
                ("client_id", &id),
                ("code", &code),
                ("code_verifier", VERIFIER),
            ],
            true,
        )
        .await;
    assert_eq!(s(&bad["error"]), "incorrect_client_credentials");
    // Another redirect_uri than the authorization's.
    let secret = gh.client_secret();
    let (_, bad) = gh
        .token(
            &[
                ("client_id", &id),
                ("client_secret", &secret),
                ("code", &code),
                ("code_verifier", VERIFIER),
                ("redirect_uri", "http://127.0.0.1:9/elsewhere"),
            ],
            true,
        )
        .await;
    assert_eq!(s(&bad["error"]), "redirect_uri_mismatch");

    // Right: form-encoded by default.
    let ok = gh.exchange(&code, VERIFIER, false).await;
    let token = s(&ok["access_token"]).to_string();
    assert!(is_gho(&token), "{token}");
    assert_eq!(s(&ok["token_type"]), "bearer");
    assert_eq!(s(&ok["scope"]), "repo,read:org");
    assert!(
        !ok.contains_key("refresh_token"),
        "tokens do not expire by default"
    );
    assert_eq!(gh.user_status(&token).await, 200);
    let (_, me) = gh.api_as(&token, "GET", "/user", None).await;
    assert_eq!(me["login"], gh.sim.viewer_login().as_str());

    // Used once: never again.
    let again = gh.exchange(&code, VERIFIER, true).await;
    assert_eq!(s(&again["error"]), "bad_verification_code");

    // JSON when asked for, client credentials by Basic auth too.
    let code = gh.authorize(&[]).await["code"].clone();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let r = gh
        .http
        .post(gh.url("/login/oauth/access_token"))
        .header("accept", "application/json")
        .header("authorization", format!("Basic {basic}"))
        .json(&json!({ "code": code, "code_verifier": VERIFIER }))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(is_gho(s(&v["access_token"])), "{v}");
    assert_eq!(v["token_type"], "bearer");

    // A verifier is required when a challenge was given.
    let code = gh.authorize(&[]).await["code"].clone();
    let (_, no_verifier) = gh
        .token(
            &[
                ("client_id", &id),
                ("client_secret", &secret),
                ("code", &code),
            ],
            true,
        )
        .await;
    assert_eq!(s(&no_verifier["error"]), "bad_verification_code");

    // An expired code.
    let code = gh.authorize(&[]).await["code"].clone();
    gh.control("/_sim/oauth/codes/expire", json!({})).await;
    let expired = gh.exchange(&code, VERIFIER, true).await;
    assert_eq!(s(&expired["error"]), "bad_verification_code");

    // Unknown grant type.
    let (_, bad) = gh
        .token(&[("client_id", &id), ("grant_type", "password")], true)
        .await;
    assert_eq!(s(&bad["error"]), "unsupported_grant_type");
}

#[tokio::test]
async fn web_flow_denied_and_unknown_app() {
    let gh = Gh::new(small());
    gh.control("/_sim/oauth/deny", json!({})).await;
    let q = gh.authorize(&[]).await;
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st4te");
    assert!(q.contains_key("error_description"));
    assert!(!q.contains_key("code"));
    // Only the next one.
    assert!(gh.authorize(&[]).await.contains_key("code"));

    let r = gh
        .http
        .get(gh.url(&format!(
            "/login/oauth/authorize?client_id=nobody&redirect_uri={REDIRECT}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // A plain challenge is refused.
    let q = gh.authorize(&[("code_challenge_method", "plain")]).await;
    assert_eq!(q["error"], "invalid_request");
}

#[tokio::test]
async fn device_flow_pending_slow_down_then_success() {
    // GitHub's 5-second interval, approved by itself after 2 polls (the defaults).
    let gh = Gh::new(small());
    let d = gh.device_code().await;
    let device_code = s(&d["device_code"]).to_string();
    assert!(device_code.len() == 40 && device_code.chars().all(|c| c.is_ascii_hexdigit()));
    let user_code = s(&d["user_code"]);
    let (a, b) = user_code.split_once('-').unwrap();
    assert!(a.len() == 4 && b.len() == 4, "{user_code}");
    assert!(
        user_code
            .chars()
            .all(|c| c == '-' || c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert_eq!(
        d["verification_uri"],
        format!("{}/login/device", gh.sim.url())
    );
    assert_eq!(d["expires_in"], 900);
    assert_eq!(d["interval"], 5);

    let first = gh.poll(&device_code).await;
    assert_eq!(s(&first["error"]), "authorization_pending");
    // Polling again at once is too fast: slow down, five more seconds.
    let fast = gh.poll(&device_code).await;
    assert_eq!(s(&fast["error"]), "slow_down");
    assert_eq!(fast["interval"], 10);
    let faster = gh.poll(&device_code).await;
    assert_eq!(s(&faster["error"]), "slow_down");
    assert_eq!(faster["interval"], 15);

    // Tests need not wait: no interval at all.
    gh.control("/_sim/oauth", json!({ "interval": 0 })).await;
    let second = gh.poll(&device_code).await;
    assert_eq!(s(&second["error"]), "authorization_pending");
    let done = gh.poll(&device_code).await;
    let token = s(&done["access_token"]).to_string();
    assert!(is_gho(&token), "{done:?}");
    assert_eq!(s(&done["token_type"]), "bearer");
    assert_eq!(s(&done["scope"]), "repo,read:org");
    assert_eq!(gh.user_status(&token).await, 200);
    // Exchanged once.
    let again = gh.poll(&device_code).await;
    assert_eq!(s(&again["error"]), "incorrect_device_code");
    let unknown = gh.poll("0000000000000000000000000000000000000000").await;
    assert_eq!(s(&unknown["error"]), "incorrect_device_code");
}

#[tokio::test]
async fn device_flow_explicit_approval_denial_and_expiry() {
    let gh = Gh::new(SimConfig {
        auto_approve: None,
        device_interval: 0,
        ..small()
    });
    // Never approved by itself.
    let d = gh.device_code().await;
    let code = s(&d["device_code"]).to_string();
    assert_eq!(d["interval"], 0);
    for _ in 0..4 {
        assert_eq!(s(&gh.poll(&code).await["error"]), "authorization_pending");
    }
    let state = gh
        .http
        .get(gh.url("/_sim/oauth"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(state["device_codes"][0]["status"], "pending");
    assert_eq!(state["device_codes"][0]["polls"], 4);
    // Approved as someone else than the viewer.
    let other = {
        let w = gh.sim.world();
        let id = *w.members.keys().nth(1).unwrap();
        w.account(id).login.clone()
    };
    gh.control(
        "/_sim/oauth/device/approve",
        json!({ "user_code": d["user_code"], "login": other }),
    )
    .await;
    let done = gh.poll(&code).await;
    let token = s(&done["access_token"]).to_string();
    let (_, me) = gh.api_as(&token, "GET", "/user", None).await;
    assert_eq!(me["login"], other.as_str());

    // Denied.
    let d = gh.device_code().await;
    let code = s(&d["device_code"]).to_string();
    gh.control(
        "/_sim/oauth/device/deny",
        json!({ "user_code": d["user_code"] }),
    )
    .await;
    assert_eq!(s(&gh.poll(&code).await["error"]), "access_denied");

    // Expired.
    let d = gh.device_code().await;
    let code = s(&d["device_code"]).to_string();
    gh.control("/_sim/oauth/device/expire", json!({})).await;
    assert_eq!(s(&gh.poll(&code).await["error"]), "expired_token");

    // The device flow switched off for the app.
    gh.control("/_sim/oauth", json!({ "device_flow": false }))
        .await;
    let r = gh
        .http
        .post(gh.url("/login/device/code"))
        .header("accept", "application/json")
        .form_fields(&[("client_id", &gh.client_id())])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"], "device_flow_disabled");
    assert_eq!(s(&gh.poll(&code).await["error"]), "device_flow_disabled");

    // Unknown app.
    let r = gh
        .http
        .post(gh.url("/login/device/code"))
        .form_fields(&[("client_id", "nobody")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn device_code_answers_form_encoded_by_default() {
    let gh = Gh::new(small());
    let r = gh
        .http
        .post(gh.url("/login/device/code"))
        .form_fields(&[("client_id", &gh.client_id())])
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    let body = r.bytes().await.unwrap();
    let fields: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    assert_eq!(
        fields.keys().cloned().collect::<BTreeSet<_>>(),
        set(&[
            "device_code",
            "user_code",
            "verification_uri",
            "expires_in",
            "interval"
        ])
    );
    assert_eq!(fields["expires_in"], "900");
}

#[tokio::test]
async fn revoked_tokens_answer_401() {
    let gh = Gh::new(small());
    let secret = gh.client_secret();
    let a = s(&gh.web_token().await["access_token"]).to_string();
    let b = s(&gh.web_token().await["access_token"]).to_string();
    let c = s(&gh.web_token().await["access_token"]).to_string();
    assert_eq!(gh.user_status(&a).await, 200);

    // Wrong app credentials: 404, and nothing happens.
    assert_eq!(gh.revoke("token", &a, "wrong").await, 404);
    assert_eq!(gh.user_status(&a).await, 200);

    // One token.
    assert_eq!(gh.revoke("token", &a, &secret).await, 204);
    assert_eq!(gh.user_status(&a).await, 401);
    assert_eq!(gh.user_status(&b).await, 200);
    // Already revoked: not found.
    assert_eq!(gh.revoke("token", &a, &secret).await, 404);

    // The grant: every token of that user for the app.
    assert_eq!(gh.revoke("grant", &b, &secret).await, 204);
    assert_eq!(gh.user_status(&b).await, 401);
    assert_eq!(gh.user_status(&c).await, 401);
    let (status, body) = gh.api_as(&c, "GET", "/user", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Bad credentials");
}

#[tokio::test]
async fn expiring_tokens_refresh_and_rotate() {
    let gh = Gh::new(small());
    gh.control("/_sim/oauth", json!({ "token_lifetime": 28800 }))
        .await;
    let t = gh.web_token().await;
    assert_eq!(t["expires_in"], 28800);
    assert_eq!(t["refresh_token_expires_in"], 15_811_200);
    let access = s(&t["access_token"]).to_string();
    let refresh = s(&t["refresh_token"]).to_string();
    assert!(refresh.starts_with("ghr_"), "{refresh}");
    assert_eq!(gh.user_status(&access).await, 200);

    let (id, secret) = (gh.client_id(), gh.client_secret());
    let refresh_with = |rt: String| {
        let (id, secret) = (id.clone(), secret.clone());
        let gh = &gh;
        async move {
            gh.token(
                &[
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                ],
                true,
            )
            .await
            .1
        }
    };
    let renewed = refresh_with(refresh.clone()).await;
    let access2 = s(&renewed["access_token"]).to_string();
    let refresh2 = s(&renewed["refresh_token"]).to_string();
    assert!(is_gho(&access2));
    assert_ne!(refresh2, refresh);
    assert_eq!(renewed["scope"], "repo,read:org");
    // Both old ones stop working.
    assert_eq!(gh.user_status(&access).await, 401);
    assert_eq!(gh.user_status(&access2).await, 200);
    let reused = refresh_with(refresh).await;
    assert_eq!(s(&reused["error"]), "bad_refresh_token");
    // Refreshing a web-flow token needs the secret.
    let (_, no_secret) = gh
        .token(
            &[
                ("client_id", &id),
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh2),
            ],
            true,
        )
        .await;
    assert_eq!(s(&no_secret["error"]), "incorrect_client_credentials");

    // A lifetime of 0: expired at once.
    gh.control("/_sim/oauth", json!({ "token_lifetime": 0 }))
        .await;
    let t = gh.web_token().await;
    assert_eq!(gh.user_status(s(&t["access_token"])).await, 401);
    // Back to tokens that never expire.
    gh.control("/_sim/oauth", json!({ "token_lifetime": null }))
        .await;
    let t = gh.web_token().await;
    assert!(!t.contains_key("expires_in"));
}
