//! Rate limits with `Retry-After`, and the faults the control API injects.

use super::{Slack, form};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use tidemark_tests::slack_sim::{Bucket, SlackConfig};

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
