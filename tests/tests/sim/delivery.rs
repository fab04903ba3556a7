//! Delivery data (issue 17) over real HTTP: what the control API changes shows the same in
//! REST, GraphQL, webhooks and the truth; compare lists exactly the commits between two shas
//! and pages like GitHub; workflow runs filter and page inside their envelope.

use crate::receiver::Receiver;
use crate::support::{Gh, small};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn first_repo(gh: &Gh) -> String {
    gh.sim.world().repos.values().next().unwrap().name.clone()
}

/// Opens a pull request of `commits` commits and merges it with `method`: (number, merge sha).
async fn merged(gh: &Gh, repo: &str, title: &str, commits: u64, method: &str) -> (u64, String) {
    let ctl = format!("/_sim/repos/{repo}/pulls");
    let n = gh
        .control(&ctl, json!({ "title": title, "commits": commits }))
        .await["number"]
        .as_u64()
        .unwrap();
    let sha = gh
        .control(&format!("{ctl}/{n}/merge"), json!({ "method": method }))
        .await["sha"]
        .as_str()
        .unwrap()
        .to_string();
    (n, sha)
}

fn shas(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn compare_lists_exactly_the_commits_between_two_shas() {
    let gh = Gh::new(small());
    let (org, repo) = (gh.org.clone(), first_repo(&gh));
    let head = |gh: &Gh| {
        let w = gh.sim.world();
        let id = w.repo_by_name(&org, &repo).unwrap().id;
        w.history(id).unwrap().head().to_string()
    };
    let before = head(&gh);
    let (a, merge_a) = merged(&gh, &repo, "A", 2, "merge").await;
    let (b, squash_b) = merged(&gh, &repo, "B", 3, "squash").await;
    let (_, merge_c) = merged(&gh, &repo, "C", 1, "merge").await;
    assert_eq!(head(&gh), merge_c);
    let pr_commits = |n: u64| {
        let w = gh.sim.world();
        let id = w.repo_by_name(&org, &repo).unwrap().id;
        w.pull(id, n)
            .unwrap()
            .commits
            .iter()
            .map(|c| c.sha.clone())
            .collect::<Vec<_>>()
    };
    let c_commits = {
        let w = gh.sim.world();
        let id = w.repo_by_name(&org, &repo).unwrap().id;
        let n = w.repo_pulls(id).last().unwrap().number;
        drop(w);
        pr_commits(n)
    };
    // A merge brings the pull request's commits and its merge commit; a squash, one commit
    // (the pull request keeps its three).
    let mut want = pr_commits(a);
    want.push(merge_a.clone());
    want.push(squash_b.clone());
    want.extend(c_commits);
    want.push(merge_c.clone());
    assert_eq!(pr_commits(b).len(), 3);

    let base = format!("/repos/{org}/{repo}/compare");
    let (status, v) = gh
        .api_as(
            &gh.token,
            "GET",
            &format!("{base}/{before}...{merge_c}"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(shas(&v["commits"]), want);
    assert_eq!(
        (
            &v["status"],
            &v["ahead_by"],
            &v["behind_by"],
            &v["total_commits"]
        ),
        (
            &json!("ahead"),
            &json!(want.len()),
            &json!(0),
            &json!(want.len())
        )
    );
    assert_eq!(v["merge_base_commit"]["sha"], before.as_str());
    assert_eq!(v["base_commit"]["sha"], before.as_str());
    // Between two deployments' shas: only what came after the first.
    let (_, v) = gh
        .api_as(
            &gh.token,
            "GET",
            &format!("{base}/{merge_a}...{merge_c}"),
            None,
        )
        .await;
    assert_eq!(shas(&v["commits"]), want[3..].to_vec());
    // The other way round: behind, nothing listed; a branch name and short shas resolve.
    let (_, v) = gh
        .api_as(
            &gh.token,
            "GET",
            &format!("{base}/{merge_c}...{}", &merge_a[..7]),
            None,
        )
        .await;
    assert_eq!(
        (&v["status"], &v["behind_by"]),
        (&json!("behind"), &json!(want.len() - 3))
    );
    assert!(v["commits"].as_array().unwrap().is_empty());
    let (_, v) = gh
        .api_as(&gh.token, "GET", &format!("{base}/{before}...main"), None)
        .await;
    assert_eq!(v["total_commits"], want.len());

    // Paged: per_page and page, Link to the next page, the same commits in the same order.
    let mut paged = Vec::new();
    let mut next = Some(format!("{base}/{before}...{merge_c}?per_page=2"));
    while let Some(url) = next.take() {
        let r = gh.send(&gh.token, "GET", &url, None).await;
        next = r
            .headers()
            .get("link")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| {
                l.split(", ")
                    .find(|p| p.ends_with("rel=\"next\""))
                    .map(|p| p[1..p.find('>').unwrap()].to_string())
            });
        let v: Value = r.json().await.unwrap();
        assert!(v["commits"].as_array().unwrap().len() <= 2);
        assert_eq!(v["total_commits"], want.len());
        paged.extend(shas(&v["commits"]));
    }
    assert_eq!(paged, want);

    // Unknown shas are GitHub's 404.
    let (status, v) = gh
        .api_as(
            &gh.token,
            "GET",
            &format!("{base}/{before}...{}", "f".repeat(40)),
            None,
        )
        .await;
    assert_eq!((status.as_u16(), &v["message"]), (404, &json!("Not Found")));
}

#[tokio::test]
async fn workflow_runs_filter_and_page_inside_their_envelope() {
    let gh = Gh::new(small());
    let (org, repo) = (gh.org.clone(), first_repo(&gh));
    let ctl = format!("/_sim/repos/{repo}/runs");
    let mut deploys = Vec::new();
    for i in 0..5 {
        let conclusion = if i == 2 { "failure" } else { "success" };
        let id = gh
            .control(&ctl, json!({ "name": "Deploy", "conclusion": conclusion }))
            .await["id"]
            .as_u64()
            .unwrap();
        deploys.push(id);
    }
    let open = gh
        .control(
            &format!("/_sim/repos/{repo}/pulls"),
            json!({ "title": "Wip" }),
        )
        .await["number"]
        .as_u64()
        .unwrap();
    let branch = {
        let w = gh.sim.world();
        let id = w.repo_by_name(&org, &repo).unwrap().id;
        w.pull(id, open).unwrap().head_ref.clone()
    };
    let ci = gh
        .control(
            &ctl,
            json!({ "name": "CI", "branch": branch, "event": "pull_request" }),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    let runs = format!("/repos/{org}/{repo}/actions/runs");
    let ids = |v: &Value| -> Vec<u64> {
        v["workflow_runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_u64().unwrap())
            .collect()
    };
    let (_, v) = gh.api_as(&gh.token, "GET", &runs, None).await;
    assert_eq!(v["total_count"], 6);
    let (_, v) = gh
        .api_as(
            &gh.token,
            "GET",
            &format!("{runs}?branch=main&event=push&status=success"),
            None,
        )
        .await;
    let mut want: Vec<u64> = deploys
        .iter()
        .copied()
        .filter(|id| *id != deploys[2])
        .collect();
    want.reverse();
    assert_eq!(ids(&v), want, "newest first");
    assert_eq!(v["total_count"], 4);
    let (_, v) = gh
        .api_as(&gh.token, "GET", &format!("{runs}?status=requested"), None)
        .await;
    assert_eq!(ids(&v), [ci]);
    assert_eq!(v["workflow_runs"][0]["pull_requests"][0]["number"], open);
    assert!(ci > i32::MAX as u64, "run ids are 64-bit");
    let (_, v) = gh
        .api_as(
            &gh.token,
            "GET",
            &format!("{runs}?created=<2000-01-01"),
            None,
        )
        .await;
    assert_eq!(v["total_count"], 0);
    // Two per page: three pages, Link to the next, total on each.
    let r = gh
        .send(&gh.token, "GET", &format!("{runs}?per_page=2&page=2"), None)
        .await;
    let link = r.headers()["link"].to_str().unwrap().to_string();
    assert!(link.contains("page=3>; rel=\"next\""), "{link}");
    let v: Value = r.json().await.unwrap();
    assert_eq!((ids(&v).len(), &v["total_count"]), (2, &json!(6)));
    // Completing the CI run shows in REST.
    gh.control(
        &format!("{ctl}/{ci}/complete"),
        json!({ "conclusion": "cancelled" }),
    )
    .await;
    let (_, v) = gh
        .api_as(&gh.token, "GET", &format!("{runs}/{ci}"), None)
        .await;
    assert_eq!(
        (&v["status"], &v["conclusion"]),
        (&json!("completed"), &json!("cancelled"))
    );
}

const GRAPHQL: &str = r#"query($o: String!, $n: String!) { repository(owner: $o, name: $n) {
  deployments(first: 10) { nodes { id commitOid state latestStatus { state } } }
  releases(first: 10) { nodes { tagName tagCommit { oid } } }
  refs(refPrefix: "refs/tags/", first: 10) { nodes { name target { oid } } }
  issues(first: 10, states: [OPEN, CLOSED]) { nodes { number state labels(first: 5) { nodes { name } } } }
  pullRequests(last: 2) { nodes { number title headRefName mergeCommit { oid } labels(first: 5) { nodes { name } } } }
} }"#;

/// One story through the control API; REST, GraphQL, the webhooks and the truth all tell it
/// the same way.
#[tokio::test]
async fn control_changes_show_alike_in_rest_graphql_webhooks_and_truth() {
    let gh = Gh::new(small());
    let (org, repo) = (gh.org.clone(), first_repo(&gh));
    let rx = Receiver::start();
    let events = json!([
        "deployment",
        "deployment_status",
        "workflow_run",
        "release",
        "issues",
        "pull_request"
    ]);
    let config = json!({ "url": rx.url, "content_type": "json", "secret": "s" });
    let (status, _) = gh
        .api_as(
            &gh.token,
            "POST",
            &format!("/repos/{org}/{repo}/hooks"),
            Some(json!({ "config": config, "events": events })),
        )
        .await;
    assert_eq!(status, 201);
    let ctl = format!("/_sim/repos/{repo}");
    let (n, sha) = merged(&gh, &repo, "Faster checkout", 2, "squash").await;
    gh.control(
        &format!("{ctl}/pulls/{n}/label"),
        json!({ "label": "hotfix" }),
    )
    .await;
    let revert = gh
        .control(&format!("{ctl}/pulls/{n}/revert"), json!({}))
        .await["number"]
        .as_u64()
        .unwrap();
    let d = gh
        .control(
            &format!("{ctl}/deployments"),
            json!({ "environment": "production" }),
        )
        .await;
    assert_eq!(d["sha"], sha.as_str(), "the default branch's head");
    let d = d["id"].as_u64().unwrap();
    assert!(d > i32::MAX as u64);
    gh.control(
        &format!("{ctl}/deployments/{d}/statuses"),
        json!({ "state": "success" }),
    )
    .await;
    gh.control(
        &format!("{ctl}/runs"),
        json!({ "name": "Deploy", "conclusion": "success" }),
    )
    .await;
    gh.control(&format!("{ctl}/releases"), json!({ "tag": "v1.2.0" }))
        .await;
    let issue = gh
        .control(
            &format!("{ctl}/issues"),
            json!({ "title": "Down", "labels": ["incident"] }),
        )
        .await["number"]
        .as_u64()
        .unwrap();
    assert_eq!(issue, revert + 1, "issues and pull requests share numbers");
    gh.control(&format!("{ctl}/issues/{issue}/close"), json!({}))
        .await;

    // Webhooks: every one in GitHub's shape, in the order made: the hook's ping, then
    // opened, closed, labeled, opened (revert), deployment, deployment_status, 3 runs,
    // 3 releases, issue opened + labeled + closed.
    let got = rx.wait_for(16).await;
    assert_eq!(got[0].event(), "ping");
    let got = &got[1..];
    let kinds: Vec<String> = got
        .iter()
        .map(|d| {
            format!(
                "{}.{}",
                d.event(),
                d.json()["action"].as_str().unwrap_or("-")
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "pull_request.opened",
            "pull_request.closed",
            "pull_request.labeled",
            "pull_request.opened",
            "deployment.created",
            "deployment_status.created",
            "workflow_run.requested",
            "workflow_run.in_progress",
            "workflow_run.completed",
            "release.created",
            "release.published",
            "release.released",
            "issues.opened",
            "issues.labeled",
            "issues.closed",
        ]
    );
    for d in got {
        if let Err(e) = tidemark_tests::contract::webhooks::validate(d.event(), &d.json()) {
            panic!("{}: {e:#?}", d.event());
        }
    }
    let revert_body = got[3].json();
    assert_eq!(
        revert_body["pull_request"]["title"],
        "Revert \"Faster checkout\""
    );
    let revert_branch = revert_body["pull_request"]["head"]["ref"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        revert_branch.starts_with(&format!("revert-{n}-")),
        "{revert_branch}"
    );
    assert_eq!(got[5].json()["deployment"]["id"], d);
    assert_eq!(got[14].json()["issue"]["state"], "closed");

    // REST.
    let base = format!("/repos/{org}/{repo}");
    let (_, deps) = gh
        .api_as(&gh.token, "GET", &format!("{base}/deployments"), None)
        .await;
    assert_eq!((&deps[0]["id"], &deps[0]["sha"]), (&json!(d), &json!(sha)));
    let (_, issues) = gh
        .api_as(
            &gh.token,
            "GET",
            &format!("{base}/issues?state=all&labels=incident"),
            None,
        )
        .await;
    let numbers: Vec<u64> = issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [issue]);
    let (_, hotfix) = gh
        .api_as(
            &gh.token,
            "GET",
            &format!("{base}/issues?state=all&labels=hotfix"),
            None,
        )
        .await;
    assert_eq!(hotfix[0]["number"], n);
    assert!(
        hotfix[0]["pull_request"].is_object(),
        "a pull request listed as an issue"
    );

    // GraphQL.
    let (status, g) = gh
        .api_as(
            &gh.token,
            "POST",
            "/graphql",
            Some(json!({ "query": GRAPHQL, "variables": { "o": org, "n": repo } })),
        )
        .await;
    assert_eq!(status, 200);
    let r = &g["data"]["repository"];
    assert_eq!(r["deployments"]["nodes"][0]["commitOid"], sha.as_str());
    assert_eq!(r["deployments"]["nodes"][0]["state"], "ACTIVE");
    assert_eq!(r["releases"]["nodes"][0]["tagCommit"]["oid"], sha.as_str());
    assert_eq!(r["refs"]["nodes"][0]["name"], "v1.2.0");
    let last_issue = r["issues"]["nodes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (&last_issue["number"], &last_issue["state"]),
        (&json!(issue), &json!("CLOSED"))
    );
    let prs = r["pullRequests"]["nodes"].as_array().unwrap();
    assert_eq!(prs[0]["mergeCommit"]["oid"], sha.as_str());
    assert_eq!(prs[0]["labels"]["nodes"][0]["name"], "hotfix");
    assert_eq!(prs[1]["headRefName"], revert_branch.as_str());

    // The truth.
    let t: Value = gh
        .http
        .get(gh.url("/_sim/truth"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deployment = t["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == d)
        .unwrap();
    assert_eq!(deployment["sha"], sha.as_str());
    let states: Vec<&Value> = deployment["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["state"])
        .collect();
    assert_eq!(states, [&json!("success")]);
    assert_eq!(t["runs"][0]["conclusion"], "success");
    assert_eq!(t["releases"][0]["tag_commit"], sha.as_str());
    assert_eq!(t["issues"][0]["labels"], json!(["incident"]));
    let pull = t["pulls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["merge_commit_sha"] == sha.as_str())
        .unwrap();
    assert_eq!(
        (&pull["merge_method"], &pull["labels"]),
        (&json!("squash"), &json!(["hotfix"]))
    );
    let names: BTreeSet<&str> = t["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert!(names.contains("v1.2.0"));
}
