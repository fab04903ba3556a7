//! The GraphQL API against the world it serves: every test goes through the API's front door
//! (`api::handle`: token, rate-limit headers) with real queries, and checks answers against the
//! world's own data.

use crate::sim::http::Request;
use crate::sim::world::{Pull, World};
use crate::sim::{OrgSpec, Shared, SimConfig, api, clock, oauth};
use serde_json::{Value, json};
use std::sync::Arc;

mod delivery;
mod events;
mod limits;

pub(super) struct Gql {
    pub shared: Arc<Shared>,
    pub token: String,
}

pub(super) struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn error_messages(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["message"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The data, asserting there were no errors.
    pub fn data(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.body);
        assert!(self.body.get("errors").is_none(), "{}", self.body);
        &self.body["data"]
    }
}

impl Gql {
    pub fn new(config: SimConfig) -> Gql {
        let shared = Arc::new(Shared::new(config, "http://sim.test".into()));
        let viewer = {
            let w = shared.world();
            w.account(w.viewer_id).login.clone()
        };
        let token = oauth::mint_token(&shared, &viewer, vec!["repo".into(), "read:org".into()])
            .expect("viewer exists");
        Gql { shared, token }
    }

    pub fn default_org() -> Gql {
        Gql::new(SimConfig {
            org: OrgSpec {
                now: 1_760_000_000,
                ..OrgSpec::default()
            },
            ..SimConfig::default()
        })
    }

    pub fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.shared.world()
    }

    pub async fn raw(&self, token: &str, body: Vec<u8>) -> Answer {
        let req = Request {
            method: "POST".into(),
            path: "/graphql".into(),
            query: Vec::new(),
            headers: vec![
                ("authorization".into(), format!("bearer {token}")),
                ("content-type".into(), "application/json".into()),
            ],
            body,
        };
        let resp = api::handle(&self.shared, req, 1).await;
        let body = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
        Answer {
            status: resp.status,
            headers: resp.headers,
            body,
        }
    }

    pub async fn query(&self, query: &str, variables: Value) -> Answer {
        let body = json!({"query": query, "variables": variables});
        self.raw(&self.token, serde_json::to_vec(&body).unwrap())
            .await
    }

    pub fn org(&self) -> String {
        self.world().org().login.clone()
    }

    /// (name, id) of the repository at `index` in creation order.
    pub fn repo(&self, index: usize) -> (String, u64) {
        let w = self.world();
        let r = w.repos.values().nth(index).expect("repo index");
        (r.name.clone(), r.id)
    }
}

fn iso_opt(t: Option<i64>) -> Value {
    t.map_or(Value::Null, |t| Value::String(clock::iso(t)))
}

const PR_PAGE: &str = "query($owner: String!, $name: String!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: 7, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { ...Pr }
    }
  }
}
fragment Pr on PullRequest {
  fullDatabaseId number state isDraft merged additions deletions changedFiles
  createdAt closedAt mergedAt headRefOid
  author { __typename login }
  mergedBy { login }
}";

/// A paginated walk of every repository's pull requests, following `endCursor`, yields exactly
/// the world's pull requests with their states and sizes.
#[tokio::test]
async fn walking_pull_requests_with_cursors_yields_the_world() {
    let g = Gql::default_org();
    let org = g.org();
    let repos = g.world().repos.len();
    for index in 0..repos {
        let (name, id) = g.repo(index);
        let mut after = Value::Null;
        let mut got = Vec::new();
        let mut pages = 0;
        loop {
            let a = g
                .query(PR_PAGE, json!({"owner": org, "name": name, "after": after}))
                .await;
            let conn = &a.data()["repository"]["pullRequests"];
            got.extend(conn["nodes"].as_array().unwrap().iter().cloned());
            pages += 1;
            assert_eq!(conn["totalCount"], 40);
            if conn["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = conn["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(pages, 6, "40 PRs in pages of 7");
        let w = g.world();
        let mut want: Vec<&Pull> = w.repo_pulls(id).collect();
        // GitHub's default order: oldest first.
        want.sort_by_key(|p| (p.created_at, p.number));
        assert_eq!(got.len(), want.len());
        for (n, p) in got.iter().zip(want) {
            let author = w.account(p.user_id);
            let expect = json!({
                "fullDatabaseId": p.id.to_string(),
                "number": p.number,
                "state": p.graphql_state(),
                "isDraft": p.draft,
                "merged": p.merged(),
                "additions": p.additions(),
                "deletions": p.deletions(),
                "changedFiles": p.changed_files,
                "createdAt": clock::iso(p.created_at),
                "closedAt": iso_opt(p.closed_at),
                "mergedAt": iso_opt(p.merged_at),
                "headRefOid": p.head_sha(),
                "author": {
                    "__typename": if author.is_bot { "Bot" } else { "User" },
                    "login": author.login.trim_end_matches("[bot]"),
                },
                "mergedBy": p.merged_by.map_or(Value::Null, |id| json!({"login": w.account(id).login})),
            });
            assert_eq!(*n, expect);
        }
    }
}

/// States filter, newest-updated first, and paging backwards with `last`/`before`.
#[tokio::test]
async fn filters_order_and_backward_paging_match_the_world() {
    let g = Gql::default_org();
    let (name, id) = g.repo(0);
    let q = "query($o: String!, $n: String!, $before: String) { repository(owner: $o, name: $n) {
        pullRequests(last: 4, before: $before, states: [OPEN, CLOSED],
                     orderBy: {field: UPDATED_AT, direction: DESC}) {
          totalCount pageInfo { hasPreviousPage startCursor } edges { cursor node { number updatedAt } } } } }";
    let mut before = Value::Null;
    let mut got = Vec::new();
    loop {
        let a = g
            .query(q, json!({"o": g.org(), "n": name, "before": before}))
            .await;
        let conn = a.data()["repository"]["pullRequests"].clone();
        let mut page: Vec<u64> = conn["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert!(e["cursor"].as_str().is_some_and(|c| !c.is_empty()));
                e["node"]["number"].as_u64().unwrap()
            })
            .collect();
        page.extend(got);
        got = page;
        if conn["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = conn["pageInfo"]["startCursor"].clone();
    }
    let w = g.world();
    let mut want: Vec<&Pull> = w.repo_pulls(id).filter(|p| !p.merged()).collect();
    want.sort_by_key(|p| std::cmp::Reverse((p.updated_at, p.number)));
    let want: Vec<u64> = want.iter().map(|p| p.number).collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

/// The busiest pull request's reviews and commits, paged, with totalCount and authors.
#[tokio::test]
async fn nested_reviews_and_commits_page_with_true_counts() {
    let g = Gql::default_org();
    let (repo, number, reviews, commits) = {
        let w = g.world();
        let p = w
            .pulls
            .values()
            .filter(|p| p.commits.len() <= 250)
            .max_by_key(|p| p.reviews.len() + p.commits.len())
            .unwrap();
        (
            w.repos[&p.repo_id].name.clone(),
            p.number,
            p.reviews.clone(),
            p.commits.clone(),
        )
    };
    assert!(
        reviews.len() > 10,
        "a busy PR has more than a page of reviews"
    );
    let q = "query($o: String!, $n: String!, $num: Int!, $ra: String, $ca: String) {
      repository(owner: $o, name: $n) { pullRequest(number: $num) {
        reviews(first: 4, after: $ra) { totalCount pageInfo { hasNextPage endCursor }
          nodes { fullDatabaseId state submittedAt body commit { oid }
                  author { login ... on User { databaseId } ... on Bot { databaseId } } } }
        commits(first: 4, after: $ca) { totalCount pageInfo { hasNextPage endCursor }
          nodes { commit { oid message authoredDate committedDate additions deletions
                           author { name email date user { login } } } } } } } }";
    let (mut ra, mut ca) = (Value::Null, Value::Null);
    let (mut got_reviews, mut got_commits) = (Vec::new(), Vec::new());
    let (mut reviews_done, mut commits_done) = (false, false);
    while !(reviews_done && commits_done) {
        let a = g
            .query(
                q,
                json!({"o": g.org(), "n": repo, "num": number, "ra": ra, "ca": ca}),
            )
            .await;
        let pr = a.data()["repository"]["pullRequest"].clone();
        assert_eq!(pr["reviews"]["totalCount"], reviews.len());
        assert_eq!(pr["commits"]["totalCount"], commits.len());
        // A finished connection keeps its last cursor and gives empty pages from then on.
        for (conn, got, cursor, done) in [
            (&pr["reviews"], &mut got_reviews, &mut ra, &mut reviews_done),
            (&pr["commits"], &mut got_commits, &mut ca, &mut commits_done),
        ] {
            let nodes = conn["nodes"].as_array().unwrap();
            assert!(!*done || nodes.is_empty());
            got.extend(nodes.iter().cloned());
            if !conn["pageInfo"]["endCursor"].is_null() {
                *cursor = conn["pageInfo"]["endCursor"].clone();
            }
            *done = conn["pageInfo"]["hasNextPage"] == false;
        }
    }
    let w = g.world();
    assert_eq!(got_reviews.len(), reviews.len());
    for (n, r) in got_reviews.iter().zip(&reviews) {
        let a = w.account(r.user_id);
        assert_eq!(n["fullDatabaseId"], r.id.to_string());
        assert_eq!(n["state"], r.state.upper());
        assert_eq!(n["submittedAt"], clock::iso(r.submitted_at));
        assert_eq!(n["body"], r.body.as_str());
        assert_eq!(n["commit"]["oid"], r.commit_id.as_str());
        assert_eq!(n["author"]["login"], a.login.trim_end_matches("[bot]"));
        assert_eq!(n["author"]["databaseId"], a.id);
    }
    assert_eq!(got_commits.len(), commits.len());
    for (n, c) in got_commits.iter().zip(&commits) {
        let n = &n["commit"];
        assert_eq!(n["oid"], c.sha.as_str());
        assert_eq!(n["message"], c.message.as_str());
        assert_eq!(n["authoredDate"], clock::iso(c.authored_at));
        assert_eq!(n["committedDate"], clock::iso(c.committed_at));
        assert_eq!(
            (n["additions"].as_u64(), n["deletions"].as_u64()),
            (Some(c.additions), Some(c.deletions))
        );
        assert_eq!(n["author"]["email"], c.author_email.as_str());
        let user = c
            .author_user_id
            .map(|id| w.account(id))
            .filter(|a| !a.is_bot);
        assert_eq!(
            n["author"]["user"],
            user.map_or(Value::Null, |a| json!({"login": a.login}))
        );
    }
    assert!(
        got_commits
            .iter()
            .any(|c| c["commit"]["author"]["user"].is_null())
            || commits.iter().all(|c| c.author_user_id.is_some())
    );
}

/// GitHub lists at most 250 commits of a pull request; totalCount still says how many there are.
#[tokio::test]
async fn a_giant_pull_request_lists_250_commits_and_counts_all() {
    let g = Gql::default_org();
    for repo_index in [0, 2] {
        let (name, id) = g.repo(repo_index);
        let (number, all) = {
            let w = g.world();
            let p = w.repo_pulls(id).nth(7).unwrap();
            (
                p.number,
                p.commits.iter().map(|c| c.sha.clone()).collect::<Vec<_>>(),
            )
        };
        assert!(all.len() > 250);
        let q = "query($o: String!, $n: String!, $num: Int!, $after: String) {
          repository(owner: $o, name: $n) { pullRequest(number: $num) {
            commits(first: 100, after: $after) { totalCount pageInfo { hasNextPage endCursor }
              nodes { commit { oid } } } } } }";
        let mut after = Value::Null;
        let mut got = Vec::new();
        loop {
            let a = g
                .query(
                    q,
                    json!({"o": g.org(), "n": name, "num": number, "after": after}),
                )
                .await;
            let c = a.data()["repository"]["pullRequest"]["commits"].clone();
            assert_eq!(c["totalCount"], all.len());
            got.extend(
                c["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n["commit"]["oid"].as_str().unwrap().to_string()),
            );
            if c["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = c["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(got, all[..250].to_vec());
        // `last` counts back from the 250th, not from the true last commit.
        let q = "query($o: String!, $n: String!, $num: Int!) { repository(owner: $o, name: $n) {
            pullRequest(number: $num) { commits(last: 1) { nodes { commit { oid } } } } } }";
        let a = g
            .query(q, json!({"o": g.org(), "n": name, "num": number}))
            .await;
        assert_eq!(
            a.data()["repository"]["pullRequest"]["commits"]["nodes"][0]["commit"]["oid"],
            all[249].as_str()
        );
    }
}

/// The org's members with their roles, the viewer, and `node`/`nodes` by GitHub's ids.
#[tokio::test]
async fn members_viewer_and_nodes_resolve() {
    let g = Gql::default_org();
    let q = "query($org: String!) { viewer { login databaseId isViewer }
        organization(login: $org) { login membersWithRole(first: 100) { totalCount
          edges { role node { login name email } } } } }";
    let a = g.query(q, json!({"org": g.org()})).await;
    let d = a.data().clone();
    let pull = {
        let w = g.world();
        let viewer = w.account(w.viewer_id);
        assert_eq!(
            d["viewer"],
            json!({"login": viewer.login, "databaseId": viewer.id, "isViewer": true})
        );
        let mut want: Vec<_> = w
            .members
            .iter()
            .map(|(id, role)| (w.account(*id), *role))
            .collect();
        want.sort_by_key(|(a, _)| a.login.to_ascii_lowercase());
        let want: Vec<Value> = want
        .iter()
        .map(|(a, role)| json!({"role": role.as_str().to_uppercase(),
                               "node": {"login": a.login, "name": a.name, "email": a.email.clone().unwrap_or_default()}}))
        .collect();
        assert_eq!(
            d["organization"]["membersWithRole"]["totalCount"],
            want.len()
        );
        assert_eq!(
            d["organization"]["membersWithRole"]["edges"],
            Value::Array(want)
        );

        w.pulls
            .values()
            .find(|p| !p.reviews.is_empty())
            .unwrap()
            .clone()
    };
    let ids = json!([
        crate::sim::json::node_id("PullRequest", pull.id),
        "bm9wZQ==",
        crate::sim::json::node_id("PullRequestReview", pull.reviews[0].id),
    ]);
    let q = "query($ids: [ID!]!, $one: ID!) { node(id: $one) { __typename id ... on PullRequest { number } }
        nodes(ids: $ids) { __typename ... on PullRequest { number } ... on PullRequestReview { fullDatabaseId } } }";
    let a = g.query(q, json!({"ids": ids, "one": ids[0]})).await;
    assert_eq!(
        a.body["data"]["node"],
        json!({"__typename": "PullRequest", "id": ids[0], "number": pull.number})
    );
    assert_eq!(
        a.body["data"]["nodes"],
        json!([{"__typename": "PullRequest", "number": pull.number}, null,
               {"__typename": "PullRequestReview", "fullDatabaseId": pull.reviews[0].id.to_string()}])
    );
    let errors = a.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["type"], "NOT_FOUND");
    assert_eq!(errors[0]["path"], json!(["nodes", 1]));
    assert_eq!(
        errors[0]["message"],
        "Could not resolve to a node with the global id of 'bm9wZQ=='"
    );
}

/// GitHub's deprecated 32-bit `databaseId` of a pull request or review past 2^31: null, with
/// GitHub's error at that field, and the rest of the answer intact. Accounts' and
/// repositories' ids still fit.
#[tokio::test]
async fn a_32_bit_database_id_past_2_pow_31_answers_null_with_an_error() {
    let g = Gql::default_org();
    let (name, _) = g.repo(0);
    let q = "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { databaseId
        pullRequests(first: 1) { nodes { databaseId fullDatabaseId number author { login ... on User { databaseId } } } } } }";
    let a = g.query(q, json!({"o": g.org(), "n": name})).await;
    let repo = &a.body["data"]["repository"];
    assert!(repo["databaseId"].as_u64().is_some(), "{repo}");
    let node = &repo["pullRequests"]["nodes"][0];
    assert_eq!(node["databaseId"], Value::Null, "{node}");
    let full: u64 = node["fullDatabaseId"].as_str().unwrap().parse().unwrap();
    assert!(full > i32::MAX as u64, "{full}");
    assert!(node["number"].as_u64().is_some() && node["author"]["databaseId"].as_u64().is_some());
    let errors = a.body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0]["message"],
        format!("Int cannot represent non 32-bit signed integer value: {full}")
    );
    assert_eq!(
        errors[0]["path"],
        json!(["repository", "pullRequests", "nodes", 0, "databaseId"])
    );
}
