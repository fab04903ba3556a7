//! The simulator's GraphQL API over real HTTP, the way the sync will call it: a PR page with
//! reviews, commits and ready-for-review times, walked by cursor, checked against the world.

use serde_json::{Value, json};
use tidemark_tests::sim::{OrgSpec, Sim, SimConfig};

/// The shape of query a pull-request sync sends (one page of PRs with what metrics need).
const SYNC_PAGE: &str = "query Sync($owner: String!, $name: String!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: ASC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        fullDatabaseId number title state isDraft merged createdAt updatedAt closedAt mergedAt
        additions deletions changedFiles
        author { login ... on User { databaseId } ... on Bot { databaseId } }
        reviews(first: 10) { totalCount nodes { fullDatabaseId state submittedAt author { login } } }
        commits(first: 10) { totalCount nodes { commit { oid authoredDate author { email user { login } } } } }
        timelineItems(first: 10, itemTypes: [READY_FOR_REVIEW_EVENT]) {
          nodes { ... on ReadyForReviewEvent { createdAt } }
        }
      }
    }
  }
  rateLimit { cost remaining resetAt }
}";

struct Client {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Client {
    async fn post(&self, body: &Value) -> (u16, reqwest::header::HeaderMap, Value) {
        let resp = self
            .http
            .post(&self.url)
            .header("authorization", format!("bearer {}", self.token))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("the simulator answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("a body");
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }
}

fn start(prs_per_repo: usize) -> (Sim, Client) {
    let sim = Sim::start(
        SimConfig {
            org: OrgSpec {
                prs_per_repo,
                ..OrgSpec::default()
            },
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .expect("the simulator starts");
    let viewer = {
        let w = sim.world();
        w.account(w.viewer_id).login.clone()
    };
    let client = Client {
        http: reqwest::Client::new(),
        url: format!("{}/graphql", sim.url()),
        token: sim.token_for(&viewer),
    };
    (sim, client)
}

#[test]
fn a_sync_walks_a_repository_over_http_and_sees_the_world() {
    let (sim, client) = start(40);
    let (org, repo, repo_id) = {
        let w = sim.world();
        let r = w.repos.values().next().unwrap();
        (w.org().login.clone(), r.name.clone(), r.id)
    };
    let mut after = Value::Null;
    let mut got = Vec::new();
    let mut last_remaining = u64::MAX;
    loop {
        let body = json!({"query": SYNC_PAGE, "operationName": "Sync",
                          "variables": {"owner": org, "name": repo, "first": 15, "after": after}});
        let (status, headers, answer) = tidemark_tests::harness::block_on(client.post(&body));
        assert_eq!(status, 200, "{answer}");
        assert!(answer.get("errors").is_none(), "{answer}");
        assert_eq!(headers["x-ratelimit-resource"], "graphql");
        let remaining: u64 = headers["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(answer["data"]["rateLimit"]["remaining"], remaining);
        assert!(remaining < last_remaining, "every page is charged");
        last_remaining = remaining;
        let conn = &answer["data"]["repository"]["pullRequests"];
        got.extend(conn["nodes"].as_array().unwrap().iter().cloned());
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    let w = sim.world();
    let mut want: Vec<_> = w.repo_pulls(repo_id).collect();
    want.sort_by_key(|p| (p.updated_at, p.number));
    assert_eq!(got.len(), want.len());
    for (n, p) in got.iter().zip(want) {
        assert_eq!(n["number"], p.number);
        assert_eq!(n["state"], p.graphql_state());
        assert_eq!(n["merged"], p.merged());
        assert_eq!(n["additions"], p.additions());
        assert_eq!(n["reviews"]["totalCount"], p.reviews.len());
        assert_eq!(n["commits"]["totalCount"], p.commits.len());
        let ready: Vec<_> = p
            .timeline
            .iter()
            .filter(|e| e.kind == tidemark_tests::sim::world::TimelineKind::ReadyForReview)
            .map(|e| json!({"createdAt": tidemark_tests::sim::clock::iso(e.at)}))
            .collect();
        assert_eq!(n["timelineItems"]["nodes"], Value::Array(ready));
    }
}

/// The sync's biggest page answers whole, at GitHub's price. (Its speed is measured by
/// sim-bench, not asserted here.)
#[test]
fn fifty_prs_with_ten_reviews_and_commits_each_in_one_answer() {
    let (sim, client) = start(60);
    let (org, repo) = {
        let w = sim.world();
        (
            w.org().login.clone(),
            w.repos.values().next().unwrap().name.clone(),
        )
    };
    let body = json!({"query": SYNC_PAGE,
                      "variables": {"owner": org, "name": repo, "first": 50, "after": null}});
    for _ in 0..2 {
        let (status, _, answer) = tidemark_tests::harness::block_on(client.post(&body));
        assert_eq!(status, 200);
        let nodes = answer["data"]["repository"]["pullRequests"]["nodes"]
            .as_array()
            .unwrap();
        assert_eq!(nodes.len(), 50);
        // 1 + 50 × 3 nested connections = 151 requests → 1.51 → 2 points.
        assert_eq!(answer["data"]["rateLimit"]["cost"], 2);
    }
}
