//! The Slack simulator over real HTTP: OAuth v2 install, the Web API methods in Slack's shapes,
//! its errors (HTTP 200, `ok: false`), rate limits with `Retry-After`, faults, and the control
//! API's counts.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;
use tidemark_tests::slack_sim::{Bucket, OAuthMode, SlackConfig, SlackSim};

/// A running simulator, a client that does not follow redirects, and the installed bot token.
struct Slack {
    sim: SlackSim,
    http: reqwest::Client,
    token: String,
}

/// One answer: status, headers, JSON body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn ok(&self) -> bool {
        self.body["ok"] == json!(true)
    }

    /// An error as Slack sends it: HTTP 200, `ok: false`, the error named.
    fn assert_error(&self, error: &str) {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        assert_eq!(self.body["ok"], json!(false), "{}", self.body);
        assert_eq!(self.body["error"], json!(error), "{}", self.body);
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

impl Slack {
    fn new(config: SlackConfig) -> Slack {
        let sim = SlackSim::start(config);
        let token = sim.bot_token().unwrap_or_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Slack { sim, http, token }
    }

    fn default() -> Slack {
        Slack::new(SlackConfig::default())
    }

    async fn answer(r: reqwest::Response) -> Answer {
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
    async fn call_as(&self, token: Option<&str>, method: &str, args: &[(&str, &str)]) -> Answer {
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

    async fn call(&self, method: &str, args: &[(&str, &str)]) -> Answer {
        self.call_as(Some(&self.token), method, args).await
    }

    /// `POST /api/<method>` with a JSON body under `content_type`.
    async fn call_json(&self, method: &str, content_type: &str, body: Value) -> Answer {
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

    async fn control(&self, method: &str, path: &str, body: Value) -> Value {
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
    async fn authorize(&self, query: &[(&str, &str)]) -> Vec<(String, String)> {
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

#[tokio::test]
async fn auth_test_names_the_team_and_the_bot() {
    let s = Slack::default();
    let a = s.call("auth.test", &[]).await;
    assert!(a.ok(), "{}", a.body);
    assert_eq!(a.body["url"], "https://tidemark-sim.slack.com/");
    assert_eq!(a.body["team"], "Tidemark Sim");
    assert_eq!(a.body["team_id"], "T0SIMTEAM1");
    assert!(a.body["user_id"].as_str().unwrap().starts_with('U'));
    assert!(a.body["bot_id"].as_str().unwrap().starts_with('B'));
    assert!(a.body["user"].is_string());
    assert_eq!(
        a.headers["x-oauth-scopes"],
        "chat:write,channels:read,channels:history"
    );
    s.call_as(None, "auth.test", &[])
        .await
        .assert_error("not_authed");
    s.call_as(Some("xoxb-1-2-unknown"), "auth.test", &[])
        .await
        .assert_error("invalid_auth");
}

#[tokio::test]
async fn conversations_list_pages_over_every_channel_exactly_once() {
    let s = Slack::new(SlackConfig {
        channels: 250,
        human_messages: 0,
        ..SlackConfig::default()
    });
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let a = s
            .call(
                "conversations.list",
                &[
                    ("limit", "100"),
                    ("cursor", &cursor),
                    ("types", "public_channel"),
                ],
            )
            .await;
        assert!(a.ok(), "{}", a.body);
        pages += 1;
        for c in a.body["channels"].as_array().unwrap() {
            assert_eq!(c["is_channel"], true);
            assert_eq!(c["is_member"], true);
            assert_eq!(c["is_archived"], false);
            seen.push(c["id"].as_str().unwrap().to_string());
        }
        cursor = a.body["response_metadata"]["next_cursor"]
            .as_str()
            .unwrap()
            .to_string();
        if cursor.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 250);
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 250);

    // Archived channels go with exclude_archived.
    let general = s.sim.channel_id("general").unwrap();
    s.control(
        "POST",
        &format!("channels/{general}"),
        json!({"archived": true}),
    )
    .await;
    let all = s.call("conversations.list", &[("limit", "1000")]).await;
    assert_eq!(all.body["channels"].as_array().unwrap().len(), 250);
    assert_eq!(all.body["response_metadata"]["next_cursor"], "");
    let live = s
        .call(
            "conversations.list",
            &[("limit", "1000"), ("exclude_archived", "true")],
        )
        .await;
    assert_eq!(live.body["channels"].as_array().unwrap().len(), 249);

    s.call("conversations.list", &[("cursor", "bm90IGEgY3Vyc29y")])
        .await
        .assert_error("invalid_cursor");
    let write_only = s.sim.mint_token(&["chat:write"]);
    let a = s
        .call_as(Some(&write_only), "conversations.list", &[])
        .await;
    a.assert_error("missing_scope");
    assert_eq!(a.body["needed"], "channels:read");
    assert_eq!(a.body["provided"], "chat:write");
}

#[tokio::test]
async fn post_update_and_history_show_the_edited_message() {
    let s = Slack::default();
    let eng = s.sim.channel_id("eng").unwrap();
    let first = s
        .call(
            "chat.postMessage",
            &[("channel", &eng), ("text", "deploy started")],
        )
        .await;
    assert!(first.ok(), "{}", first.body);
    assert_eq!(first.body["channel"], json!(eng));
    let ts1 = first.body["ts"].as_str().unwrap().to_string();
    assert_eq!(first.body["message"]["text"], "deploy started");
    assert_eq!(first.body["message"]["type"], "message");
    assert!(first.body["message"]["bot_id"].is_string());
    assert_eq!(first.body["message"]["ts"], json!(ts1));
    // By name, with blocks, as JSON.
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*done*"}}]);
    let second = s
        .call_json(
            "chat.postMessage",
            "application/json; charset=utf-8",
            json!({"channel": "#eng", "text": "deploy done", "blocks": blocks, "unfurl_links": false}),
        )
        .await;
    assert!(second.ok(), "{}", second.body);
    assert!(second.body.get("warning").is_none());
    let ts2 = second.body["ts"].as_str().unwrap().to_string();
    // Same width (seconds.micros), so text order is time order.
    assert!(ts2 > ts1 && ts2.len() == ts1.len(), "{ts1} {ts2}");
    assert_eq!(second.body["message"]["blocks"], blocks);

    let up = s
        .call(
            "chat.update",
            &[
                ("channel", &eng),
                ("ts", &ts1),
                ("text", "deploy started (retried)"),
            ],
        )
        .await;
    assert!(up.ok(), "{}", up.body);
    assert_eq!(up.body["ts"], json!(ts1));
    assert_eq!(up.body["text"], "deploy started (retried)");
    assert_eq!(up.body["channel"], json!(eng));

    let h = s.call("conversations.history", &[("channel", &eng)]).await;
    assert!(h.ok(), "{}", h.body);
    let msgs = h.body["messages"].as_array().unwrap();
    // Newest first: the two posts, then the generated person's message.
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0]["ts"], json!(ts2));
    assert_eq!(msgs[1]["ts"], json!(ts1));
    assert_eq!(msgs[1]["text"], "deploy started (retried)");
    assert!(msgs[1]["edited"]["ts"].is_string());
    assert_eq!(h.body["has_more"], false);

    // One at a time with cursors, and the oldest/latest window.
    let mut cursor = String::new();
    let mut order = Vec::new();
    loop {
        let p = s
            .call(
                "conversations.history",
                &[("channel", &eng), ("limit", "1"), ("cursor", &cursor)],
            )
            .await;
        assert!(p.ok(), "{}", p.body);
        order.push(p.body["messages"][0]["ts"].as_str().unwrap().to_string());
        match p.body["response_metadata"]["next_cursor"].as_str() {
            Some(c) if !c.is_empty() => cursor = c.to_string(),
            _ => break,
        }
    }
    assert_eq!(order.len(), 3);
    assert_eq!(&order[..2], &[ts2.clone(), ts1.clone()]);
    let window = s
        .call(
            "conversations.history",
            &[("channel", &eng), ("oldest", &ts1), ("inclusive", "true")],
        )
        .await;
    assert_eq!(window.body["messages"].as_array().unwrap().len(), 2);

    // The control API has the edit history, and counts the posts.
    let stored = s
        .control("GET", &format!("channels/{eng}/messages"), json!({}))
        .await;
    let edited = stored["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["ts"] == json!(ts1))
        .unwrap();
    assert_eq!(edited["text"], "deploy started (retried)");
    assert_eq!(edited["edits"][0]["previous_text"], "deploy started");
    assert_eq!(s.sim.posted("eng"), 2);
    assert_eq!(s.sim.messages("#eng").len(), 3);

    // A person's message is not the bot's to edit; an unknown ts is not found.
    let theirs = order[2].clone();
    s.call(
        "chat.update",
        &[("channel", &eng), ("ts", &theirs), ("text", "x")],
    )
    .await
    .assert_error("cant_update_message");
    s.call(
        "chat.update",
        &[("channel", &eng), ("ts", "1.000001"), ("text", "x")],
    )
    .await
    .assert_error("message_not_found");
}

#[tokio::test]
async fn post_message_refuses_empty_long_and_odd_content() {
    let s = Slack::default();
    let eng = s.sim.channel_id("eng").unwrap();
    s.call("chat.postMessage", &[("channel", &eng)])
        .await
        .assert_error("no_text");
    let long = "x".repeat(40_001);
    s.call("chat.postMessage", &[("channel", &eng), ("text", &long)])
        .await
        .assert_error("msg_too_long");
    s.call(
        "chat.postMessage",
        &[("channel", &eng), ("blocks", "{\"type\": 1}")],
    )
    .await
    .assert_error("invalid_blocks_format");
    // JSON without a charset: done, with Slack's warning.
    let a = s
        .call_json(
            "chat.postMessage",
            "application/json",
            json!({"channel": eng, "text": "hi"}),
        )
        .await;
    assert!(a.ok(), "{}", a.body);
    assert_eq!(a.body["warning"], "missing_charset");
    assert_eq!(
        a.body["response_metadata"]["warnings"],
        json!(["missing_charset"])
    );
    s.call_json(
        "chat.postMessage",
        "application/json; charset=utf-8",
        json!(["no"]),
    )
    .await
    .assert_error("invalid_json");
    assert_eq!(s.sim.posted(&eng), 1);
}

#[tokio::test]
async fn errors_are_http_200_with_ok_false() {
    let s = Slack::default();
    let eng = s.sim.channel_id("eng").unwrap();
    let post = |token: String, channel: String| {
        let s = &s;
        async move {
            s.call_as(
                Some(&token),
                "chat.postMessage",
                &[("channel", &channel), ("text", "hi")],
            )
            .await
        }
    };
    post("xoxb-0-0-nobody".into(), eng.clone())
        .await
        .assert_error("invalid_auth");
    post(s.token.clone(), "C0NOSUCH00".into())
        .await
        .assert_error("channel_not_found");
    post(s.token.clone(), "#nosuch".into())
        .await
        .assert_error("channel_not_found");
    assert!(s.sim.set_member(&eng, false));
    post(s.token.clone(), eng.clone())
        .await
        .assert_error("not_in_channel");
    s.call("conversations.history", &[("channel", &eng)])
        .await
        .assert_error("not_in_channel");
    // chat:write.public lets a bot post where it has not joined.
    let public = s.sim.mint_token(&["chat:write", "chat:write.public"]);
    assert!(post(public, eng.clone()).await.ok());
    s.control("POST", &format!("channels/{eng}"), json!({"member": true}))
        .await;
    let read_only = s.sim.mint_token(&["channels:read"]);
    let a = post(read_only, eng.clone()).await;
    a.assert_error("missing_scope");
    assert_eq!(a.body["needed"], "chat:write");
    assert_eq!(a.body["provided"], "channels:read");
    let general = s.sim.channel_id("general").unwrap();
    s.control("POST", "channels/general", json!({"archived": true}))
        .await;
    post(s.token.clone(), general)
        .await
        .assert_error("is_archived");

    // auth.revoke revokes the caller; test=true only checks.
    let spare = s.sim.mint_token(&["chat:write"]);
    let t = s
        .call_as(Some(&spare), "auth.revoke", &[("test", "true")])
        .await;
    assert_eq!(t.body["revoked"], false);
    let r = s.call_as(Some(&spare), "auth.revoke", &[]).await;
    assert!(r.ok());
    assert_eq!(r.body["revoked"], true);
    post(spare, eng.clone()).await.assert_error("token_revoked");

    let inactive = s.sim.mint_token(&["chat:write"]);
    s.control(
        "POST",
        "tokens/inactive",
        json!({"token": inactive, "inactive": true}),
    )
    .await;
    post(inactive, eng.clone())
        .await
        .assert_error("account_inactive");

    // Uninstalling the app revokes every token it had.
    assert!(s.sim.uninstall() >= 1);
    post(s.token.clone(), eng.clone())
        .await
        .assert_error("token_revoked");
    let stats = s.sim.stats();
    assert_eq!(stats.errors["chat.postMessage"]["token_revoked"], 2);

    let unknown = s.call("chat.fly", &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.body["error"], "unknown_method");
}

#[tokio::test]
async fn a_burst_to_one_channel_is_limited_until_retry_after() {
    let mut config = SlackConfig::default();
    config.limits.post_per_channel = Some(Bucket {
        burst: 3,
        interval_ms: 1000,
    });
    let s = Slack::new(config);
    let eng = s.sim.channel_id("eng").unwrap();
    let releases = s.sim.channel_id("releases").unwrap();
    let post = |channel: &str, text: &str| {
        let args = [("channel", channel.to_string()), ("text", text.to_string())];
        let s = &s;
        async move {
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.call("chat.postMessage", &args).await
        }
    };
    // The burst goes through; the next post in the same second is limited. Posted until
    // limited (not exactly 4 times) so a slow machine refilling the bucket does not fail it.
    let mut accepted = 0;
    let limited = loop {
        let a = post(&eng, &format!("burst {accepted}")).await;
        if !a.ok() {
            break a;
        }
        accepted += 1;
        assert!(accepted < 50, "never limited");
    };
    assert!(accepted >= 3, "the burst of 3 is allowed: {accepted}");
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body, json!({"ok": false, "error": "ratelimited"}));
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // The limit is per channel.
    assert!(post(&releases, "elsewhere").await.ok());
    // Retry-After is the promise: waiting exactly that long is enough.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let after = post(&eng, "one too many").await;
    assert!(after.ok(), "{}", after.body);
    assert_eq!(s.sim.posted(&eng), accepted + 1);
    let stats = s.sim.stats();
    assert_eq!(stats.rate_limited["chat.postMessage"], 1);
    assert_eq!(stats.calls["chat.postMessage"], accepted + 3);
    assert_eq!(stats.ok["chat.postMessage"], accepted + 2);
}

#[tokio::test]
async fn method_limits_and_injected_429s_name_their_wait() {
    let s = Slack::default();
    let r = s
        .control(
            "POST",
            "faults",
            json!({"method": "auth.test", "kind": "ratelimited", "n": 2, "retry_after": 7}),
        )
        .await;
    assert_eq!(r, json!({}));
    for _ in 0..2 {
        let a = s.call("auth.test", &[]).await;
        assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(a.headers["retry-after"], "7");
        assert_eq!(a.body["error"], "ratelimited");
    }
    assert!(s.call("auth.test", &[]).await.ok());
    s.sim.fault_429("chat.postMessage", 1, 3);
    let eng = s.sim.channel_id("eng").unwrap();
    let a = s
        .call("chat.postMessage", &[("channel", &eng), ("text", "x")])
        .await;
    assert_eq!(a.headers["retry-after"], "3");
    assert_eq!(s.sim.posted(&eng), 0);

    // A method's own limit (Slack's tiers), changed through the control API.
    let mut limits = s.control("GET", "limits", json!({})).await;
    limits["methods"]["conversations.list"] = json!({"burst": 2, "interval_ms": 30000});
    s.control("POST", "limits", limits).await;
    assert!(s.call("conversations.list", &[]).await.ok());
    assert!(s.call("conversations.list", &[]).await.ok());
    let third = s.call("conversations.list", &[]).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    // One call every 30 s: the wait is the rest of those 30 s, in whole seconds.
    let wait: u64 = third.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((25..=30).contains(&wait), "{wait}");
}

#[tokio::test]
async fn faults_reset_before_or_after_the_post_and_answer_500() {
    let s = Slack::default();
    let eng = s.sim.channel_id("eng").unwrap();
    let url = format!("{}/api/chat.postMessage", s.sim.url());
    let raw = |text: &'static str| {
        let s = &s;
        let url = url.clone();
        let body = form(&[("channel", &eng), ("text", text)]);
        async move {
            s.http
                .post(url)
                .bearer_auth(&s.token)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
        }
    };
    // Reset before: nothing stored.
    s.control(
        "POST",
        "faults",
        json!({"method": "chat.postMessage", "kind": "reset"}),
    )
    .await;
    assert!(raw("lost").await.is_err());
    assert_eq!(s.sim.posted(&eng), 0);
    // Reset after: stored, but the client never hears; history tells it.
    s.control(
        "POST",
        "faults",
        json!({"method": "chat.postMessage", "kind": "reset_after"}),
    )
    .await;
    assert!(raw("stored").await.is_err());
    assert_eq!(s.sim.posted(&eng), 1);
    let h = s
        .call(
            "conversations.history",
            &[("channel", &eng), ("limit", "1")],
        )
        .await;
    assert_eq!(h.body["messages"][0]["text"], "stored");
    assert_eq!(h.body["has_more"], true);
    // A 500 once, then normal again.
    s.control("POST", "faults", json!({"kind": "error_500", "n": 1}))
        .await;
    let r = raw("later").await.unwrap();
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(raw("later").await.unwrap().status(), StatusCode::OK);
    assert_eq!(s.sim.posted(&eng), 2);
    assert_eq!(
        s.control("GET", "faults", json!({})).await["faults"],
        json!([])
    );

    // The control API's counts: every call, and what it came to.
    let stats = s.control("GET", "stats", json!({})).await;
    assert_eq!(stats["calls"]["chat.postMessage"], 4);
    assert_eq!(stats["ok"]["chat.postMessage"], 2);
    assert_eq!(stats["posted"][&eng], 2);
    assert_eq!(stats["faults_injected"], 3);
    s.control("POST", "stats/reset", json!({})).await;
    assert_eq!(s.sim.calls("chat.postMessage"), 0);
}

#[tokio::test]
async fn control_api_shapes_the_world_and_debug_hides_secrets() {
    let s = Slack::default();
    let made = s
        .control("POST", "channels", json!({"name": "ops", "member": false}))
        .await;
    let ops = made["id"].as_str().unwrap().to_string();
    let state = s.control("GET", "state", json!({})).await;
    let listed = state["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == json!(ops))
        .unwrap()
        .clone();
    assert_eq!(listed["member"], false);
    let said = s
        .control(
            "POST",
            "channels/ops/messages",
            json!({"text": "hello bot"}),
        )
        .await;
    assert!(said["ts"].is_string());
    s.sim.set_member("ops", true);
    let h = s.call("conversations.history", &[("channel", &ops)]).await;
    assert_eq!(h.body["messages"][0]["text"], "hello bot");
    let token = s.control("GET", "token", json!({})).await;
    assert_eq!(token["token"], json!(s.token));

    let config = format!("{:?}", SlackConfig::default());
    assert!(!config.contains(&SlackConfig::default().client_secret));
    let world = format!("{:?}", *s.sim.world());
    assert!(!world.contains(&s.token), "the token leaks into Debug");
    assert!(!world.contains(&SlackConfig::default().client_secret));
}

#[test]
fn the_binary_prints_its_url_first_and_serves_its_token() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(tidemark_tests::harness::bin("slack-sim"))
        .args(["--addr", "127.0.0.1:0", "--channels", "3"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    let (who, state) = tidemark_tests::harness::block_on(async {
        let http = reqwest::Client::new();
        let token: Value = http
            .get(format!("{url}/_sim/token"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let who: Value = http
            .post(format!("{url}/api/auth.test"))
            .bearer_auth(token["token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let state: Value = http
            .get(format!("{url}/_sim/state"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (who, state)
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(who["ok"], true, "{who}");
    assert_eq!(state["channels"].as_array().unwrap().len(), 3);
}
