//! The simulator held to GitHub's published descriptions (`tests/contract/`, read through
//! `tidemark_tests::contract`): every REST endpoint it serves that tidemark uses answers, status
//! and body, what GitHub's OpenAPI description documents, and every webhook it can send matches
//! GitHub's payload schema for that event and action. Where they disagree, GitHub wins: the
//! simulator is what gets fixed. The webhooks are in `contract/webhooks.rs`.

#[path = "contract/webhooks.rs"]
mod webhook_payloads;

use crate::receiver::{self, Receiver};
use crate::support::Gh;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use tidemark_tests::contract::openapi;
use tidemark_tests::sim::json::encode_login;
use tidemark_tests::sim::{OrgSpec, SimConfig};

/// A small org with some of everything: private and archived repositories, bots, pull requests
/// in every state with reviews and commits.
fn config() -> SimConfig {
    SimConfig {
        org: OrgSpec {
            repos: 3,
            prs_per_repo: 12,
            members: 6,
            now: 1_760_000_000,
            ..OrgSpec::default()
        },
        ..SimConfig::default()
    }
}

/// Operations of the description the simulator does not serve (yet), sorted by id.
const NOT_SERVED: &[&str] = &[];

/// Calls the simulator and checks each answer against the description, collecting every
/// disagreement (so one run shows them all) and the operations seen.
struct Checker {
    gh: Gh,
    seen: BTreeSet<String>,
    failures: Vec<String>,
}

impl Checker {
    fn new() -> Checker {
        Checker {
            gh: Gh::new(config()),
            seen: BTreeSet::new(),
            failures: Vec::new(),
        }
    }

    /// The operation a request is.
    fn operation(method: &str, path: &str) -> openapi::Operation {
        let path = path.split('?').next().unwrap();
        openapi::operation(method, path)
            .unwrap_or_else(|| panic!("{method} {path} is not in tests/contract/openapi.json"))
    }

    fn record(&mut self, method: &str, path: &str, status: StatusCode, body: &Value) {
        let op = Self::operation(method, path);
        if let Err(e) = openapi::validate_response(&op, status.as_u16(), body) {
            self.failures
                .push(format!("{method} {path} → {status}:\n  {}", e.join("\n  ")));
        }
        self.seen.insert(op.id);
    }

    /// As the viewer (an org admin); the answer must have status `want`.
    async fn call(&mut self, method: &str, path: &str, body: Option<Value>, want: u16) -> Value {
        let token = self.gh.token.clone();
        self.call_as(&token, method, path, body, want).await
    }

    async fn call_as(
        &mut self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        want: u16,
    ) -> Value {
        let (status, v) = self.gh.api_as(token, method, path, body).await;
        assert_eq!(status, want, "{method} {path}: {v}");
        self.record(method, path, status, &v);
        v
    }

    /// `/applications/{client_id}/...`, with the OAuth app's credentials.
    async fn app(&mut self, method: &str, path: &str, token: &str, want: u16) -> Value {
        let config = SimConfig::default();
        let r = self
            .gh
            .http
            .request(method.parse().unwrap(), self.gh.url(path))
            .basic_auth(&config.client_id, Some(&config.client_secret))
            .json(&json!({ "access_token": token }))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let bytes = r.bytes().await.unwrap();
        let v: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        assert_eq!(status, want, "{method} {path}: {v}");
        self.record(method, path, status, &v);
        v
    }

    /// A GET answered 304 to its own ETag.
    async fn not_modified(&mut self, path: &str) {
        let first = self.gh.send(&self.gh.token, "GET", path, None).await;
        let etag = first.headers()["etag"].to_str().unwrap().to_string();
        let again = self
            .gh
            .http
            .get(self.gh.url(path))
            .bearer_auth(&self.gh.token)
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        let status = again.status();
        assert_eq!(status, 304, "GET {path} with its ETag");
        assert!(again.bytes().await.unwrap().is_empty());
        self.record("GET", path, status, &Value::Null);
    }
}

#[tokio::test]
async fn rest_answers_are_shaped_as_github_documents_them() {
    let mut c = Checker::new();
    let org = c.gh.org.clone();
    let (repos, members, accounts) = {
        let w = c.gh.sim.world();
        let repos: Vec<(u64, String)> = w.repos.values().map(|r| (r.id, r.name.clone())).collect();
        let members: Vec<String> = w
            .members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect();
        // Members, bots and outside contributors, by the path their `url` gives.
        let accounts: Vec<String> = w
            .accounts
            .values()
            .map(|a| encode_login(&a.login))
            .collect();
        (repos, members, accounts)
    };

    // The client and its organizations.
    c.call("GET", "/rate_limit", None, 200).await;
    c.call("GET", "/user", None, 200).await;
    c.call("GET", "/user/orgs", None, 200).await;
    for login in &accounts {
        c.call("GET", &format!("/users/{login}"), None, 200).await;
    }
    c.call("GET", &format!("/orgs/{org}"), None, 200).await;
    c.call(
        "GET",
        &format!("/orgs/{org}/members?per_page=100"),
        None,
        200,
    )
    .await;
    c.call(
        "GET",
        &format!("/orgs/{org}/repos?type=all&sort=full_name"),
        None,
        200,
    )
    .await;

    // Repositories (public, private, archived), by name and by id, and their pull requests in
    // every state, each with its reviews and commits.
    for (_, name) in &repos {
        c.call("GET", &format!("/repos/{org}/{name}"), None, 200)
            .await;
        let pulls = c
            .call(
                "GET",
                &format!("/repos/{org}/{name}/pulls?state=all&per_page=100"),
                None,
                200,
            )
            .await;
        for pull in pulls.as_array().unwrap() {
            let n = pull["number"].as_u64().unwrap();
            let base = format!("/repos/{org}/{name}/pulls/{n}");
            c.call("GET", &base, None, 200).await;
            c.call("GET", &format!("{base}/reviews?per_page=100"), None, 200)
                .await;
            c.call("GET", &format!("{base}/commits?per_page=100"), None, 200)
                .await;
        }
    }
    let (_, repo) = repos[0].clone();
    c.not_modified(&format!("/repos/{org}/{repo}/pulls/1"))
        .await;
    c.not_modified("/user").await;

    // Errors GitHub documents.
    c.call_as("not-a-token", "GET", "/user", None, 401).await;
    c.call("GET", &format!("/repos/{org}/no-such-repo"), None, 404)
        .await;
    c.call(
        "GET",
        &format!("/repos/{org}/{repo}/pulls/999999"),
        None,
        404,
    )
    .await;
    c.call(
        "GET",
        &format!("/repos/{org}/{repo}/pulls?state=nope"),
        None,
        422,
    )
    .await;

    // Webhooks: create, read, change, ping, deliveries, redeliver, delete.
    let rx = Receiver::start();
    let hooks = format!("/repos/{org}/{repo}/hooks");
    let config =
        json!({ "url": rx.url, "content_type": "json", "secret": "s", "insecure_ssl": "0" });
    let hook = c
        .call(
            "POST",
            &hooks,
            Some(json!({ "name": "web", "config": config, "events": ["pull_request"] })),
            201,
        )
        .await;
    let id = hook["id"].as_u64().unwrap();
    let dup = json!({ "config": { "url": rx.url } });
    c.call("POST", &hooks, Some(dup), 422).await;
    c.call("POST", &hooks, Some(json!({ "config": {} })), 422)
        .await;
    c.call("GET", &hooks, None, 200).await;
    c.call("GET", &format!("{hooks}/{id}"), None, 200).await;
    c.call("GET", &format!("{hooks}/999999"), None, 404).await;
    c.call(
        "PATCH",
        &format!("{hooks}/{id}"),
        Some(json!({ "add_events": ["push"] })),
        200,
    )
    .await;
    c.call("GET", &format!("{hooks}/{id}/config"), None, 200)
        .await;
    c.call("PATCH", &format!("{hooks}/{id}/config"), Some(config), 200)
        .await;
    c.call("POST", &format!("{hooks}/{id}/pings"), None, 204)
        .await;
    rx.wait_for(2).await;
    receiver::wait_until("2 recorded deliveries", || c.gh.sim.stats().deliveries >= 2).await;
    let list = c
        .call("GET", &format!("{hooks}/{id}/deliveries"), None, 200)
        .await;
    let did = list[0]["id"].as_u64().unwrap();
    c.call("GET", &format!("{hooks}/{id}/deliveries/{did}"), None, 200)
        .await;
    c.call(
        "POST",
        &format!("{hooks}/{id}/deliveries/{did}/attempts"),
        None,
        202,
    )
    .await;
    c.call("DELETE", &format!("{hooks}/{id}"), None, 204).await;

    // The organization hook (member changes) and the membership that allows it: an owner's
    // token with `admin:org_hook`.
    let owner = c.gh.sim.viewer_login();
    let org_token = tidemark_tests::sim::oauth::mint_token(
        &c.gh.sim.shared,
        &owner,
        vec![
            "repo".into(),
            "read:org".into(),
            "read:user".into(),
            "admin:org_hook".into(),
        ],
    )
    .unwrap();
    c.call_as(
        &org_token,
        "GET",
        &format!("/user/memberships/orgs/{org}"),
        None,
        200,
    )
    .await;
    let org_hooks = format!("/orgs/{org}/hooks");
    let config = json!({ "url": "https://tidemark.example/webhooks/github", "content_type": "json", "secret": "s" });
    let hook = c
        .call_as(
            &org_token,
            "POST",
            &org_hooks,
            Some(json!({ "name": "web", "config": config, "events": ["organization"], "active": true })),
            201,
        )
        .await;
    let hook_id = hook["id"].as_u64().unwrap();
    c.call_as(&org_token, "GET", &org_hooks, None, 200).await;
    c.call_as(
        &org_token,
        "GET",
        &format!("{org_hooks}/{hook_id}"),
        None,
        200,
    )
    .await;
    c.call_as(
        &org_token,
        "PATCH",
        &format!("{org_hooks}/{hook_id}"),
        Some(json!({ "events": ["organization"] })),
        200,
    )
    .await;
    c.call_as(
        &org_token,
        "PATCH",
        &format!("{org_hooks}/{hook_id}/config"),
        Some(json!({ "secret": "rotated" })),
        200,
    )
    .await;
    c.call_as(
        &org_token,
        "DELETE",
        &format!("{org_hooks}/{hook_id}"),
        None,
        204,
    )
    .await;

    // The OAuth app's token endpoints (tidemark revokes a team's token on disconnect).
    let token = c.gh.sim.token_for(&members[0]);
    c.app(
        "POST",
        &format!("/applications/{}/token", SimConfig::default().client_id),
        &token,
        200,
    )
    .await;
    c.app(
        "DELETE",
        &format!("/applications/{}/token", SimConfig::default().client_id),
        &token,
        204,
    )
    .await;
    let token = c.gh.sim.token_for(&members[1]);
    c.app(
        "DELETE",
        &format!("/applications/{}/grant", SimConfig::default().client_id),
        &token,
        204,
    )
    .await;

    delivery(&mut c, &org, &repo).await;

    // GitHub's API root, which `tidemarkd doctor` reads (no token).
    let r = c.gh.http.get(c.gh.url("/")).send().await.unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    c.record("GET", "/", status, &body);

    assert!(
        c.failures.is_empty(),
        "{} disagreements:\n{}",
        c.failures.len(),
        c.failures.join("\n")
    );
    let all: BTreeSet<String> = openapi::operations().into_iter().map(|o| o.id).collect();
    let unchecked: Vec<&String> = all.difference(&c.seen).collect();
    assert_eq!(unchecked, NOT_SERVED.iter().collect::<Vec<_>>());
}

/// Delivery data (issue 17): deployments and statuses (read and made), workflow runs, releases,
/// tags, compare and issues, after the control API made some of each.
async fn delivery(c: &mut Checker, org: &str, repo: &str) {
    let ctl = format!("/_sim/repos/{repo}");
    let base = format!("/repos/{org}/{repo}");
    let open =
        c.gh.control(
            &format!("{ctl}/pulls"),
            json!({ "title": "Ship it", "commits": 2 }),
        )
        .await["number"]
            .as_u64()
            .unwrap();
    let merged =
        c.gh.control(
            &format!("{ctl}/pulls/{open}/merge"),
            json!({ "method": "squash" }),
        )
        .await["sha"]
            .as_str()
            .unwrap()
            .to_string();
    c.gh.control(
        &format!("{ctl}/pulls/{open}/label"),
        json!({ "label": "hotfix" }),
    )
    .await;
    c.gh.control(&format!("{ctl}/pulls/{open}/revert"), json!({}))
        .await;
    let d =
        c.gh.control(
            &format!("{ctl}/deployments"),
            json!({ "environment": "production" }),
        )
        .await["id"]
            .as_u64()
            .unwrap();
    c.gh.control(
        &format!("{ctl}/deployments/{d}/statuses"),
        json!({ "state": "failure" }),
    )
    .await;
    c.gh.control(
        &format!("{ctl}/runs"),
        json!({ "name": "Deploy", "conclusion": "success" }),
    )
    .await;
    let run =
        c.gh.control(&format!("{ctl}/runs"), json!({ "name": "CI" }))
            .await["id"]
            .as_u64()
            .unwrap();
    c.gh.control(&format!("{ctl}/releases"), json!({ "tag": "v1.0.0" }))
        .await;
    c.gh.control(
        &format!("{ctl}/tags"),
        json!({ "name": "v0.9.0", "message": "Old" }),
    )
    .await;
    c.gh.control(
        &format!("{ctl}/releases"),
        json!({ "tag": "v2.0.0-rc1", "prerelease": true }),
    )
    .await;
    let issue =
        c.gh.control(
            &format!("{ctl}/issues"),
            json!({ "title": "Checkout is down", "labels": ["incident"] }),
        )
        .await["number"]
            .as_u64()
            .unwrap();
    c.gh.control(&format!("{ctl}/issues/{issue}/close"), json!({}))
        .await;

    c.call(
        "GET",
        &format!("{base}/deployments?per_page=100"),
        None,
        200,
    )
    .await;
    c.call("GET", &format!("{base}/deployments/{d}"), None, 200)
        .await;
    c.call("GET", &format!("{base}/deployments/999"), None, 404)
        .await;
    c.call(
        "GET",
        &format!("{base}/deployments/{d}/statuses"),
        None,
        200,
    )
    .await;
    let made = c
        .call(
            "POST",
            &format!("{base}/deployments"),
            Some(json!({ "ref": "main", "environment": "production", "task": "deploy" })),
            201,
        )
        .await;
    let id = made["id"].as_u64().unwrap();
    c.call(
        "POST",
        &format!("{base}/deployments"),
        Some(json!({ "ref": "no-such-branch" })),
        422,
    )
    .await;
    c.call(
        "POST",
        &format!("{base}/deployments/{id}/statuses"),
        Some(json!({ "state": "success", "environment": "production" })),
        201,
    )
    .await;
    c.call(
        "POST",
        &format!("{base}/deployments/{id}/statuses"),
        Some(json!({ "state": "exploded" })),
        422,
    )
    .await;
    c.call(
        "GET",
        &format!("{base}/actions/runs?branch=main&status=completed"),
        None,
        200,
    )
    .await;
    let none = c
        .call(
            "GET",
            &format!("{base}/actions/runs?status=nope"),
            None,
            200,
        )
        .await;
    assert_eq!(none["total_count"], 0, "an unknown status matches nothing");
    c.call("GET", &format!("{base}/actions/runs/{run}"), None, 200)
        .await;
    // (An unknown run is GitHub's 404, which the description does not document: not called.)
    c.call("GET", &format!("{base}/releases"), None, 200).await;
    c.call("GET", &format!("{base}/tags"), None, 200).await;
    let first = {
        let w = c.gh.sim.world();
        let id = w.repo_by_name(org, repo).unwrap().id;
        w.history(id).unwrap().mainline[0].1.clone()
    };
    c.call(
        "GET",
        &format!("{base}/compare/{first}...{merged}"),
        None,
        200,
    )
    .await;
    c.call(
        "GET",
        &format!("{base}/compare/{merged}...{first}"),
        None,
        200,
    )
    .await;
    c.call(
        "GET",
        &format!("{base}/compare/{first}...main?per_page=2&page=2"),
        None,
        200,
    )
    .await;
    c.call(
        "GET",
        &format!("{base}/compare/{first}...{}", "0".repeat(40)),
        None,
        404,
    )
    .await;
    c.call(
        "GET",
        &format!("{base}/issues?state=all&per_page=100"),
        None,
        200,
    )
    .await;
    c.call(
        "GET",
        &format!("{base}/issues?labels=incident&state=closed"),
        None,
        200,
    )
    .await;
    c.call("GET", &format!("{base}/issues?state=nope"), None, 422)
        .await;
    c.call("GET", &format!("{base}/issues/{issue}"), None, 200)
        .await;
    c.call("GET", &format!("{base}/issues/{open}"), None, 200)
        .await;
    c.call("GET", &format!("{base}/issues/99999"), None, 404)
        .await;
}
