//! Comparing a daemon's store with the GitHub simulator's exported truth (`/_sim/truth`).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tidemark_daemon::store::Store;

fn login_of(truth: &Value, id: u64) -> String {
    truth["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .map(|a| a["login"].as_str().unwrap().to_string())
        .unwrap()
}

/// Members, pull requests, reviews and commits of `team` equal the truth, field by field.
/// Panics with what differs.
pub fn assert_store_equals_truth(truth: &Value, store: &Store, team: u64) {
    // Members: the org's people, with their public emails; those who left, marked.
    let want: BTreeSet<(u64, String, Option<String>)> = truth["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| !a["role"].is_null())
        .map(|a| {
            (
                a["id"].as_u64().unwrap(),
                a["login"].as_str().unwrap().to_string(),
                a["email"].as_str().map(String::from),
            )
        })
        .collect();
    let have: BTreeSet<(u64, String, Option<String>)> = store
        .members(team)
        .unwrap()
        .into_iter()
        .filter(|m| m.left_at.is_none())
        .map(|m| (m.github_id.unwrap(), m.github_username.unwrap(), m.email))
        .collect();
    assert_eq!(have, want, "members");

    let prs = assert_stored_prs_match_truth(truth, store, team);
    let tracked: BTreeSet<u64> = store
        .tracked_repos(team)
        .unwrap()
        .iter()
        .map(|r| r.github_repo_id)
        .collect();
    let want = truth["pulls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| tracked.contains(&p["repo_id"].as_u64().unwrap()))
        .count();
    assert_eq!(prs, want, "pull request count");
}

/// Every pull request in the store equals the truth, with all its reviews and commits (none
/// half-written), whether or not every pull request is there yet. Returns how many are stored.
pub fn assert_stored_prs_match_truth(truth: &Value, store: &Store, team: u64) -> usize {
    let tracked: BTreeSet<u64> = store
        .tracked_repos(team)
        .unwrap()
        .iter()
        .map(|r| r.github_repo_id)
        .collect();
    let mut want_prs = BTreeMap::new();
    for p in truth["pulls"].as_array().unwrap() {
        let repo = p["repo_id"].as_u64().unwrap();
        if tracked.contains(&repo) {
            want_prs.insert((repo, p["number"].as_u64().unwrap()), p.clone());
        }
    }
    let have_prs = store.pull_requests(team, None).unwrap();
    let stored = have_prs.len();
    for pr in have_prs {
        let t = &want_prs[&(pr.repo_id, pr.number)];
        let ctx = format!("PR {}#{}", pr.repo_id, pr.number);
        assert_eq!(pr.github_id, t["id"].as_u64().unwrap(), "{ctx}");
        // GitHub's pull request ids passed 2^31 in 2024; so do the simulator's: a 32-bit id
        // anywhere on the way would have been caught above or here.
        assert!(
            pr.github_id > i32::MAX as u64,
            "{ctx}: id {} is not in GitHub's range",
            pr.github_id
        );
        assert_eq!(pr.title, t["title"].as_str().unwrap(), "{ctx}");
        assert_eq!(
            pr.state.as_str().to_uppercase(),
            t["state"].as_str().unwrap(),
            "{ctx}"
        );
        assert_eq!(pr.is_draft, t["draft"].as_bool().unwrap(), "{ctx}");
        assert_eq!(pr.author_github_id, t["author_id"].as_u64(), "{ctx}");
        assert_eq!(
            pr.author_login.as_deref(),
            Some(login_of(truth, t["author_id"].as_u64().unwrap()).as_str()),
            "{ctx}"
        );
        assert_eq!(pr.created_at, t["created_at"].as_i64().unwrap(), "{ctx}");
        assert_eq!(pr.updated_at, t["updated_at"].as_i64().unwrap(), "{ctx}");
        assert_eq!(pr.merged_at, t["merged_at"].as_i64(), "{ctx}");
        // Who merged it: GitHub's `mergedBy`, not the author.
        assert_eq!(pr.merged_by_github_id, t["merged_by"].as_u64(), "{ctx}");
        assert_eq!(
            pr.merged_by_login,
            t["merged_by"].as_u64().map(|id| login_of(truth, id)),
            "{ctx}"
        );
        assert_eq!(pr.closed_at, t["closed_at"].as_i64(), "{ctx}");
        assert_eq!(pr.additions, t["additions"].as_u64().unwrap(), "{ctx}");
        assert_eq!(pr.deletions, t["deletions"].as_u64().unwrap(), "{ctx}");
        let reviews: BTreeSet<(u64, String, Option<i64>)> = store
            .reviews(team, pr.repo_id, pr.number)
            .unwrap()
            .into_iter()
            .map(|r| (r.review_id, r.state.as_str().to_uppercase(), r.submitted_at))
            .collect();
        let want_reviews: BTreeSet<(u64, String, Option<i64>)> = t["reviews"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_u64().unwrap(),
                    r["state"].as_str().unwrap().to_string(),
                    r["submitted_at"].as_i64(),
                )
            })
            .collect();
        assert_eq!(reviews, want_reviews, "{ctx} reviews");
        let commits: BTreeSet<String> = store
            .commits(team, pr.repo_id, pr.number)
            .unwrap()
            .into_iter()
            .map(|c| c.sha)
            .collect();
        let all: Vec<&Value> = t["commits"].as_array().unwrap().iter().collect();
        let want_commits: BTreeSet<String> = all
            .iter()
            .take(250)
            .map(|c| c["sha"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(commits, want_commits, "{ctx} commits");
        let extra = store.pr_extra(team, pr.repo_id, pr.number).unwrap();
        assert_eq!(
            extra.map(|e| e.commits_total),
            (all.len() > 250).then_some(all.len() as u64),
            "{ctx} commit cap note"
        );
    }
    stored
}

/// A deployment as tidemark stores it, from the truth: its last terminal status decides.
fn deployment_want(d: &Value) -> (String, String, i64, String, Option<i64>) {
    let mut statuses: Vec<(i64, u64, String)> = d["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["created_at"].as_i64().unwrap(),
                s["id"].as_u64().unwrap(),
                s["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    statuses.sort();
    let terminal = statuses
        .iter()
        .rev()
        .find(|(_, _, s)| matches!(s.as_str(), "success" | "failure" | "error"));
    let (state, at) = match terminal {
        Some((at, _, s)) => (
            match s.as_str() {
                "success" => "Success",
                "failure" => "Failure",
                _ => "Error",
            },
            Some(*at),
        ),
        None => ("Pending", None),
    };
    (
        d["sha"].as_str().unwrap().to_string(),
        d["environment"].as_str().unwrap_or("").to_string(),
        d["created_at"].as_i64().unwrap(),
        state.to_string(),
        at,
    )
}

/// Deployments (with their final state), completed workflow runs on the default branch,
/// releases, tags and issues with the incident label of `team`'s tracked repositories equal
/// the truth. Panics with what differs.
pub fn assert_delivery_equals_truth(truth: &Value, store: &Store, team: u64, incident: &str) {
    use tidemark_daemon::store::DeploySource;
    let tracked: BTreeMap<u64, String> = store
        .tracked_repos(team)
        .unwrap()
        .into_iter()
        .map(|r| (r.github_repo_id, r.full_name))
        .collect();
    let default_branch = |repo: u64| -> String {
        truth["repos"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == repo)
            .map(|r| r["default_branch"].as_str().unwrap().to_string())
            .unwrap()
    };
    for (&repo, name) in &tracked {
        let of_repo = |list: &str| -> Vec<Value> {
            truth[list]
                .as_array()
                .unwrap()
                .iter()
                .filter(|v| v["repo_id"] == repo)
                .cloned()
                .collect()
        };
        let stored = store.deploys(team, repo).unwrap();
        let have = |source: DeploySource| stored.iter().filter(move |d| d.source == source);

        let mut want: Vec<_> = of_repo("deployments").iter().map(deployment_want).collect();
        let mut got: Vec<_> = have(DeploySource::Deployment)
            .map(|d| {
                (
                    d.sha.clone(),
                    d.name.clone(),
                    d.created_at,
                    format!("{:?}", d.state),
                    d.finished_at,
                )
            })
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{name}: deployments");

        let branch = default_branch(repo);
        let mut want: Vec<(String, String, String, String)> = of_repo("runs")
            .iter()
            .filter(|r| r["status"] == "completed" && r["head_branch"] == branch.as_str())
            .map(|r| {
                let state = match r["conclusion"].as_str().unwrap_or("") {
                    "success" => "Success",
                    "failure" | "timed_out" | "startup_failure" => "Failure",
                    _ => "Ignored",
                };
                (
                    r["id"].as_u64().unwrap().to_string(),
                    r["head_sha"].as_str().unwrap().to_string(),
                    r["name"].as_str().unwrap().to_string(),
                    state.to_string(),
                )
            })
            .collect();
        let mut got: Vec<_> = have(DeploySource::WorkflowRun)
            .map(|d| {
                (
                    d.id.clone(),
                    d.sha.clone(),
                    d.name.clone(),
                    format!("{:?}", d.state),
                )
            })
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{name}: completed workflow runs on {branch}");

        let mut want: Vec<(String, String, Option<i64>)> = of_repo("releases")
            .iter()
            .map(|r| {
                let counted = !r["draft"].as_bool().unwrap() && !r["prerelease"].as_bool().unwrap();
                (
                    r["tag_name"].as_str().unwrap().to_string(),
                    r["tag_commit"].as_str().unwrap_or("").to_string(),
                    r["published_at"].as_i64().filter(|_| counted),
                )
            })
            .collect();
        let mut got: Vec<_> = have(DeploySource::Release)
            .map(|d| (d.name.clone(), d.sha.clone(), d.finished_at))
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{name}: releases");

        let mut want: Vec<(String, String)> = of_repo("tags")
            .iter()
            .map(|t| {
                (
                    t["name"].as_str().unwrap().to_string(),
                    t["commit_sha"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        let mut got: Vec<_> = have(DeploySource::Tag)
            .map(|d| (d.name.clone(), d.sha.clone()))
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{name}: tags");

        // Issues: every one with the incident label now; one that lost it stays stored, with
        // its labels as they are.
        let stored_issues = store.issues(team, repo).unwrap();
        let labelled = |labels: &Value| {
            labels
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l.as_str().unwrap().eq_ignore_ascii_case(incident))
        };
        let mut want: Vec<(u64, i64, Option<i64>, Vec<String>)> = of_repo("issues")
            .iter()
            .filter(|i| {
                labelled(&i["labels"])
                    || stored_issues
                        .iter()
                        .any(|s| s.number == i["number"].as_u64().unwrap())
            })
            .map(|i| {
                let mut labels: Vec<String> = i["labels"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().unwrap().to_string())
                    .collect();
                labels.sort();
                (
                    i["number"].as_u64().unwrap(),
                    i["created_at"].as_i64().unwrap(),
                    i["closed_at"].as_i64(),
                    labels,
                )
            })
            .collect();
        let mut got: Vec<_> = stored_issues
            .iter()
            .map(|i| {
                let mut labels = i.labels.clone();
                labels.sort();
                (i.number, i.created_at, i.closed_at, labels)
            })
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want, "{name}: incident issues");
    }
}
