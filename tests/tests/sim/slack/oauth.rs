//! The install: `/oauth/v2/authorize` and `oauth.v2.access`.

use super::{Slack, form};
use serde_json::{Value, json};
use tidemark_tests::slack_sim::{OAuthMode, SlackConfig};

const REDIRECT: &str = "http://127.0.0.1:9/slack/callback";

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn install_query(state: &str) -> Vec<(&'static str, String)> {
    let c = SlackConfig::default();
    vec![
        ("client_id", c.client_id),
        ("scope", "chat:write,channels:read".into()),
        ("redirect_uri", REDIRECT.into()),
        ("state", state.into()),
    ]
}

async fn code_for(s: &Slack, state: &str) -> String {
    let q = install_query(state);
    let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let params = s.authorize(&q).await;
    assert_eq!(param(&params, "state"), Some(state));
    param(&params, "code").expect("a code").to_string()
}

#[tokio::test]
async fn oauth_v2_install_round_trip_and_refusals() {
    let s = Slack::new(SlackConfig {
        installed_scopes: None,
        ..SlackConfig::default()
    });
    assert!(s.token.is_empty(), "not installed yet");
    let c = SlackConfig::default();
    let code = code_for(&s, "st-1").await;
    let exchange = |code: String, secret: String, redirect: &'static str| {
        let c = c.clone();
        let s = &s;
        async move {
            let args = [
                ("client_id", c.client_id.as_str()),
                ("client_secret", secret.as_str()),
                ("code", code.as_str()),
                ("redirect_uri", redirect),
            ];
            s.call_as(None, "oauth.v2.access", &args).await
        }
    };
    let a = exchange(code.clone(), c.client_secret.clone(), REDIRECT).await;
    assert!(a.ok(), "{}", a.body);
    let token = a.body["access_token"].as_str().unwrap().to_string();
    assert!(token.starts_with("xoxb-"));
    assert_eq!(a.body["token_type"], "bot");
    assert_eq!(a.body["scope"], "chat:write,channels:read");
    assert_eq!(a.body["team"]["id"], json!(c.team_id));
    assert_eq!(a.body["team"]["name"], json!(c.team_name));
    assert_eq!(a.body["enterprise"], Value::Null);
    assert_eq!(a.body["is_enterprise_install"], json!(false));
    assert!(a.body["bot_user_id"].as_str().unwrap().starts_with('U'));
    assert!(a.body["app_id"].as_str().unwrap().starts_with('A'));
    assert!(
        a.body["authed_user"]["id"]
            .as_str()
            .unwrap()
            .starts_with('U')
    );
    let who = s.call_as(Some(&token), "auth.test", &[]).await;
    assert!(who.ok(), "{}", who.body);

    // Codes are single-use.
    exchange(code, c.client_secret.clone(), REDIRECT)
        .await
        .assert_error("code_already_used");
    // A wrong secret, a wrong redirect, an unknown code.
    let code = code_for(&s, "st-2").await;
    exchange(code.clone(), "wrong".into(), REDIRECT)
        .await
        .assert_error("bad_client_secret");
    exchange(
        code.clone(),
        c.client_secret.clone(),
        "http://127.0.0.1:9/elsewhere",
    )
    .await
    .assert_error("bad_redirect_uri");
    exchange("nope".into(), c.client_secret.clone(), REDIRECT)
        .await
        .assert_error("invalid_code");
    let bad_id = s
        .call_as(
            None,
            "oauth.v2.access",
            &[("client_id", "1.2"), ("code", &code)],
        )
        .await;
    bad_id.assert_error("invalid_client_id");

    // HTTP Basic credentials, as Slack prefers; a reinstall keeps the live bot token.
    let r = s
        .http
        .post(format!("{}/api/oauth.v2.access", s.sim.url()))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("code", &code), ("redirect_uri", REDIRECT)]))
        .send()
        .await
        .unwrap();
    let again = Slack::answer(r).await;
    assert!(again.ok(), "{}", again.body);
    assert_eq!(again.body["access_token"], json!(token));

    // Codes expire after ten minutes.
    let code = code_for(&s, "st-3").await;
    s.control("POST", "clock", json!({"advance_secs": 601}))
        .await;
    exchange(code, c.client_secret.clone(), REDIRECT)
        .await
        .assert_error("invalid_code");
    assert_eq!(s.sim.stats().authorize, 3);
}

#[tokio::test]
async fn the_authorize_page_denies_or_waits_for_the_test() {
    let s = Slack::default();
    s.control("POST", "oauth", json!({"mode": "deny"})).await;
    let q = install_query("st-d");
    let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let params = s.authorize(&q).await;
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("st-d"));
    assert_eq!(param(&params, "code"), None);

    // Held until the test approves: the browser's request is answered only then.
    s.sim.set_oauth_mode(OAuthMode::Hold);
    let (approved, _) = tokio::join!(s.authorize(&q), async {
        s.sim.wait_authorize_held(1).await;
        assert_eq!(s.control("GET", "oauth", json!({})).await["held"], 1);
        assert_eq!(s.sim.approve(), 1);
    });
    assert!(param(&approved, "code").is_some());
    let (denied, _) = tokio::join!(s.authorize(&q), async {
        s.sim.wait_authorize_held(1).await;
        let r = s.control("POST", "oauth/deny", json!({})).await;
        assert_eq!(r["released"], 1);
    });
    assert_eq!(param(&denied, "error"), Some("access_denied"));
}
