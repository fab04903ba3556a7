//! Delivery data through GraphQL: deployments with their statuses, releases, tags, issues and
//! labels, as the daemon asks for them (one query, repositories aliased), checked against the
//! world, with GitHub's cost and its 32-bit `databaseId` errors.

use super::Gql;
use crate::sim::clock::iso;
use crate::sim::world::{
    DeployState, MergeMethod, NewDeployment, NewIssue, NewPull, NewRelease, World,
};
use serde_json::{Value, json};

const T: i64 = 1_760_000_000;

const DELIVERY: &str = r#"query($o: String!, $r0: String!, $r1: String!) {
  r0: repository(owner: $o, name: $r0) { ...Delivery }
  r1: repository(owner: $o, name: $r1) { ...Delivery }
  rateLimit { cost nodeCount }
}
fragment Delivery on Repository {
  defaultBranchRef { name target { oid } }
  deployments(first: 50, orderBy: {field: CREATED_AT, direction: ASC}, environments: ["production"]) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id commitOid createdAt updatedAt environment latestEnvironment originalEnvironment
      state task creator { login } latestStatus { state createdAt }
      statuses(first: 10) { totalCount pageInfo { hasNextPage endCursor }
        nodes { id state createdAt environment } } }
  }
  releases(first: 20, orderBy: {field: CREATED_AT, direction: DESC}) {
    nodes { id tagName name createdAt publishedAt isDraft isPrerelease tagCommit { oid committedDate } }
  }
  refs(refPrefix: "refs/tags/", first: 20, orderBy: {field: TAG_COMMIT_DATE, direction: DESC}) {
    nodes { name target { __typename oid ... on Commit { committedDate }
      ... on Tag { tagger { date } target { oid } } } }
  }
  issues(first: 20, labels: ["incident"], filterBy: {since: "2025-01-01T00:00:00Z"},
         states: [OPEN, CLOSED], orderBy: {field: UPDATED_AT, direction: DESC}) {
    nodes { id fullDatabaseId number title body state createdAt closedAt updatedAt
      labels(first: 10) { nodes { name } } }
  }
  pullRequests(first: 50, states: [MERGED]) {
    nodes { number mergeCommit { oid } baseRefName headRefName labels(first: 10) { nodes { name } } }
  }
}"#;

/// A repository that deploys: a squash and a merge, a failed then fixed deployment, a release,
/// an annotated tag, an incident and a hotfix label. Returns the two merge shas.
fn deploying(w: &mut World, repo_id: u64) -> (String, String) {
    let people: Vec<String> = w
        .members
        .keys()
        .map(|id| w.account(*id).login.clone())
        .collect();
    let mut merge_sha = Vec::new();
    for (i, method) in [MergeMethod::Squash, MergeMethod::Merge]
        .into_iter()
        .enumerate()
    {
        let spec = NewPull {
            author: people[1].clone(),
            title: format!("Change {i}"),
            body: String::new(),
            draft: false,
            commits: 3,
        };
        let at = T + 1_000 * i as i64;
        let (n, _) = w.open_pull(repo_id, spec, at).unwrap();
        w.merge_pull_with(repo_id, n, &people[2], method, at + 100)
            .unwrap();
        merge_sha.push(
            w.pull(repo_id, n)
                .unwrap()
                .merge_commit_sha
                .clone()
                .unwrap(),
        );
        if i == 1 {
            w.label_pull(repo_id, n, "hotfix", true, at + 200).unwrap();
        }
    }
    let deploy = |w: &mut World, at: i64, states: &[DeployState]| {
        let (id, _) = w
            .create_deployment(
                repo_id,
                NewDeployment {
                    environment: "production".into(),
                    ..NewDeployment::default()
                },
                at,
            )
            .unwrap();
        for (k, s) in states.iter().enumerate() {
            w.add_deployment_status(repo_id, id, *s, None, "", None, at + 10 * (k as i64 + 1))
                .unwrap();
        }
        id
    };
    deploy(
        w,
        T + 3_000,
        &[DeployState::InProgress, DeployState::Failure],
    );
    deploy(
        w,
        T + 4_000,
        &[DeployState::InProgress, DeployState::Success],
    );
    w.create_deployment(
        repo_id,
        NewDeployment {
            environment: "staging".into(),
            ..NewDeployment::default()
        },
        T + 4_500,
    )
    .unwrap();
    w.push_tag(
        repo_id,
        "v0.9",
        Some(&merge_sha[0]),
        Some("Old"),
        None,
        T + 4_600,
    )
    .unwrap();
    w.publish_release(
        repo_id,
        NewRelease {
            tag: "v1.0".into(),
            ..NewRelease::default()
        },
        T + 5_000,
    )
    .unwrap();
    let (n, _) = w
        .open_issue(
            repo_id,
            NewIssue {
                title: "Checkout is down".into(),
                labels: vec!["incident".into()],
                ..NewIssue::default()
            },
            T + 6_000,
        )
        .unwrap();
    w.set_issue_open(repo_id, n, false, None, None, T + 7_000)
        .unwrap();
    w.open_issue(
        repo_id,
        NewIssue {
            title: "Not an incident".into(),
            ..NewIssue::default()
        },
        T + 6_500,
    )
    .unwrap();
    (merge_sha[0].clone(), merge_sha[1].clone())
}

#[tokio::test]
async fn delivery_data_answers_as_the_world_has_it_and_costs_as_github() {
    let g = Gql::default_org();
    let ((r0, id0), (r1, _)) = (g.repo(0), g.repo(1));
    let (squash, merge) = deploying(&mut g.shared.world_mut(), id0);
    let a = g
        .query(DELIVERY, json!({"o": g.org(), "r0": r0, "r1": r1}))
        .await;
    let data = a.data();
    let w = g.world();
    let repo = &data["r0"];
    assert_eq!(repo["defaultBranchRef"]["name"], "main");
    assert_eq!(repo["defaultBranchRef"]["target"]["oid"], merge.as_str());

    // Deployments: production only, oldest first; failed, then active.
    let deps = &repo["deployments"];
    assert_eq!(deps["totalCount"], 2);
    let nodes = deps["nodes"].as_array().unwrap();
    let states: Vec<&Value> = nodes.iter().map(|d| &d["state"]).collect();
    assert_eq!(states, [&json!("FAILURE"), &json!("ACTIVE")]);
    for (d, world) in nodes.iter().zip(w.repo_deployments(id0)) {
        assert_eq!(d["commitOid"], world.sha.as_str());
        assert_eq!(d["createdAt"], iso(world.created_at));
        assert_eq!(d["task"], "deploy");
        assert_eq!(d["originalEnvironment"], "production");
        assert_eq!(d["creator"]["login"], w.account(w.viewer_id).login.as_str());
        let statuses = &d["statuses"];
        assert_eq!(statuses["totalCount"], 2);
        // Newest first, as GitHub lists them; latestStatus is the first of them.
        assert_eq!(statuses["nodes"][0]["state"], d["latestStatus"]["state"]);
        assert_eq!(statuses["nodes"][1]["state"], "IN_PROGRESS");
        assert_eq!(statuses["nodes"][0]["environment"], "production");
    }
    assert_eq!(nodes[1]["commitOid"], merge.as_str());

    // The release and the tags, newest tag commit first.
    let rel = &repo["releases"]["nodes"][0];
    assert_eq!(
        (&rel["tagName"], &rel["isDraft"], &rel["isPrerelease"]),
        (&json!("v1.0"), &json!(false), &json!(false))
    );
    assert_eq!(rel["tagCommit"]["oid"], merge.as_str());
    assert_eq!(rel["publishedAt"], iso(T + 5_000));
    let tags = repo["refs"]["nodes"].as_array().unwrap();
    assert_eq!(tags.len(), 2);
    assert_eq!(tags[0]["name"], "v1.0");
    assert_eq!(tags[0]["target"]["__typename"], "Commit");
    assert_eq!(tags[0]["target"]["oid"], merge.as_str());
    assert_eq!(tags[1]["name"], "v0.9");
    assert_eq!(tags[1]["target"]["__typename"], "Tag");
    assert_eq!(tags[1]["target"]["target"]["oid"], squash.as_str());
    assert_eq!(tags[1]["target"]["tagger"]["date"], iso(T + 4_600));

    // Only the labelled issue, with its 64-bit id as a string.
    let issues = repo["issues"]["nodes"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:?}");
    let world_issue = w.issues.values().find(|i| i.repo_id == id0).unwrap();
    assert_eq!(issues[0]["fullDatabaseId"], world_issue.id.to_string());
    assert!(world_issue.id > i32::MAX as u64);
    assert_eq!(issues[0]["state"], "CLOSED");
    assert_eq!(issues[0]["closedAt"], iso(T + 7_000));
    assert_eq!(issues[0]["labels"]["nodes"][0]["name"], "incident");

    // Merged pull requests: their merge commits, branches and labels.
    let pulls = repo["pullRequests"]["nodes"].as_array().unwrap();
    let last = pulls.last().unwrap();
    assert_eq!(last["mergeCommit"]["oid"], merge.as_str());
    assert_eq!(last["labels"]["nodes"][0]["name"], "hotfix");
    assert_eq!(last["baseRefName"], "main");

    // The other repository has none of it.
    assert_eq!(data["r1"]["deployments"]["totalCount"], 0);
    // Per repository: deployments 1 + 50 statuses, releases 1, refs 1, issues 1 + 20 labels,
    // pull requests 1 + 50 labels: 125 requests; two repositories: 250 → 3 points.
    assert_eq!(data["rateLimit"]["cost"], 3);
}

#[tokio::test]
async fn a_deployment_database_id_past_2_31_is_an_error_at_that_field() {
    let g = Gql::default_org();
    let (r0, id0) = g.repo(0);
    deploying(&mut g.shared.world_mut(), id0);
    let q = "query($o: String!, $n: String!) { repository(owner: $o, name: $n) {
        deployments(first: 1) { nodes { id databaseId } }
        releases(first: 1) { nodes { databaseId } } } }";
    let a = g.query(q, json!({"o": g.org(), "n": r0})).await;
    assert_eq!(a.status, 200);
    let d = &a.body["data"]["repository"]["deployments"]["nodes"][0];
    assert!(
        d["id"].is_string() && d["databaseId"].is_null(),
        "{}",
        a.body
    );
    let messages = a.error_messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("non 32-bit signed integer"),
        "{messages:?}"
    );
    // Releases are still 32-bit.
    assert!(a.body["data"]["repository"]["releases"]["nodes"][0]["databaseId"].is_i64());
}

#[tokio::test]
async fn deployments_page_with_cursors_and_need_first_or_last() {
    let g = Gql::default_org();
    let (r0, id0) = g.repo(0);
    {
        let mut w = g.shared.world_mut();
        for i in 0..5 {
            w.create_deployment(id0, NewDeployment::default(), T + i)
                .unwrap();
        }
    }
    let q = "query($o: String!, $n: String!, $after: String) { repository(owner: $o, name: $n) {
        deployments(first: 2, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
          pageInfo { hasNextPage endCursor } nodes { createdAt state } } } }";
    let mut after = Value::Null;
    let mut seen = Vec::new();
    loop {
        let a = g
            .query(q, json!({"o": g.org(), "n": r0, "after": after}))
            .await;
        let c = a.data()["repository"]["deployments"].clone();
        for n in c["nodes"].as_array().unwrap() {
            assert_eq!(n["state"], "PENDING");
            seen.push(n["createdAt"].as_str().unwrap().to_string());
        }
        if c["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    let want: Vec<String> = (0..5).rev().map(|i| iso(T + i)).collect();
    assert_eq!(seen, want);
    let a = g
        .query(
            "query($o: String!, $n: String!) { repository(owner: $o, name: $n) {
               deployments { nodes { id } } } }",
            json!({"o": g.org(), "n": r0}),
        )
        .await;
    assert!(
        a.error_messages()[0].contains("You must provide a `first` or `last` value"),
        "{}",
        a.body
    );
}

/// Fields the simulator has and GitHub does not (from before this test; GitHub's validation
/// pass refuses any document that asks for them, so no client can rely on them).
const NOT_GITHUBS: &[&str] = &["ClosedEvent.pullRequest", "ReopenedEvent.pullRequest"];

/// Every field the simulator's schema has, with its arguments, is GitHub's, of GitHub's type
/// (the simulator may leave fields and arguments out, never invent or retype them). Only
/// nullability may differ: the simulator answers non-null where GitHub allows null.
#[test]
fn the_simulators_schema_is_a_subset_of_githubs() {
    let bare = |t: String| t.replace('!', "");
    use apollo_compiler::Schema;
    use apollo_compiler::schema::ExtendedType;
    let sdl = crate::sim::graphql::sdl();
    let sim = Schema::parse(&sdl, "sim.graphql").unwrap_or_else(|e| e.partial);
    let github = crate::contract::graphql::schema();
    let mut wrong = Vec::new();
    for (name, ty) in &sim.types {
        let fields = match ty {
            ExtendedType::Object(o) => &o.fields,
            ExtendedType::Interface(i) => &i.fields,
            _ => continue,
        };
        if name.starts_with("__") {
            continue;
        }
        for (fname, f) in fields {
            let Some(theirs) = github.type_field(name.as_str(), fname.as_str()).ok() else {
                if !NOT_GITHUBS.contains(&format!("{name}.{fname}").as_str()) {
                    wrong.push(format!("{name}.{fname}: not GitHub's"));
                }
                continue;
            };
            if bare(theirs.ty.to_string()) != bare(f.ty.to_string()) {
                wrong.push(format!("{name}.{fname}: {} (GitHub: {})", f.ty, theirs.ty));
            }
            for a in &f.arguments {
                match theirs.arguments.iter().find(|t| t.name == a.name) {
                    None => wrong.push(format!("{name}.{fname}({}): not GitHub's", a.name)),
                    Some(t) if bare(t.ty.to_string()) != bare(a.ty.to_string()) => wrong.push(
                        format!("{name}.{fname}({}): {} (GitHub: {})", a.name, a.ty, t.ty),
                    ),
                    Some(_) => {}
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
