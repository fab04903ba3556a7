//! A team at work that deploys (`OrgSpec::delivery`): per repository one kind of deploy
//! signal, in turn: production Deployments (some failed, then fixed), deploy workflow runs on
//! the default branch, releases with their tags, and nothing at all (so a client falls back to
//! merged pull requests). Incidents are `incident` issues opened after a deployment and closed
//! later; one merged change is reverted with GitHub's Revert button, one fix is labelled
//! `hotfix`; merges are a mix of merge commits and squashes.
//!
//! Deterministic from the seed, with a random stream of its own: the org's other figures stay
//! what they are without it.

use super::world::{DeployState, MergeMethod, NewDeployment, NewIssue, NewRelease, NewRun, World};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const HOUR: i64 = 3_600;
const DAY: i64 = 24 * HOUR;
/// Delivery data covers the last this many days.
const WINDOW: i64 = 120 * DAY;

/// Which signal a repository gives, by its position among the unarchived ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Deployments,
    Workflow,
    Releases,
    Nothing,
}

pub fn signal_of(index: usize) -> Signal {
    match index % 4 {
        0 => Signal::Deployments,
        1 => Signal::Workflow,
        2 => Signal::Releases,
        _ => Signal::Nothing,
    }
}

fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ 0xde11_7e27)
}

fn repos(w: &World) -> Vec<u64> {
    w.repos
        .values()
        .filter(|r| !r.archived)
        .map(|r| r.id)
        .collect()
}

/// Before the histories are built: squashes for about four merges in ten, a revert of a
/// recent merge and a `hotfix` label, in the first repository that deploys.
pub fn before_histories(w: &mut World, seed: u64, now: i64) {
    let mut rng = rng(seed);
    let keys: Vec<(u64, u64)> = w
        .pulls
        .iter()
        .filter(|(_, p)| p.merged())
        .map(|(k, _)| *k)
        .collect();
    for k in keys {
        if rng.random_bool(0.4) {
            w.pulls.get_mut(&k).expect("listed").merge_method = Some(MergeMethod::Squash);
        }
    }
    let Some(&repo) = repos(w).first() else {
        return;
    };
    let recent: Vec<(i64, u64)> = w
        .repo_pulls(repo)
        .filter_map(|p| Some((p.merged_at?, p.number)))
        .filter(|(at, _)| *at > now - WINDOW / 2 && *at < now - 10 * DAY)
        .collect();
    let Some(&(merged_at, number)) = recent.iter().max() else {
        return;
    };
    let by = w.account(w.viewer_id).login.clone();
    let at = merged_at + 2 * HOUR;
    if let Ok((n, _)) = w.open_revert(repo, number, &by, at) {
        let viewer = w.viewer_id;
        let p = w.pulls.get_mut(&(repo, n)).expect("just opened");
        p.open = false;
        p.merged_at = Some(at + HOUR);
        p.closed_at = Some(at + HOUR);
        p.merged_by = Some(viewer);
        p.merge_method = Some(MergeMethod::Squash);
        p.merge_commit_sha = Some(super::world::sha_for(&format!("merge-{}", p.id)));
        p.updated_at = at + HOUR;
    }
    // The first merge after the revert is the hotfix.
    let hotfix = w
        .repo_pulls(repo)
        .filter(|p| p.merged_at.is_some_and(|m| m > at + HOUR) && !p.title.starts_with("Revert"))
        .min_by_key(|p| p.merged_at)
        .map(|p| p.number);
    if let Some(n) = hotfix {
        let _ = w.label_pull(repo, n, "hotfix", true, at + 2 * HOUR);
    }
}

/// After the histories: deployments, runs, releases and incidents over the last days.
pub fn after_histories(w: &mut World, seed: u64, now: i64) {
    let mut rng = rng(seed.wrapping_add(1));
    for (i, repo) in repos(w).into_iter().enumerate() {
        let merges: Vec<i64> = w
            .history(repo)
            .map(|h| {
                h.mainline
                    .iter()
                    .map(|(at, _)| *at)
                    .filter(|at| *at > now - WINDOW)
                    .collect()
            })
            .unwrap_or_default();
        match signal_of(i) {
            Signal::Deployments => deployments(w, &mut rng, repo, &merges, now),
            Signal::Workflow => runs(w, &mut rng, repo, &merges, now),
            Signal::Releases => releases(w, &mut rng, repo, &merges, now),
            Signal::Nothing => {}
        }
    }
}

/// The default branch's head at `at`.
fn head_at(w: &World, repo: u64, at: i64) -> String {
    w.history(repo)
        .map_or_else(String::new, |h| h.head_at(at).to_string())
}

/// A deploy a few hours after every third merge or so; the third and then about one in eight
/// fail and are fixed by the next within two hours; an incident follows the fifth and about
/// one in eight successful ones.
fn deployments(w: &mut World, rng: &mut StdRng, repo: u64, merges: &[i64], now: i64) {
    let mut since_deploy = 0;
    let mut made = 0;
    for &m in merges {
        since_deploy += 1;
        if since_deploy < rng.random_range(1..4) {
            continue;
        }
        since_deploy = 0;
        let at = m + rng.random_range(HOUR..6 * HOUR);
        if at > now {
            break;
        }
        made += 1;
        let failed = made == 3 || rng.random_range(0..8) == 0;
        let id = deploy(
            w,
            repo,
            at,
            if failed {
                DeployState::Failure
            } else {
                DeployState::Success
            },
        );
        if failed {
            deploy(
                w,
                repo,
                at + rng.random_range(HOUR / 2..2 * HOUR),
                DeployState::Success,
            );
        } else if made == 5 || rng.random_range(0..8) == 0 {
            incident(w, rng, repo, at, now);
        }
        // Staging first, now and then.
        if rng.random_bool(0.3)
            && let Some(d) = id
        {
            let sha = w.deployments[&d].sha.clone();
            let spec = NewDeployment {
                git_ref: Some(sha),
                environment: "staging".into(),
                ..NewDeployment::default()
            };
            if let Ok((s, _)) = w.create_deployment(repo, spec, at - HOUR / 2) {
                let _ = w.add_deployment_status(
                    repo,
                    s,
                    DeployState::Success,
                    None,
                    "",
                    None,
                    at - HOUR / 3,
                );
            }
        }
    }
}

fn deploy(w: &mut World, repo: u64, at: i64, outcome: DeployState) -> Option<u64> {
    let sha = head_at(w, repo, at);
    let spec = NewDeployment {
        git_ref: Some(sha),
        environment: "production".into(),
        creator: Some("github-actions[bot]".into()),
        ..NewDeployment::default()
    };
    let (id, _) = w.create_deployment(repo, spec, at).ok()?;
    let default = w.repos[&repo].default_branch.clone();
    if let Some(d) = w.deployments.get_mut(&id) {
        d.ref_name = default;
    }
    let _ = w.add_deployment_status(repo, id, DeployState::InProgress, None, "", None, at + 60);
    let _ = w.add_deployment_status(repo, id, outcome, None, "", None, at + 300);
    Some(id)
}

/// An `incident` issue opened within the hour after `after`, closed hours later.
fn incident(w: &mut World, rng: &mut StdRng, repo: u64, after: i64, now: i64) {
    let opened = after + rng.random_range(10 * 60..HOUR);
    let spec = NewIssue {
        author: None,
        title: "Errors spiking after the last deploy".into(),
        body: "Checkout answers 500 for some users.".into(),
        labels: vec!["incident".into()],
    };
    if let Ok((n, _)) = w.open_issue(repo, spec, opened) {
        let closed = opened + rng.random_range(HOUR..10 * HOUR);
        if closed < now {
            let _ = w.set_issue_open(repo, n, false, None, None, closed);
        }
    }
}

/// `Deploy` runs on the default branch after about half the merges (one in five fails; an
/// incident follows the third and about one in eight others), and `CI` on each.
fn runs(w: &mut World, rng: &mut StdRng, repo: u64, merges: &[i64], now: i64) {
    let mut made = 0;
    for &m in merges {
        let sha = head_at(w, repo, m);
        complete_run(w, rng, repo, "CI", &sha, m + 60, "success");
        if rng.random_range(0..2) == 0 {
            let at = m + rng.random_range(HOUR..4 * HOUR);
            if at > now {
                break;
            }
            let conclusion = if rng.random_range(0..5) == 0 {
                "failure"
            } else {
                "success"
            };
            complete_run(w, rng, repo, "Deploy", &sha, at, conclusion);
            made += 1;
            if conclusion == "success" && (made == 3 || rng.random_range(0..8) == 0) {
                incident(w, rng, repo, at, now);
            }
        }
    }
}

fn complete_run(
    w: &mut World,
    rng: &mut StdRng,
    repo: u64,
    name: &str,
    sha: &str,
    at: i64,
    conclusion: &str,
) {
    let spec = NewRun {
        name: name.into(),
        sha: Some(sha.into()),
        ..NewRun::default()
    };
    if let Ok((id, _)) = w.create_run(repo, spec, at) {
        let took = rng.random_range(120..900);
        let _ = w.advance_run(id, None, at + 5);
        let _ = w.advance_run(id, Some(conclusion), at + took);
    }
}

/// A release about every two weeks of merges, tagged `vMAJOR.MINOR.0` at the head.
fn releases(w: &mut World, rng: &mut StdRng, repo: u64, merges: &[i64], now: i64) {
    let mut last: Option<i64> = None;
    let mut minor = 0;
    for &m in merges {
        if last.is_some_and(|l| m - l < 14 * DAY) {
            continue;
        }
        let at = m + rng.random_range(HOUR..DAY);
        if at > now {
            break;
        }
        last = Some(m);
        minor += 1;
        let sha = head_at(w, repo, at);
        let spec = NewRelease {
            tag: format!("v1.{minor}.0"),
            target: Some(sha),
            body: "Generated by the simulator.".into(),
            ..NewRelease::default()
        };
        let _ = w.publish_release(repo, spec, at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::generate::{OrgSpec, generate};

    fn spec(delivery: bool) -> OrgSpec {
        OrgSpec {
            repos: 5,
            prs_per_repo: 60,
            now: 1_760_000_000,
            delivery,
            ..OrgSpec::default()
        }
    }

    #[test]
    fn a_team_that_deploys_has_every_signal_and_failure_and_is_deterministic() {
        let w = generate(&spec(true));
        let again = generate(&spec(true));
        assert_eq!(w.deployments, again.deployments);
        assert_eq!(w.runs, again.runs);
        assert_eq!(w.issues, again.issues);

        let repos = repos(&w);
        let has = |i: usize| {
            let r = repos[i];
            (
                w.repo_deployments(r).count(),
                w.runs.values().filter(|x| x.repo_id == r).count(),
                w.releases.values().filter(|x| x.repo_id == r).count(),
            )
        };
        assert!(
            has(0).0 > 0 && has(0).1 == 0 && has(0).2 == 0,
            "{:?}",
            has(0)
        );
        assert!(
            has(1).0 == 0 && has(1).1 > 0 && has(1).2 == 0,
            "{:?}",
            has(1)
        );
        assert!(
            has(2).0 == 0 && has(2).1 == 0 && has(2).2 > 0,
            "{:?}",
            has(2)
        );
        assert_eq!(
            has(3),
            (0, 0, 0),
            "one repository falls back to merged pull requests"
        );

        // A failed production deployment, then a successful one.
        let prod: Vec<_> = w
            .repo_deployments(repos[0])
            .filter(|d| d.environment() == "production")
            .collect();
        let last = |d: &&crate::sim::world::Deployment| d.statuses.last().unwrap().state;
        let failed = prod.iter().position(|d| last(d) == DeployState::Failure);
        let failed = failed.expect("a failed deployment");
        assert_eq!(last(&prod[failed + 1]), DeployState::Success);
        // Each deployment's sha is the default branch's head when it was made.
        let h = w.history(repos[0]).unwrap();
        for d in &prod {
            assert_eq!(d.sha, h.head_at(d.created_at));
        }

        // Incidents: labelled, opened after a deployment or run, closed after they opened.
        let incidents: Vec<_> = w
            .issues
            .values()
            .filter(|i| i.labels == ["incident"])
            .collect();
        assert!(!incidents.is_empty());
        for i in &incidents {
            assert!(i.closed_at.is_none_or(|c| c > i.created_at));
        }

        // One revert, GitHub's shapes; one hotfix; merges and squashes.
        let reverts: Vec<_> = w
            .pulls
            .values()
            .filter(|p| p.title.starts_with("Revert \""))
            .collect();
        assert_eq!(reverts.len(), 1);
        let r = reverts[0];
        assert!(r.head_ref.starts_with("revert-"), "{}", r.head_ref);
        let n: u64 = r.head_ref.split('-').nth(1).unwrap().parse().unwrap();
        let original = w.pull(r.repo_id, n).unwrap();
        assert_eq!(r.title, format!("Revert \"{}\"", original.title));
        assert!(r.merged());
        assert!(
            h.get(r.merge_commit_sha.as_ref().unwrap()).is_some(),
            "on the default branch"
        );
        assert_eq!(
            w.pulls.values().filter(|p| p.labels == ["hotfix"]).count(),
            1
        );
        let methods: std::collections::BTreeSet<_> = w
            .pulls
            .values()
            .filter_map(|p| p.merge_method)
            .map(|m| m.as_str())
            .collect();
        assert_eq!(methods.len(), 2, "{methods:?}");
    }

    #[test]
    fn off_by_default_nothing_is_added() {
        let w = generate(&spec(false));
        assert!(w.deployments.is_empty() && w.runs.is_empty() && w.releases.is_empty());
        assert!(w.issues.is_empty() && w.tags.is_empty() && w.labels.is_empty());
        assert!(
            w.pulls
                .values()
                .filter_map(|p| p.merge_method)
                .all(|m| m == MergeMethod::Merge)
        );
        // Every merged pull request is on its default branch, in merge order.
        for p in w.pulls.values().filter(|p| p.merged()) {
            let h = w.history(p.repo_id).unwrap();
            let sha = p.merge_commit_sha.as_ref().unwrap();
            assert!(h.mainline.iter().any(|(_, s)| s == sha));
        }
    }
}
