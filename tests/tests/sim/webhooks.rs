//! The simulator's webhooks (hooks API, signed deliveries in GitHub's shapes, deliveries API,
//! redelivery), over real HTTP, with a small receiver catching what the simulator sends.
//!
//! Field names come from GitHub's own examples (`@octokit/webhooks-examples` 7.6.1 and GitHub's
//! OpenAPI description), written out in `webhooks/shapes.rs` so the tests stand alone.
//!
//! Here: the hooks API, pings and the deliveries API; the payloads of pull request, review,
//! repository and member events are checked in `webhooks/payloads.rs`; organization hooks,
//! memberships, permissions, scopes and OAuth App access restrictions in `webhooks/org.rs`.

mod org;
mod payloads;
mod shapes;

use crate::receiver::{Receiver, wait_until};
use crate::support::{Gh, set, small};
use reqwest::StatusCode;
use serde_json::{Value, json};
use shapes::*;
use std::collections::BTreeSet;
use std::net::TcpListener;
use std::sync::atomic::Ordering;
use tidemark_tests::sim::webhooks::signature_256;

const SECRET: &str = "It's a Secret to Everybody";

// ---- the client's webhook calls ----------------------------------------------------------------

impl Gh {
    /// A repository's name.
    fn repo(&self, index: usize) -> String {
        let w = self.sim.world();
        w.repos.values().nth(index).unwrap().name.clone()
    }

    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.api_as(&self.token, method, path, body).await
    }

    fn hooks_path(&self, repo: &str) -> String {
        format!("/repos/{}/{repo}/hooks", self.org)
    }

    /// Create a hook on `repo`; answers its id.
    async fn create_hook(&self, repo: &str, config: Value, events: &[&str]) -> u64 {
        let (status, hook) = self
            .api(
                "POST",
                &self.hooks_path(repo),
                Some(json!({ "name": "web", "config": config, "events": events, "active": true })),
            )
            .await;
        assert_eq!(status, 201, "{hook}");
        hook["id"].as_u64().unwrap()
    }

    /// The deliveries the simulator recorded (all hooks).
    async fn recorded(&self) -> u64 {
        self.sim.stats().deliveries
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// `want` names all present in `v`.
fn assert_has(v: &Value, want: &[&str], what: &str) {
    let missing: Vec<_> = set(want).difference(&keys(v)).cloned().collect();
    assert!(missing.is_empty(), "{what} lacks {missing:?}");
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<_> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

// ---- webhooks ----------------------------------------------------------------------------------

#[test]
fn signature_matches_githubs_test_vector() {
    assert_eq!(
        signature_256(SECRET, b"Hello, World!"),
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
}

#[tokio::test]
async fn a_new_hook_is_pinged_with_a_signed_delivery() {
    let gh = Gh::new(small());
    let rx = Receiver::start();
    let repo = gh.repo(0);
    let repo_id = gh.sim.world().repos.values().next().unwrap().id;
    let (status, hook) = gh
        .api(
            "POST",
            &gh.hooks_path(&repo),
            Some(json!({
                "name": "web",
                "config": { "url": rx.url, "content_type": "json", "secret": SECRET, "insecure_ssl": "0" },
                "events": ["pull_request", "push"],
            })),
        )
        .await;
    assert_eq!(status, 201, "{hook}");
    assert_eq!(keys(&hook), set(HOOK_FIELDS));
    assert_eq!(
        hook["config"]["secret"], "********",
        "the secret never comes back"
    );
    assert_eq!(hook["config"]["url"], rx.url.as_str());
    assert_eq!(hook["events"], json!(["pull_request", "push"]));
    assert_eq!(hook["active"], true, "active by default");
    let hook_id = hook["id"].as_u64().unwrap();

    let got = rx.wait_for(1).await;
    let ping = &got[0];
    assert_eq!(ping.event(), "ping");
    assert!(is_guid(ping.header("X-GitHub-Delivery")));
    assert_eq!(ping.header("X-GitHub-Hook-ID"), hook_id.to_string());
    assert_eq!(
        ping.header("X-GitHub-Hook-Installation-Target-Type"),
        "repository"
    );
    assert_eq!(
        ping.header("X-GitHub-Hook-Installation-Target-ID"),
        repo_id.to_string()
    );
    assert_eq!(ping.header("Content-Type"), "application/json");
    let ua = ping.header("User-Agent");
    let build = ua.strip_prefix("GitHub-Hookshot/").unwrap();
    assert!(
        build.len() == 7 && build.chars().all(|c| c.is_ascii_hexdigit()),
        "{ua}"
    );
    // The signature covers the exact bytes received.
    assert_eq!(
        ping.header("X-Hub-Signature-256"),
        signature_256(SECRET, &ping.body)
    );
    let body = ping.json();
    assert_eq!(
        keys(&body),
        set(&[
            "zen",
            "hook_id",
            "hook",
            "repository",
            "organization",
            "sender"
        ])
    );
    assert_eq!(body["hook_id"], hook_id);
    assert_eq!(body["hook"]["id"], hook_id);
    assert!(body["zen"].as_str().is_some_and(|z| !z.is_empty()));
    assert_eq!(body["sender"]["login"], gh.sim.viewer_login().as_str());
    assert_eq!(body["repository"]["id"], repo_id);

    // `POST .../pings` sends another.
    let (status, _) = gh
        .api(
            "POST",
            &format!("{}/{hook_id}/pings", gh.hooks_path(&repo)),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let got = rx.wait_for(2).await;
    assert_eq!(got[1].event(), "ping");
    assert_ne!(
        got[1].header("X-GitHub-Delivery"),
        got[0].header("X-GitHub-Delivery")
    );
}

#[tokio::test]
async fn hooks_api_validates_and_manages_hooks_for_admins_only() {
    let gh = Gh::new(small());
    let rx = Receiver::start();
    let repo = gh.repo(0);
    let path = gh.hooks_path(&repo);

    // No url: 422.
    let (status, body) = gh
        .api(
            "POST",
            &path,
            Some(json!({ "config": { "content_type": "json" } })),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["message"], "Validation Failed");

    // Defaults: form, push, active.
    let (status, hook) = gh
        .api("POST", &path, Some(json!({ "config": { "url": rx.url } })))
        .await;
    assert_eq!(status, 201);
    assert_eq!(hook["config"]["content_type"], "form");
    assert_eq!(hook["events"], json!(["push"]));
    assert_eq!(hook["active"], true);
    assert!(
        hook["config"].get("secret").is_none(),
        "no secret, no field"
    );
    let id = hook["id"].as_u64().unwrap();

    // The same URL again: GitHub's words.
    let (status, body) = gh
        .api("POST", &path, Some(json!({ "config": { "url": rx.url } })))
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["errors"][0]["message"],
        "Hook already exists on this repository"
    );

    // A member who is not an admin sees no hooks at all.
    let member = {
        let w = gh.sim.world();
        let id = w
            .members
            .iter()
            .find(|(_, r)| r.as_str() == "member")
            .map(|(id, _)| *id)
            .unwrap();
        w.account(id).login.clone()
    };
    let member_token = gh.sim.token_for(&member);
    let (status, _) = gh.api_as(&member_token, "GET", &path, None).await;
    assert_eq!(status, 404);
    let (status, _) = gh
        .api_as(
            &member_token,
            "POST",
            &path,
            Some(json!({ "config": { "url": "http://x.example/" } })),
        )
        .await;
    assert_eq!(status, 404);

    // List and get.
    let (status, list) = gh.api("GET", &format!("{path}?per_page=1"), None).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (status, one) = gh.api("GET", &format!("{path}/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(one["id"], id);

    // PATCH: add and remove events, set a secret, deactivate.
    let (status, patched) = gh
        .api(
            "PATCH",
            &format!("{path}/{id}"),
            Some(json!({
                "add_events": ["pull_request", "pull_request_review"],
                "remove_events": ["push"],
                "config": { "url": rx.url, "content_type": "json", "secret": "new" },
                "active": false,
            })),
        )
        .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched["events"],
        json!(["pull_request", "pull_request_review"])
    );
    assert_eq!(patched["config"]["content_type"], "json");
    assert_eq!(patched["config"]["secret"], "********");
    assert_eq!(patched["active"], false);
    // A config without the secret removes it (as GitHub documents).
    let (_, patched) = gh
        .api(
            "PATCH",
            &format!("{path}/{id}"),
            Some(json!({ "config": { "url": rx.url } })),
        )
        .await;
    assert!(patched["config"].get("secret").is_none(), "{patched}");

    // Delete.
    let (status, _) = gh.api("DELETE", &format!("{path}/{id}"), None).await;
    assert_eq!(status, 204);
    let (status, _) = gh.api("GET", &format!("{path}/{id}"), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn deliveries_api_lists_details_and_redelivers_with_the_same_guid() {
    let gh = Gh::new(small());
    let rx = Receiver::start();
    let repo = gh.repo(0);
    let path = gh.hooks_path(&repo);
    let id = gh
        .create_hook(
            &repo,
            json!({ "url": rx.url, "content_type": "json", "secret": SECRET }),
            &["pull_request"],
        )
        .await;
    rx.wait_for(1).await;
    // The receiver now fails: GitHub records it and does not retry.
    rx.status.store(500, Ordering::SeqCst);
    gh.control(
        &format!("/_sim/repos/{repo}/pulls"),
        json!({ "title": "x" }),
    )
    .await;
    rx.wait_for(2).await;
    wait_until("2 recorded deliveries", || gh.sim.stats().deliveries >= 2).await;

    let (status, list) = gh
        .api("GET", &format!("{path}/{id}/deliveries"), None)
        .await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    for d in &list {
        assert_eq!(
            keys(d),
            set(&[
                "id",
                "guid",
                "delivered_at",
                "redelivery",
                "duration",
                "status",
                "status_code",
                "event",
                "action",
                "installation_id",
                "repository_id",
                "throttled_at",
            ])
        );
    }
    // Newest first.
    assert_eq!(list[0]["event"], "pull_request");
    assert_eq!(list[0]["action"], "opened");
    assert_eq!(list[0]["status_code"], 500);
    assert_eq!(list[0]["status"], "Invalid HTTP Response: 500");
    assert_eq!(list[1]["event"], "ping");
    assert_eq!(list[1]["status"], "OK");
    assert_eq!(list[1]["status_code"], 200);
    assert_eq!(list[1]["action"], Value::Null);
    let failed_guid = list[0]["guid"].as_str().unwrap().to_string();
    assert_eq!(
        rx.all()[1].header("X-GitHub-Delivery"),
        failed_guid,
        "the list's guid is the header's"
    );

    // A page of one, continued by the Link header's cursor.
    let r = gh
        .send(
            &gh.token,
            "GET",
            &format!("{path}/{id}/deliveries?per_page=1"),
            None,
        )
        .await;
    let link = r.headers()["link"].to_str().unwrap().to_string();
    let page: Value = r.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 1);
    let next = link
        .strip_prefix('<')
        .and_then(|l| l.split_once(">; rel=\"next\""))
        .map(|(u, _)| u.to_string())
        .unwrap_or_else(|| panic!("no next link in {link}"));
    assert!(next.contains("cursor="));
    let (_, page2) = gh.api("GET", &next, None).await;
    assert_eq!(page2[0]["id"], list[1]["id"]);

    // One delivery in full.
    let did = list[0]["id"].as_u64().unwrap();
    let (status, detail) = gh
        .api("GET", &format!("{path}/{id}/deliveries/{did}"), None)
        .await;
    assert_eq!(status, 200);
    assert_has(&detail, &["url", "request", "response"], "delivery");
    assert_eq!(detail["url"], rx.url.as_str());
    assert_eq!(
        detail["request"]["headers"]["X-GitHub-Event"],
        "pull_request"
    );
    assert_eq!(detail["request"]["payload"]["action"], "opened");
    assert_eq!(detail["response"]["payload"], "received");
    assert_eq!(detail["response"]["headers"]["x-receiver"], "yes");
    // The hook remembers how it went.
    let (_, hook) = gh.api("GET", &format!("{path}/{id}"), None).await;
    assert_eq!(hook["last_response"]["code"], 500);

    // Not retried by itself.
    assert_eq!(rx.all().len(), 2);

    // Redeliver: same GUID, flagged, a new delivery id.
    rx.status.store(200, Ordering::SeqCst);
    let (status, _) = gh
        .api(
            "POST",
            &format!("{path}/{id}/deliveries/{did}/attempts"),
            None,
        )
        .await;
    assert_eq!(status, 202);
    let got = rx.wait_for(3).await;
    assert_eq!(got[2].header("X-GitHub-Delivery"), failed_guid);
    assert_eq!(got[2].body, got[1].body, "the same payload");
    assert_eq!(
        got[2].header("X-Hub-Signature-256"),
        signature_256(SECRET, &got[2].body)
    );
    wait_until("the redelivery to be recorded", || {
        gh.sim.stats().deliveries >= 3
    })
    .await;
    let (_, list) = gh
        .api("GET", &format!("{path}/{id}/deliveries"), None)
        .await;
    assert_eq!(list[0]["guid"], failed_guid.as_str());
    assert_eq!(list[0]["redelivery"], true);
    assert_eq!(list[0]["status_code"], 200);
    assert_ne!(list[0]["id"], did);
    let (_, hook) = gh.api("GET", &format!("{path}/{id}"), None).await;
    assert_eq!(hook["last_response"]["code"], 200);
    assert_eq!(gh.recorded().await, 3);
}

#[tokio::test]
async fn form_hooks_get_a_payload_field_signed_as_sent() {
    let gh = Gh::new(small());
    let rx = Receiver::start();
    let repo = gh.repo(0);
    gh.create_hook(
        &repo,
        json!({ "url": rx.url, "content_type": "form", "secret": SECRET }),
        &["pull_request"],
    )
    .await;
    let got = rx.wait_for(1).await;
    let ping = &got[0];
    assert_eq!(
        ping.header("Content-Type"),
        "application/x-www-form-urlencoded"
    );
    assert!(ping.body.starts_with(b"payload="));
    assert_eq!(
        ping.header("X-Hub-Signature-256"),
        signature_256(SECRET, &ping.body)
    );
    assert_eq!(ping.json()["hook"]["config"]["content_type"], "form");
}

#[tokio::test]
async fn an_unreachable_hook_is_recorded_as_failed() {
    let gh = Gh::new(small());
    let repo = gh.repo(0);
    // A port nobody listens on.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hook", l.local_addr().unwrap())
    };
    let id = gh
        .create_hook(
            &repo,
            json!({ "url": dead, "content_type": "json" }),
            &["push"],
        )
        .await;
    wait_until("the failed ping to be recorded", || {
        gh.sim.stats().deliveries >= 1
    })
    .await;
    let (_, list) = gh
        .api(
            "GET",
            &format!("{}/{id}/deliveries", gh.hooks_path(&repo)),
            None,
        )
        .await;
    assert_eq!(list[0]["status_code"], 0);
    assert_eq!(list[0]["status"], "failed to connect to host");
}
