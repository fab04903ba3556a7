//! The simulator's REST face, over real HTTP: pagination, list-vs-get fields, the commit cap, rate
//! limits, secondary limits, ETags, errors, faults and GitHub's JSON shapes.

use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;
use tidemark_tests::sim::{Faults, OrgSpec, Sim, SimConfig};

fn small() -> SimConfig {
    SimConfig {
        org: OrgSpec {
            repos: 3,
            prs_per_repo: 24,
            members: 6,
            now: 1_760_000_000,
            ..OrgSpec::default()
        },
        ..SimConfig::default()
    }
}

struct Api {
    sim: Sim,
    token: String,
    http: reqwest::Client,
}

impl Api {
    fn new(config: SimConfig) -> Api {
        let sim = Sim::start(config, "127.0.0.1:0").unwrap();
        let viewer = {
            let w = sim.world();
            w.account(w.viewer_id).login.clone()
        };
        let token = sim.token_for(&viewer);
        Api {
            sim,
            token,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.url())
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            self.url(path)
        };
        self.http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }

    async fn control(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "POST {path}: {}", r.status());
        r.json().await.unwrap()
    }

    fn repo(&self, index: usize) -> (u64, String) {
        let w = self.sim.world();
        let r = w.repos.values().nth(index).unwrap();
        (r.id, r.name.clone())
    }
}

fn link(resp: &reqwest::Response, rel: &str) -> Option<String> {
    let header = resp.headers().get("link")?.to_str().ok()?.to_string();
    header.split(", ").find_map(|part| {
        let (url, r) = part.split_once("; ")?;
        (r == format!("rel=\"{rel}\""))
            .then(|| url.trim_matches(|c| c == '<' || c == '>').to_string())
    })
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn assert_has(v: &Value, expected: &[&str], what: &str) {
    let have = keys(v);
    let missing: Vec<_> = expected.iter().filter(|k| !have.contains(**k)).collect();
    assert!(missing.is_empty(), "{what} lacks {missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn following_link_headers_walks_every_pull_request_once_in_order() {
    let api = Api::new(small());
    let (repo_id, name) = api.repo(0);
    let mut url = format!("/repos/acme/{name}/pulls?state=all&per_page=7");
    let mut numbers = Vec::new();
    let mut pages = 0;
    loop {
        let resp = api.get(&url).await;
        assert_eq!(resp.status(), 200);
        let has_prev = link(&resp, "prev").is_some();
        let next = link(&resp, "next");
        assert_eq!(has_prev, pages > 0, "prev on page {}", pages + 1);
        assert_eq!(link(&resp, "first").is_some(), pages > 0);
        assert_eq!(link(&resp, "last").is_some(), next.is_some());
        let items: Vec<Value> = resp.json().await.unwrap();
        assert!(items.len() <= 7);
        numbers.extend(items.iter().map(|p| p["number"].as_u64().unwrap()));
        pages += 1;
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    // Newest first, as GitHub sorts by default.
    let w = api.sim.world();
    let mut expected: Vec<_> = w
        .repo_pulls(repo_id)
        .map(|p| (p.created_at, p.number))
        .collect();
    expected.sort();
    expected.reverse();
    assert_eq!(
        numbers,
        expected.iter().map(|(_, n)| *n).collect::<Vec<_>>()
    );
    assert_eq!(pages, 24usize.div_ceil(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_page_is_capped_at_100_and_state_filters() {
    let api = Api::new(SimConfig {
        org: OrgSpec {
            repos: 1,
            prs_per_repo: 130,
            ..small().org
        },
        ..small()
    });
    let (repo_id, name) = api.repo(0);
    let all: Vec<Value> = api
        .json(&format!("/repos/acme/{name}/pulls?state=all&per_page=500"))
        .await
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(all.len(), 100);
    let open: Vec<Value> = api
        .json(&format!("/repos/acme/{name}/pulls?per_page=100"))
        .await
        .as_array()
        .unwrap()
        .clone();
    let open_count = api
        .sim
        .world()
        .repo_pulls(repo_id)
        .filter(|p| p.open)
        .count();
    assert_eq!(open.len(), open_count.min(100));
    assert!(open.iter().all(|p| p["state"] == "open"));
    let beyond: Value = api
        .json(&format!("/repos/acme/{name}/pulls?state=all&page=99"))
        .await;
    assert_eq!(beyond, Value::Array(vec![]));
    let bad = api
        .get(&format!("/repos/acme/{name}/pulls?state=merged"))
        .await;
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["message"], "Validation Failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_items_lack_merged_and_size_while_get_has_them_right() {
    let api = Api::new(small());
    let (repo_id, name) = api.repo(0);
    let list: Value = api
        .json(&format!(
            "/repos/acme/{name}/pulls?state=closed&per_page=100"
        ))
        .await;
    for item in list.as_array().unwrap() {
        for absent in [
            "merged",
            "additions",
            "deletions",
            "commits",
            "changed_files",
        ] {
            assert!(item.get(absent).is_none(), "list item has {absent}");
        }
    }
    let merged = {
        let w = api.sim.world();
        w.repo_pulls(repo_id).find(|p| p.merged()).unwrap().clone()
    };
    let got: Value = api
        .json(&format!("/repos/acme/{name}/pulls/{}", merged.number))
        .await;
    assert_eq!(got["merged"], true);
    assert_eq!(got["state"], "closed");
    assert_eq!(got["additions"], merged.additions());
    assert_eq!(got["deletions"], merged.deletions());
    assert_eq!(got["commits"], merged.commits.len());
    assert_eq!(
        got["merged_at"],
        tidemark_tests::sim::clock::iso(merged.merged_at.unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_requests_commits_stop_at_250_like_githubs() {
    let api = Api::new(small());
    let (repo_id, name) = api.repo(0);
    let giant = {
        let w = api.sim.world();
        w.repo_pulls(repo_id)
            .find(|p| p.commits.len() > 250)
            .unwrap()
            .clone()
    };
    let mut url = format!(
        "/repos/acme/{name}/pulls/{}/commits?per_page=100",
        giant.number
    );
    let mut shas = Vec::new();
    loop {
        let resp = api.get(&url).await;
        let next = link(&resp, "next");
        let items: Vec<Value> = resp.json().await.unwrap();
        shas.extend(items.iter().map(|c| c["sha"].as_str().unwrap().to_string()));
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(shas.len(), 250);
    assert_eq!(
        shas,
        giant.commits[..250]
            .iter()
            .map(|c| c.sha.clone())
            .collect::<Vec<_>>()
    );
    let got: Value = api
        .json(&format!("/repos/acme/{name}/pulls/{}", giant.number))
        .await;
    assert_eq!(
        got["commits"],
        giant.commits.len(),
        "the PR itself tells the true count"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_primary_limit_refuses_until_reset_and_rate_limit_is_free() {
    let api = Api::new(SimConfig {
        rate_limit: 3,
        ..small()
    });
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = api.get("/user").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-ratelimit-limit"], "3");
        assert_eq!(r.headers()["x-ratelimit-resource"], "core");
        remaining.push(
            r.headers()["x-ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let refused = api.get("/user").await;
    assert_eq!(refused.status(), 403);
    assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
    let reset: i64 = refused.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > tidemark_tests::sim::clock::now());
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded for user ID")
    );
    // /rate_limit answers, for free, and tells the truth.
    let rl: Value = api.json("/rate_limit").await;
    assert_eq!(rl["resources"]["core"]["used"], 3);
    assert_eq!(rl["resources"]["core"]["remaining"], 0);
    assert_eq!(rl["rate"], rl["resources"]["core"]);
    let stats = api.sim.stats();
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(stats.early_requests, 1);
    assert_eq!(stats.rest_requests, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_matching_etag_answers_304_for_free_until_the_resource_changes() {
    let api = Api::new(small());
    let (repo_id, name) = api.repo(0);
    let number = api
        .sim
        .world()
        .repo_pulls(repo_id)
        .find(|p| p.open && !p.draft)
        .unwrap()
        .number;
    let path = format!("/repos/acme/{name}/pulls/{number}");
    let first = api.get(&path).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""));
    let used = |r: &reqwest::Response| {
        r.headers()["x-ratelimit-used"]
            .to_str()
            .unwrap()
            .to_string()
    };
    let used_before = used(&first);
    let conditional = || {
        api.http
            .get(api.url(&path))
            .bearer_auth(&api.token)
            .header("if-none-match", &etag)
    };
    let again = conditional().send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(used(&again), used_before, "a 304 costs nothing");
    assert_eq!(again.bytes().await.unwrap().len(), 0);
    api.control(
        &format!("/_sim/repos/{name}/pulls/{number}/edit"),
        serde_json::json!({"title": "Renamed"}),
    )
    .await;
    let changed = conditional().send().await.unwrap();
    assert_eq!(changed.status(), 200);
    let body: Value = changed.json().await.unwrap();
    assert_eq!(body["title"], "Renamed");
    assert_eq!(api.sim.stats().not_modified, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_at_once_trip_the_secondary_limit_and_early_returns_are_counted() {
    let api = Api::new(SimConfig {
        max_concurrent: 2,
        latency_ms: 300,
        secondary_retry_after: 30,
        ..small()
    });
    let calls = (0..6).map(|_| api.get("/user"));
    let answers = futures::future::join_all(calls).await;
    let limited: Vec<_> = answers.iter().filter(|r| r.status() == 403).collect();
    assert!(
        !limited.is_empty(),
        "statuses: {:?}",
        answers.iter().map(|r| r.status()).collect::<Vec<_>>()
    );
    for r in &limited {
        let after: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(after > 0 && after <= 30);
    }
    // Coming back before retry-after passes is refused again, and counted.
    let early = api.get("/user").await;
    assert_eq!(early.status(), 403);
    assert!(early.headers().contains_key("retry-after"));
    let stats = api.sim.stats();
    assert!(stats.early_requests >= 1);
    assert!(stats.max_concurrency >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_come_in_githubs_shape() {
    let api = Api::new(small());
    let anon = api.http.get(api.url("/user")).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    assert_eq!(
        anon.json::<Value>().await.unwrap()["message"],
        "Requires authentication"
    );
    let bad = api
        .http
        .get(api.url("/user"))
        .bearer_auth("gho_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["message"], "Bad credentials");
    assert_has(&body, &["message", "documentation_url"], "error");
    let missing = api.get("/repos/acme/no-such-repo").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["message"],
        "Not Found"
    );
    // A token without `repo` does not see private repositories.
    let viewer = {
        let w = api.sim.world();
        w.account(w.viewer_id).login.clone()
    };
    let narrow: Value = api
        .control(
            "/_sim/tokens",
            serde_json::json!({"login": viewer, "scopes": ["read:org"]}),
        )
        .await;
    let private = api
        .sim
        .world()
        .repos
        .values()
        .find(|r| r.private)
        .unwrap()
        .name
        .clone();
    let hidden = api
        .http
        .get(api.url(&format!("/repos/acme/{private}")))
        .bearer_auth(narrow["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404);
    // A revoked token answers 401 everywhere.
    api.control(
        "/_sim/tokens/revoke",
        serde_json::json!({"token": api.token}),
    )
    .await;
    assert_eq!(api.get("/user").await.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_demand_5xx_resets_and_truncated_bodies() {
    let api = Api::new(small());
    let set = |f: Faults| api.control("/_sim/faults", serde_json::to_value(f).unwrap());
    set(Faults {
        fail_next: 2,
        ..Faults::default()
    })
    .await;
    assert_eq!(api.get("/user").await.status(), 502);
    assert_eq!(api.get("/user").await.status(), 502);
    assert_eq!(api.get("/user").await.status(), 200);
    set(Faults {
        reset_rate: 1000,
        ..Faults::default()
    })
    .await;
    let reset = api
        .http
        .get(api.url("/user"))
        .bearer_auth(&api.token)
        .send()
        .await;
    assert!(
        reset.is_err(),
        "a reset connection is an error, got {reset:?}"
    );
    set(Faults {
        truncate_rate: 1000,
        ..Faults::default()
    })
    .await;
    let truncated = api
        .http
        .get(api.url("/orgs/acme"))
        .bearer_auth(&api.token)
        .send()
        .await;
    // Either the head fails to parse or the body comes up short: never a whole answer.
    if let Ok(r) = truncated {
        assert!(
            r.bytes().await.is_err(),
            "a truncated body must not read whole"
        );
    }
    set(Faults::default()).await;
    assert_eq!(api.get("/user").await.status(), 200);
    assert!(api.sim.stats().faults_injected >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_changes_show_up_in_the_api() {
    let api = Api::new(small());
    let (_, name) = api.repo(0);
    let (author, reviewer) = {
        let w = api.sim.world();
        let mut people = w.members.keys().map(|id| w.account(*id).login.clone());
        (people.next().unwrap(), people.next().unwrap())
    };
    let opened = api
        .control(&format!("/_sim/repos/{name}/pulls"), serde_json::json!({"author": author, "title": "New thing", "draft": true, "commits": 3}))
        .await;
    let n = opened["number"].as_u64().unwrap();
    let pr: Value = api.json(&format!("/repos/acme/{name}/pulls/{n}")).await;
    assert_eq!(
        (
            pr["draft"].as_bool(),
            pr["state"].as_str(),
            pr["commits"].as_u64()
        ),
        (Some(true), Some("open"), Some(3))
    );
    api.control(
        &format!("/_sim/repos/{name}/pulls/{n}/ready"),
        serde_json::json!({}),
    )
    .await;
    let review = api
        .control(
            &format!("/_sim/repos/{name}/pulls/{n}/review"),
            serde_json::json!({"user": reviewer, "state": "approved"}),
        )
        .await;
    api.control(
        &format!("/_sim/repos/{name}/pulls/{n}/merge"),
        serde_json::json!({"by": reviewer}),
    )
    .await;
    let pr: Value = api.json(&format!("/repos/acme/{name}/pulls/{n}")).await;
    assert_eq!(pr["merged"], true);
    assert_eq!(pr["merged_by"]["login"], reviewer.as_str());
    let reviews: Value = api
        .json(&format!("/repos/acme/{name}/pulls/{n}/reviews"))
        .await;
    assert_eq!(reviews[0]["id"], review["id"]);
    assert_eq!(reviews[0]["state"], "APPROVED");
    // Bad control input is refused with a reason, and changes nothing.
    let r = api
        .http
        .post(api.url(&format!("/_sim/repos/{name}/pulls/{n}/merge")))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let truth: Value = api
        .http
        .get(api.url("/_sim/truth"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mine = truth["pulls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["number"] == n && p["title"] == "New thing")
        .unwrap();
    assert_eq!(mine["state"], "MERGED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_carries_githubs_field_names() {
    let api = Api::new(small());
    let (repo_id, name) = api.repo(0);
    const SIMPLE_USER: &[&str] = &[
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
    let me: Value = api.json("/user").await;
    assert_has(&me, SIMPLE_USER, "GET /user");
    assert_has(
        &me,
        &[
            "name",
            "company",
            "blog",
            "location",
            "email",
            "hireable",
            "bio",
            "public_repos",
            "followers",
            "following",
            "created_at",
            "updated_at",
        ],
        "GET /user",
    );
    let members: Value = api.json("/orgs/acme/members").await;
    assert_has(&members[0], SIMPLE_USER, "org member");
    let repos: Value = api.json("/orgs/acme/repos").await;
    assert_has(
        &repos[0],
        &[
            "id",
            "node_id",
            "name",
            "full_name",
            "owner",
            "private",
            "html_url",
            "description",
            "fork",
            "url",
            "hooks_url",
            "pulls_url",
            "default_branch",
            "archived",
            "disabled",
            "visibility",
            "pushed_at",
            "created_at",
            "updated_at",
            "permissions",
            "open_issues_count",
            "topics",
            "has_issues",
        ],
        "org repo",
    );
    assert_has(&repos[0]["owner"], SIMPLE_USER, "repo owner");
    assert_eq!(repos[0]["owner"]["type"], "Organization");
    const PULL: &[&str] = &[
        "url",
        "id",
        "node_id",
        "html_url",
        "diff_url",
        "patch_url",
        "issue_url",
        "commits_url",
        "review_comments_url",
        "review_comment_url",
        "comments_url",
        "statuses_url",
        "number",
        "state",
        "locked",
        "title",
        "user",
        "body",
        "labels",
        "milestone",
        "active_lock_reason",
        "created_at",
        "updated_at",
        "closed_at",
        "merged_at",
        "merge_commit_sha",
        "assignee",
        "assignees",
        "requested_reviewers",
        "requested_teams",
        "head",
        "base",
        "_links",
        "author_association",
        "auto_merge",
        "draft",
    ];
    let list: Value = api
        .json(&format!("/repos/acme/{name}/pulls?state=all"))
        .await;
    assert_has(&list[0], PULL, "pull list item");
    assert_has(
        &list[0]["head"],
        &["label", "ref", "sha", "user", "repo"],
        "head",
    );
    let with_reviews = api
        .sim
        .world()
        .repo_pulls(repo_id)
        .find(|p| !p.reviews.is_empty())
        .unwrap()
        .number;
    let full: Value = api
        .json(&format!("/repos/acme/{name}/pulls/{with_reviews}"))
        .await;
    assert_has(&full, PULL, "pull");
    assert_has(
        &full,
        &[
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
        ],
        "pull (get)",
    );
    let reviews: Value = api
        .json(&format!("/repos/acme/{name}/pulls/{with_reviews}/reviews"))
        .await;
    assert_has(
        &reviews[0],
        &[
            "id",
            "node_id",
            "user",
            "body",
            "state",
            "html_url",
            "pull_request_url",
            "_links",
            "submitted_at",
            "commit_id",
            "author_association",
        ],
        "review",
    );
    let commits: Value = api
        .json(&format!("/repos/acme/{name}/pulls/{with_reviews}/commits"))
        .await;
    assert_has(
        &commits[0],
        &[
            "url",
            "sha",
            "node_id",
            "html_url",
            "comments_url",
            "commit",
            "author",
            "committer",
            "parents",
        ],
        "commit",
    );
    assert_has(
        &commits[0]["commit"],
        &[
            "url",
            "author",
            "committer",
            "message",
            "tree",
            "comment_count",
            "verification",
        ],
        "commit.commit",
    );
    assert_has(
        &commits[0]["commit"]["author"],
        &["name", "email", "date"],
        "git author",
    );
    let rl: Value = api.json("/rate_limit").await;
    assert_has(&rl, &["resources", "rate"], "rate_limit");
    assert_has(
        &rl["resources"]["core"],
        &["limit", "used", "remaining", "reset"],
        "core",
    );
    assert_has(
        &rl["resources"],
        &["core", "search", "graphql"],
        "resources",
    );
    // Types, not just names.
    assert!(full["id"].is_u64() && full["number"].is_u64() && full["draft"].is_boolean());
    assert!(full["user"]["id"].is_u64() && full["user"]["site_admin"].is_boolean());
}

#[test]
fn the_binary_prints_its_url_first_and_serves_the_seeded_org() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(tidemark_tests::harness::bin("github-sim"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--repos",
            "2",
            "--prs-per-repo",
            "5",
            "--seed",
            "7",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let truth: Value = tidemark_tests::harness::block_on(async {
        reqwest::get(format!("{url}/_sim/truth"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(truth["repos"].as_array().unwrap().len(), 2);
    assert_eq!(truth["pulls"].as_array().unwrap().len(), 10);
}
