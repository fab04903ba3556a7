//! Cost, node limits, timeouts, rate-limit accounting, visibility and GitHub's error shapes.

use super::Gql;
use crate::sim::{Faults, SimConfig, oauth};
use serde_json::{Value, json};

const FIFTY_BY_TEN: &str = "query($o: String!, $n: String!) {
  repository(owner: $o, name: $n) {
    pullRequests(first: 50) { nodes { number
      reviews(first: 10) { nodes { state } }
      commits(first: 10) { nodes { commit { oid } } } } }
  }
  rateLimit { cost limit remaining used resetAt nodeCount }
}";

/// GitHub's formula: (1 + 50 + 50) requests / 100 → 1 point for 50 PRs with 10 reviews and
/// 10 commits each; the headers, `rateLimit` and the stats agree on what was charged.
#[tokio::test]
async fn fifty_prs_with_reviews_and_commits_cost_one_point() {
    let g = Gql::default_org();
    let (name, _) = g.repo(0);
    let a = g
        .query(FIFTY_BY_TEN, json!({"o": g.org(), "n": name}))
        .await;
    let rl = a.data()["rateLimit"].clone();
    assert_eq!(rl["cost"], 1);
    assert_eq!(rl["nodeCount"], 50 + 500 + 500);
    assert_eq!(
        (
            rl["limit"].clone(),
            rl["used"].clone(),
            rl["remaining"].clone()
        ),
        (json!(5000), json!(1), json!(4999))
    );
    assert_eq!(a.header("x-ratelimit-resource"), Some("graphql"));
    assert_eq!(a.header("x-ratelimit-used"), Some("1"));
    assert_eq!(a.header("x-ratelimit-remaining"), Some("4999"));
    assert!(rl["resetAt"].as_str().is_some_and(|t| t.ends_with('Z')));
    // A bigger one: 100 PRs × (50 reviews + 50 commits + 50 timeline items) → 301 requests → 3.
    let q = "query($o: String!, $n: String!) { repository(owner: $o, name: $n) {
        pullRequests(first: 100) { nodes { reviews(first: 50) { totalCount }
          commits(first: 50) { nodes { commit { oid } } }
          timelineItems(first: 50) { nodes { __typename } } } } }
      rateLimit { cost used remaining nodeCount } }";
    let a = g.query(q, json!({"o": g.org(), "n": name})).await;
    let rl = &a.data()["rateLimit"];
    assert_eq!(rl["cost"], 3);
    assert_eq!(rl["nodeCount"], 100 + 3 * 5000);
    assert_eq!(
        (rl["used"].clone(), rl["remaining"].clone()),
        (json!(4), json!(4996))
    );
    assert_eq!(g.shared.stats().graphql_points, 4);
    assert_eq!(g.shared.stats().graphql_requests, 2);
}

/// `dryRun` reports the cost without charging it.
#[tokio::test]
async fn a_dry_run_costs_nothing() {
    let g = Gql::default_org();
    let q = "{ __typename rateLimit(dryRun: true) { cost used remaining } viewer { login } }";
    for _ in 0..2 {
        let a = g.query(q, json!({})).await;
        assert_eq!(a.data()["__typename"], "Query");
        assert_eq!(
            a.data()["rateLimit"],
            json!({"cost": 1, "used": 0, "remaining": 5000})
        );
        assert_eq!(a.header("x-ratelimit-used"), Some("0"));
    }
}

/// A query whose cost is more than what is left is refused, and charges nothing.
#[tokio::test]
async fn a_query_costing_more_than_what_is_left_is_rate_limited() {
    let g = Gql::new(SimConfig {
        rate_limit: 2,
        graphql_timeout_nodes: 1_000_000,
        ..SimConfig::default()
    });
    // 1 + 100 + 10,000 requests → 101 points.
    let q = "{ organization(login: \"acme\") { repositories(first: 100) { nodes {
        pullRequests(first: 100) { nodes { reviews(first: 10) { totalCount } } } } } } }";
    let a = g.query(q, json!({})).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["errors"][0]["type"], "RATE_LIMITED", "{}", a.body);
    assert!(a.body["data"].is_null());
    assert_eq!(a.header("x-ratelimit-remaining"), Some("2"));
}

/// Over 500,000 possible nodes: refused before running, one point charged.
#[tokio::test]
async fn the_node_limit_refuses_the_query() {
    let g = Gql::default_org();
    let q = "{ organization(login: \"acme\") { repositories(first: 100) { nodes {
        pullRequests(first: 100) { nodes { commits(first: 100) { nodes { commit { oid } } } } } } } } }";
    let a = g.query(q, json!({})).await;
    assert_eq!(a.status, 200);
    assert!(a.body.get("data").is_some_and(Value::is_null), "{}", a.body);
    let e = &a.body["errors"][0];
    assert_eq!(e["type"], "MAX_NODE_LIMIT_EXCEEDED");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("commits connection"),
        "{e}"
    );
    assert_eq!(a.header("x-ratelimit-used"), Some("1"));
}

/// Past the timeout threshold (config, or the fault override) GitHub answers 502; it still
/// charges the query.
#[tokio::test]
async fn a_query_over_the_timeout_threshold_answers_502_and_is_charged() {
    let g = Gql::default_org();
    let (name, _) = g.repo(0);
    *g.shared.faults() = Faults {
        graphql_timeout_nodes: Some(1_000),
        ..Faults::default()
    };
    let a = g
        .query(FIFTY_BY_TEN, json!({"o": g.org(), "n": name}))
        .await;
    assert_eq!(a.status, 502);
    assert!(a.body["data"].is_null());
    let msg = a.error_messages().pop().unwrap();
    assert!(
        msg.starts_with(
            "Something went wrong while executing your query. This may be the result of a timeout"
        ),
        "{msg}"
    );
    assert_eq!(a.header("x-ratelimit-used"), Some("1"));
    assert_eq!(a.header("x-ratelimit-resource"), Some("graphql"));
    // A smaller page gets through.
    let small = FIFTY_BY_TEN.replace("first: 50", "first: 20");
    let a = g.query(&small, json!({"o": g.org(), "n": name})).await;
    assert_eq!(a.data()["rateLimit"]["nodeCount"], 20 + 200 + 200);
    // Without the override the config's threshold (20,000) applies.
    *g.shared.faults() = Faults::default();
    let a = g
        .query(FIFTY_BY_TEN, json!({"o": g.org(), "n": name}))
        .await;
    assert_eq!(a.status, 200);
}

/// Items need `first` or `last` (at most 100); counting alone does not.
#[tokio::test]
async fn pagination_boundaries_are_githubs() {
    let g = Gql::default_org();
    let (name, _) = g.repo(0);
    let vars = json!({"o": g.org(), "n": name});
    let a = g
        .query("query($o: String!, $n: String!) { repository(owner: $o, name: $n) { pullRequests { nodes { number } } } }", vars.clone())
        .await;
    assert_eq!(a.status, 200);
    assert!(a.body.get("data").is_some_and(Value::is_null));
    assert_eq!(
        a.error_messages(),
        vec![
            "You must provide a `first` or `last` value to properly paginate the `pullRequests` connection."
        ]
    );
    assert_eq!(a.body["errors"][0]["type"], "MISSING_PAGINATION_BOUNDARIES");
    let a = g
        .query("query($o: String!, $n: String!, $f: Int) { repository(owner: $o, name: $n) { pullRequests(first: $f) { nodes { number } } } }",
               json!({"o": g.org(), "n": name, "f": 101}))
        .await;
    assert_eq!(
        a.error_messages(),
        vec![
            "Requesting 101 records on the `pullRequests` connection exceeds the `first` limit of 100 records."
        ]
    );
    let a = g
        .query("query($o: String!, $n: String!) { repository(owner: $o, name: $n) { pullRequests(states: OPEN) { totalCount } } }", vars)
        .await;
    assert!(
        a.data()["repository"]["pullRequests"]["totalCount"]
            .as_u64()
            .unwrap()
            > 0
    );
}

/// Private repositories need the `repo` scope; without it they do not exist.
#[tokio::test]
async fn a_private_repo_without_the_repo_scope_is_not_found() {
    let g = Gql::default_org();
    let (name, id) = g.repo(1);
    assert!(g.world().repos[&id].private);
    let viewer = {
        let w = g.world();
        w.account(w.viewer_id).login.clone()
    };
    let public_only = oauth::mint_token(&g.shared, &viewer, vec!["read:org".into()]).unwrap();
    let q = json!({"query": "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { name isPrivate } }",
                   "variables": {"o": g.org(), "n": name}});
    let a = g.raw(&public_only, serde_json::to_vec(&q).unwrap()).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.body["data"], json!({"repository": null}));
    assert_eq!(a.body["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(a.body["errors"][0]["path"], json!(["repository"]));
    assert_eq!(
        a.error_messages(),
        vec![format!(
            "Could not resolve to a Repository with the name '{}/{name}'.",
            g.org()
        )]
    );
    let a = g.raw(&g.token, serde_json::to_vec(&q).unwrap()).await;
    assert_eq!(
        a.data()["repository"],
        json!({"name": name, "isPrivate": true})
    );
    // Nor does the org list it, nor `node` find it.
    let q = json!({"query": "{ organization(login: \"acme\") { repositories(first: 100) { totalCount nodes { isPrivate } } } }"});
    let a = g.raw(&public_only, serde_json::to_vec(&q).unwrap()).await;
    let repos = &a.data()["organization"]["repositories"];
    assert_eq!(repos["totalCount"], 3);
    assert!(
        repos["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["isPrivate"] == false)
    );
}

/// Named operations, variables with defaults, fragments on interfaces and unions.
#[tokio::test]
async fn operations_variables_and_fragments_work() {
    let g = Gql::default_org();
    let (name, id) = g.repo(0);
    let body = json!({
        "operationName": "Second",
        "query": "query First { viewer { login } }
          query Second($o: String!, $n: String!, $size: Int = 3) {
            repo: repository(owner: $o, name: $n) { ...R } }
          fragment R on Repository { databaseId nameWithOwner
            pullRequests(first: $size) { nodes { author { ...A } } } }
          fragment A on Actor { login ... on User { databaseId } }",
        "variables": {"o": g.org(), "n": name},
    });
    let a = g.raw(&g.token, serde_json::to_vec(&body).unwrap()).await;
    let repo = &a.data()["repo"];
    assert_eq!(repo["databaseId"], id);
    assert_eq!(repo["nameWithOwner"], format!("{}/{name}", g.org()));
    assert_eq!(repo["pullRequests"]["nodes"].as_array().unwrap().len(), 3);
    // Variables as a JSON string are accepted too (some clients send them so).
    let body = json!({"query": "query($l: String!) { organization(login: $l) { login } }",
                      "variables": "{\"l\": \"acme\"}"});
    let a = g.raw(&g.token, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(a.data()["organization"]["login"], "acme");
}

/// Unknown fields are the engine's validation errors; broken syntax is a parse error; a body
/// that is not JSON is a 400. All carry the graphql rate-limit headers.
#[tokio::test]
async fn bad_queries_get_githubs_errors() {
    let g = Gql::default_org();
    let a = g.query("{ viewer { login shoeSize } }", json!({})).await;
    assert_eq!(a.status, 200);
    assert!(a.body.get("data").is_none(), "{}", a.body);
    assert_eq!(
        a.error_messages(),
        vec!["Field 'shoeSize' doesn't exist on type 'User'"]
    );
    assert_eq!(a.body["errors"][0]["extensions"]["code"], "undefinedField");
    let a = g
        .query("{ viewer { login(upper: true) } }", json!({}))
        .await;
    assert_eq!(
        a.error_messages(),
        vec!["Field 'login' doesn't accept argument 'upper'"]
    );
    // An Actor has no `id` on GitHub: it takes a fragment on User or Bot.
    let a = g.query("{ viewer { login } repository(owner: \"acme\", name: \"api\") { pullRequests(first: 1) { nodes { author { id } } } } }", json!({})).await;
    assert_eq!(
        a.error_messages(),
        vec!["Field 'id' doesn't exist on type 'Actor'"]
    );
    let a = g.query("{ viewer { login }", json!({})).await;
    assert_eq!(a.status, 200);
    // GitHub's parse errors carry no `type` (seen in the wild: githubkit#159, ocurrent#395).
    assert!(a.body["errors"][0].get("type").is_none(), "{}", a.body);
    // graphql-ruby's words for a document that stops early, and for a wrong token.
    assert_eq!(a.error_messages(), vec!["Unexpected end of document"]);
    let a = g.query("{ viewer { login ) }", json!({})).await;
    assert!(
        a.error_messages()[0].starts_with("Parse error on "),
        "{}",
        a.body
    );
    let a = g.raw(&g.token, b"{not json".to_vec()).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body, json!({"message": "Problems parsing JSON"}));
    assert_eq!(a.header("x-ratelimit-resource"), Some("graphql"));
    let a = g.raw(&g.token, b"{\"variables\": {}}".to_vec()).await;
    assert_eq!(
        a.error_messages(),
        vec!["A query attribute must be specified and must be a string."]
    );
    // A required variable left out, and an operation that is not there, are refused unrun.
    let a = g
        .query(
            "query($o: String!) { organization(login: $o) { login } }",
            json!({}),
        )
        .await;
    assert!(a.body.get("data").is_none(), "{}", a.body);
    assert_eq!(
        a.error_messages(),
        vec!["Variable $o of type String! was provided invalid value"]
    );
    let body = json!({"query": "query A { viewer { login } }", "operationName": "B"});
    let a = g.raw(&g.token, serde_json::to_vec(&body).unwrap()).await;
    assert!(a.body.get("data").is_none(), "{}", a.body);
    assert_eq!(a.error_messages(), vec!["Unknown operation named \"B\""]);
    let used: u64 = a.header("x-ratelimit-used").unwrap().parse().unwrap();
    assert_eq!(
        used,
        g.shared.stats().graphql_points,
        "each refusal cost one point"
    );
    let a = g
        .query(
            "{ repository(owner: \"acme\", name: \"nope\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(a.body["data"], json!({"repository": null}));
    assert_eq!(
        a.body["errors"][0]["locations"],
        json!([{"line": 1, "column": 3}])
    );
}
