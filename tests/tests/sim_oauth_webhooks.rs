//! The simulator's OAuth (web flow with PKCE, device flow, expiring tokens, revocation) and its
//! webhooks (hooks API, signed deliveries in GitHub's shapes, deliveries API, redelivery), over
//! real HTTP, with a small receiver catching what the simulator sends.
//!
//! Field names below come from GitHub's own examples (`@octokit/webhooks-examples` 7.6.1 and
//! GitHub's OpenAPI description), written out here so the tests stand alone.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tidemark_tests::sim::webhooks::signature_256;
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};

const SECRET: &str = "It's a Secret to Everybody";

fn small() -> SimConfig {
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

// ---- a webhook receiver ------------------------------------------------------------------------

/// One request the receiver got: header names lowercased, the exact body bytes.
#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    fn event(&self) -> &str {
        self.header("x-github-event")
    }

    /// The JSON payload (from a form body's `payload` field too).
    fn json(&self) -> Value {
        if self.header("content-type") == "application/x-www-form-urlencoded" {
            let payload = url::form_urlencoded::parse(&self.body)
                .find(|(k, _)| k == "payload")
                .map(|(_, v)| v.into_owned())
                .expect("a payload field");
            serde_json::from_str(&payload).unwrap()
        } else {
            serde_json::from_slice(&self.body).unwrap()
        }
    }
}

/// A tiny HTTP/1.1 server on its own threads: records every request, answers `status`.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let (g, s) = (got.clone(), status.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (g, s) = (g.clone(), s.clone());
                std::thread::spawn(move || serve(stream, g, s));
            }
        });
        Receiver { url, got, status }
    }

    fn all(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Wait (at most 10 s) until `n` requests have come, then return them all.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        let got = self.got.clone();
        wait_until(&format!("{n} deliveries"), || {
            got.lock().unwrap().len() >= n
        })
        .await;
        self.all()
    }
}

fn serve(stream: std::net::TcpStream, got: Arc<Mutex<Vec<Received>>>, status: Arc<AtomicU16>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        got.lock().unwrap().push(Received { headers, body });
        let code = status.load(Ordering::SeqCst);
        let answer = format!(
            "HTTP/1.1 {code} Whatever\r\ncontent-type: text/plain\r\nx-receiver: yes\r\ncontent-length: 8\r\n\r\nreceived"
        );
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// Poll `cond` until it holds; fail after 10 s.
async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---- a client ----------------------------------------------------------------------------------

struct Gh {
    sim: Sim,
    http: reqwest::Client,
    token: String,
    org: String,
}

impl Gh {
    fn new(config: SimConfig) -> Gh {
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

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.sim.url())
        }
    }

    /// A repository's name.
    fn repo(&self, index: usize) -> String {
        let w = self.sim.world();
        w.repos.values().nth(index).unwrap().name.clone()
    }

    async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.api_as(&self.token, method, path, body).await
    }

    async fn api_as(
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

    async fn send(
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
    async fn control(&self, path: &str, body: Value) -> Value {
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

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
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

// ---- shapes, from GitHub's examples -----------------------------------------------------------

const PULL_REQUEST_FIELDS: &[&str] = &[
    "url",
    "id",
    "node_id",
    "html_url",
    "diff_url",
    "patch_url",
    "issue_url",
    "number",
    "state",
    "locked",
    "title",
    "user",
    "body",
    "created_at",
    "updated_at",
    "closed_at",
    "merged_at",
    "merge_commit_sha",
    "assignee",
    "assignees",
    "requested_reviewers",
    "requested_teams",
    "labels",
    "milestone",
    "commits_url",
    "review_comments_url",
    "review_comment_url",
    "comments_url",
    "statuses_url",
    "head",
    "base",
    "_links",
    "author_association",
    "auto_merge",
    "active_lock_reason",
    "draft",
    "merged",
    "mergeable",
    "rebaseable",
    "mergeable_state",
    "merged_by",
    "comments",
    "review_comments",
    "maintainer_can_modify",
    "commits",
    "additions",
    "deletions",
    "changed_files",
];

/// The pull request inside a `pull_request_review` body (no merged, sizes or counts).
const REVIEW_PULL_REQUEST_FIELDS: &[&str] = &[
    "url",
    "id",
    "node_id",
    "html_url",
    "diff_url",
    "patch_url",
    "issue_url",
    "number",
    "state",
    "locked",
    "title",
    "user",
    "body",
    "created_at",
    "updated_at",
    "closed_at",
    "merged_at",
    "merge_commit_sha",
    "assignee",
    "assignees",
    "requested_reviewers",
    "requested_teams",
    "labels",
    "milestone",
    "commits_url",
    "review_comments_url",
    "review_comment_url",
    "comments_url",
    "statuses_url",
    "head",
    "base",
    "_links",
    "author_association",
];

const REVIEW_FIELDS: &[&str] = &[
    "id",
    "node_id",
    "user",
    "body",
    "commit_id",
    "submitted_at",
    "state",
    "html_url",
    "pull_request_url",
    "author_association",
    "_links",
];

const REPOSITORY_FIELDS: &[&str] = &[
    "id",
    "node_id",
    "name",
    "full_name",
    "private",
    "owner",
    "html_url",
    "description",
    "fork",
    "url",
    "forks_url",
    "keys_url",
    "collaborators_url",
    "teams_url",
    "hooks_url",
    "issue_events_url",
    "events_url",
    "assignees_url",
    "branches_url",
    "tags_url",
    "blobs_url",
    "git_tags_url",
    "git_refs_url",
    "trees_url",
    "statuses_url",
    "languages_url",
    "stargazers_url",
    "contributors_url",
    "subscribers_url",
    "subscription_url",
    "commits_url",
    "git_commits_url",
    "comments_url",
    "issue_comment_url",
    "contents_url",
    "compare_url",
    "merges_url",
    "archive_url",
    "downloads_url",
    "issues_url",
    "pulls_url",
    "milestones_url",
    "notifications_url",
    "labels_url",
    "releases_url",
    "deployments_url",
    "created_at",
    "updated_at",
    "pushed_at",
    "git_url",
    "ssh_url",
    "clone_url",
    "svn_url",
    "homepage",
    "size",
    "stargazers_count",
    "watchers_count",
    "language",
    "has_issues",
    "has_projects",
    "has_downloads",
    "has_wiki",
    "has_pages",
    "forks_count",
    "mirror_url",
    "archived",
    "disabled",
    "open_issues_count",
    "license",
    "forks",
    "open_issues",
    "watchers",
    "default_branch",
    "is_template",
    "topics",
    "visibility",
    "web_commit_signoff_required",
    "custom_properties",
];

const PUSH_COMMIT_FIELDS: &[&str] = &[
    "id",
    "tree_id",
    "distinct",
    "message",
    "timestamp",
    "url",
    "author",
    "committer",
    "added",
    "removed",
    "modified",
];

const ORGANIZATION_FIELDS: &[&str] = &[
    "login",
    "id",
    "node_id",
    "url",
    "repos_url",
    "events_url",
    "hooks_url",
    "issues_url",
    "members_url",
    "public_members_url",
    "avatar_url",
    "description",
];

const HOOK_FIELDS: &[&str] = &[
    "type",
    "id",
    "name",
    "active",
    "events",
    "config",
    "updated_at",
    "created_at",
    "url",
    "test_url",
    "ping_url",
    "deliveries_url",
    "last_response",
];

const USER_FIELDS: &[&str] = &[
    "login",
    "id",
    "node_id",
    "avatar_url",
    "gravatar_id",
    "url",
    "html_url",
    "followers_url",
    "following_url",
    "gists_url",
    "starred_url",
    "subscriptions_url",
    "organizations_url",
    "repos_url",
    "events_url",
    "received_events_url",
    "type",
    "site_admin",
];

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

/// Open, push, review, edit, merge: each delivery has the right event, action and fields.
#[tokio::test]
async fn pull_request_activity_is_delivered_in_order_in_githubs_shapes() {
    let gh = Gh::new(small());
    let rx = Receiver::start();
    let repo = gh.repo(0);
    gh.create_hook(
        &repo,
        json!({ "url": rx.url, "content_type": "json", "secret": SECRET }),
        &["pull_request", "pull_request_review", "push"],
    )
    .await;
    rx.wait_for(1).await; // the ping
    let (author, reviewer) = {
        let w = gh.sim.world();
        let people: Vec<String> = w
            .members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect();
        (people[1].clone(), people[2].clone())
    };
    let pulls = format!("/_sim/repos/{repo}/pulls");
    let opened = gh
        .control(
            &pulls,
            json!({ "author": author, "title": "Add things", "commits": 2 }),
        )
        .await;
    let n = opened["number"].as_u64().unwrap();
    gh.control(&format!("{pulls}/{n}/push"), json!({ "commits": 2 }))
        .await;
    gh.control(
        &format!("{pulls}/{n}/review"),
        json!({ "user": reviewer, "state": "approved", "body": "" }),
    )
    .await;
    gh.control(
        &format!("{pulls}/{n}/edit"),
        json!({ "title": "Add more things" }),
    )
    .await;
    gh.control(&format!("{pulls}/{n}/merge"), json!({})).await;

    let got = rx.wait_for(7).await;
    let seen: Vec<(String, Option<String>)> = got
        .iter()
        .map(|r| {
            let b = r.json();
            (
                r.event().to_string(),
                b["action"].as_str().map(String::from),
            )
        })
        .collect();
    let s = |e: &str, a: Option<&str>| (e.to_string(), a.map(String::from));
    assert_eq!(
        seen,
        vec![
            s("ping", None),
            s("pull_request", Some("opened")),
            s("push", None),
            s("pull_request", Some("synchronize")),
            s("pull_request_review", Some("submitted")),
            s("pull_request", Some("edited")),
            s("pull_request", Some("closed")),
        ]
    );
    for r in &got {
        assert_eq!(
            r.header("X-Hub-Signature-256"),
            signature_256(SECRET, &r.body)
        );
        let b = r.json();
        assert_has(&b["repository"], REPOSITORY_FIELDS, "repository");
        assert_eq!(keys(&b["organization"]), set(ORGANIZATION_FIELDS));
        assert_has(&b["sender"], USER_FIELDS, "sender");
    }

    // opened
    let b = got[1].json();
    assert_eq!(
        keys(&b),
        set(&[
            "action",
            "number",
            "pull_request",
            "repository",
            "organization",
            "sender"
        ])
    );
    assert_eq!(b["number"], n);
    assert_has(&b["pull_request"], PULL_REQUEST_FIELDS, "pull_request");
    assert_eq!(b["pull_request"]["state"], "open");
    assert_eq!(b["pull_request"]["merged"], false);
    assert_eq!(b["pull_request"]["commits"], 2);
    assert_eq!(b["sender"]["login"], author.as_str());
    assert!(
        b["pull_request"]["head"]["repo"]
            .get("permissions")
            .is_none(),
        "webhook repositories carry no permissions"
    );

    // push
    let push = got[2].json();
    assert_eq!(
        keys(&push),
        set(&[
            "ref",
            "before",
            "after",
            "created",
            "deleted",
            "forced",
            "base_ref",
            "compare",
            "commits",
            "head_commit",
            "repository",
            "pusher",
            "sender",
            "organization",
        ])
    );
    assert!(push["ref"].as_str().unwrap().starts_with("refs/heads/"));
    assert_eq!(push["created"], false);
    assert_eq!(push["deleted"], false);
    let commits = push["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 2);
    for c in commits {
        assert_eq!(keys(c), set(PUSH_COMMIT_FIELDS));
    }
    assert_eq!(push["head_commit"]["id"], push["after"]);
    assert_eq!(commits[1]["id"], push["after"]);
    assert_eq!(keys(&push["pusher"]), set(&["name", "email"]));
    assert_eq!(push["pusher"]["name"], author.as_str());
    // The push body's repository is GitHub's older rendering.
    let pr = &push["repository"];
    assert!(
        pr["created_at"].is_i64() && pr["pushed_at"].is_i64(),
        "{pr}"
    );
    assert!(pr["updated_at"].is_string());
    assert_has(pr, &["stargazers", "master_branch"], "push repository");
    assert_has(&pr["owner"], &["name", "email"], "push repository owner");

    // synchronize: before/after match the push.
    let sync = got[3].json();
    assert_eq!(sync["before"], push["before"]);
    assert_eq!(sync["after"], push["after"]);
    assert_eq!(sync["pull_request"]["head"]["sha"], push["after"]);
    assert_eq!(sync["pull_request"]["commits"], 4);

    // review: lowercase state, a pull request without merged or sizes.
    let rv = got[4].json();
    assert_eq!(
        keys(&rv),
        set(&[
            "action",
            "review",
            "pull_request",
            "repository",
            "organization",
            "sender"
        ])
    );
    assert_eq!(keys(&rv["review"]), set(REVIEW_FIELDS));
    assert_eq!(rv["review"]["state"], "approved");
    assert_eq!(rv["review"]["body"], Value::Null);
    assert_eq!(rv["review"]["user"]["login"], reviewer.as_str());
    assert_eq!(rv["sender"]["login"], reviewer.as_str());
    assert_has(
        &rv["pull_request"],
        REVIEW_PULL_REQUEST_FIELDS,
        "review's pull_request",
    );
    for absent in [
        "merged",
        "additions",
        "deletions",
        "commits",
        "changed_files",
    ] {
        assert!(
            rv["pull_request"].get(absent).is_none(),
            "a review's pull request has no {absent}"
        );
    }

    // edited: what changed.
    let ed = got[5].json();
    assert_eq!(ed["changes"], json!({ "title": { "from": "Add things" } }));
    assert_eq!(ed["pull_request"]["title"], "Add more things");

    // closed by merging.
    let closed = got[6].json();
    assert_eq!(closed["pull_request"]["merged"], true);
    assert_eq!(closed["pull_request"]["state"], "closed");
    assert!(closed["pull_request"]["merged_at"].is_string());
    assert_eq!(
        closed["sender"]["login"],
        gh.sim.viewer_login().as_str(),
        "merged by the viewer"
    );
}

#[tokio::test]
async fn closing_without_merging_and_dismissing_a_review() {
    let gh = Gh::new(small());
    let rx = Receiver::start();
    let repo = gh.repo(1);
    gh.create_hook(
        &repo,
        json!({ "url": rx.url, "content_type": "json" }),
        &["*"],
    )
    .await;
    rx.wait_for(1).await;
    let people: Vec<String> = {
        let w = gh.sim.world();
        w.members
            .keys()
            .map(|id| w.account(*id).login.clone())
            .collect()
    };
    let pulls = format!("/_sim/repos/{repo}/pulls");
    let n = gh.control(&pulls, json!({ "author": people[1] })).await["number"]
        .as_u64()
        .unwrap();
    let review = gh
        .control(
            &format!("{pulls}/{n}/review"),
            json!({ "user": people[2], "state": "changes_requested", "body": "no" }),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    gh.control(
        &format!("{pulls}/{n}/dismiss"),
        json!({ "review_id": review }),
    )
    .await;
    gh.control(&format!("{pulls}/{n}/close"), json!({})).await;
    let got = rx.wait_for(5).await;
    let submitted = got[2].json();
    assert_eq!(submitted["review"]["state"], "changes_requested");
    assert_eq!(submitted["review"]["body"], "no");
    let dismissed = got[3].json();
    assert_eq!(got[3].event(), "pull_request_review");
    assert_eq!(dismissed["action"], "dismissed");
    assert_eq!(dismissed["review"]["state"], "dismissed");
    let closed = got[4].json();
    assert_eq!(closed["action"], "closed");
    assert_eq!(closed["pull_request"]["merged"], false);
    // A hook without a secret gets no signature.
    assert!(!got[4].headers.contains_key("x-hub-signature-256"));
}

#[tokio::test]
async fn repository_and_member_events() {
    let gh = Gh::new(small());
    let rx = Receiver::start();
    let repo = gh.repo(0);
    let repo_id = gh.sim.world().repos.values().next().unwrap().id;
    let hook_id = gh
        .create_hook(
            &repo,
            json!({ "url": rx.url, "content_type": "json" }),
            &["repository", "member"],
        )
        .await;
    rx.wait_for(1).await;
    gh.control(
        &format!("/_sim/repos/{repo}/rename"),
        json!({ "name": "renamed" }),
    )
    .await;
    gh.control("/_sim/members", json!({ "login": "new-person" }))
        .await;
    gh.control("/_sim/repos/renamed/archive", json!({ "archived": true }))
        .await;
    gh.control("/_sim/repos/renamed/archive", json!({ "archived": false }))
        .await;
    let r = gh
        .http
        .delete(gh.url("/_sim/repos/renamed"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let got = rx.wait_for(6).await;
    let bodies: Vec<Value> = got.iter().map(Received::json).collect();

    assert_eq!(got[1].event(), "repository");
    assert_eq!(bodies[1]["action"], "renamed");
    assert_eq!(
        bodies[1]["changes"],
        json!({ "repository": { "name": { "from": repo } } })
    );
    assert_eq!(bodies[1]["repository"]["name"], "renamed");
    assert_eq!(
        keys(&bodies[1]),
        set(&["action", "changes", "repository", "organization", "sender"])
    );

    assert_eq!(got[2].event(), "member");
    assert_eq!(bodies[2]["action"], "added");
    assert_eq!(bodies[2]["member"]["login"], "new-person");
    assert_has(&bodies[2]["member"], USER_FIELDS, "member");
    assert_eq!(
        keys(&bodies[2]),
        set(&[
            "action",
            "member",
            "changes",
            "repository",
            "organization",
            "sender"
        ])
    );

    assert_eq!(bodies[3]["action"], "archived");
    assert_eq!(bodies[3]["repository"]["archived"], true);
    assert_eq!(bodies[4]["action"], "unarchived");
    assert_eq!(
        keys(&bodies[4]),
        set(&["action", "repository", "organization", "sender"])
    );

    // Deleted: still described, then the hook goes with the repository.
    assert_eq!(bodies[5]["action"], "deleted");
    assert_eq!(bodies[5]["repository"]["id"], repo_id);
    assert_eq!(bodies[5]["repository"]["name"], "renamed");
    wait_until("the deleted repository's hook to go", || {
        !gh.sim.world().hooks.contains_key(&hook_id)
    })
    .await;
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

// ---- OAuth -------------------------------------------------------------------------------------

const REDIRECT: &str = "http://127.0.0.1:8976/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// S256 of VERIFIER (RFC 7636, appendix B).
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

impl Gh {
    fn client_id(&self) -> String {
        self.sim.shared.config.client_id.clone()
    }

    fn client_secret(&self) -> String {
        self.sim.shared.config.client_secret.clone()
    }

    /// `GET /login/oauth/authorize`: the redirect's query, as a map.
    async fn authorize(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
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
    async fn token(&self, fields: &[(&str, &str)], json: bool) -> (String, HashMap<String, Value>) {
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

    async fn exchange(&self, code: &str, verifier: &str, json: bool) -> HashMap<String, Value> {
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

    async fn user_status(&self, token: &str) -> StatusCode {
        self.send(token, "GET", "/user", None).await.status()
    }
}

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

impl Gh {
    /// `POST /login/device/code` (JSON answer).
    async fn device_code(&self) -> Value {
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
    async fn poll(&self, device_code: &str) -> HashMap<String, Value> {
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
trait FormFields {
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

impl Gh {
    async fn revoke(&self, what: &str, token: &str, secret: &str) -> StatusCode {
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
    async fn web_token(&self) -> HashMap<String, Value> {
        let code = self.authorize(&[]).await["code"].clone();
        self.exchange(&code, VERIFIER, true).await
    }
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
