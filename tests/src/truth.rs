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
