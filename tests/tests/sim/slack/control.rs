//! The control API, the binary, and secrets kept out of `Debug`.

use super::Slack;
use serde_json::{Value, json};
use tidemark_tests::slack_sim::SlackConfig;

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
