//! The Web API methods in Slack's shapes, and their errors.

use super::Slack;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeSet;
use tidemark_tests::slack_sim::SlackConfig;

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
