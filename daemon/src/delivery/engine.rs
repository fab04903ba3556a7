//! The DORA measures of a team, computed from its stored records: each repository's
//! deployments classified (`classify.rs`: which signal, what each shipped, which failed and
//! why), then the five measures per group. Pure: the same records and rules give the same report, and every number in it points
//! at the items it counts and the rule that classified each.

use super::rules::Rules;
use crate::store::{Compared, Deploy, IssueRecord, PullRequest};
use std::collections::{BTreeMap, HashMap};
use tidemark_protocol::delivery::{
    ChangeItem, DeployOutcome, DeploymentItem, DoraGroup, DoraGrouping, DoraReport, Durations,
    FailureItem,
};
use tidemark_protocol::metrics::dora;
use tidemark_protocol::metrics::{distribution, iso_week};

/// One tracked repository's records.
#[derive(Debug, Clone, Default)]
pub struct RepoInput {
    pub id: u64,
    /// `owner/repo`.
    pub name: String,
    pub default_branch: Option<String>,
    pub deploys: Vec<Deploy>,
    pub prs: Vec<PullRequest>,
    pub issues: Vec<IssueRecord>,
    /// GitHub's compares, by (base, head).
    pub compares: HashMap<(String, String), Compared>,
}

#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub since: i64,
    pub until: i64,
}

impl Window {
    fn holds(self, t: i64) -> bool {
        self.since <= t && t < self.until
    }
}

use super::classify::{RepoResult, classify};
pub use super::classify::{choose_signal, wanted_compares, wanted_compares_after};

pub use tidemark_protocol::metrics::week_start;

fn durations(values: Vec<i64>) -> Durations {
    let d = distribution(values);
    Durations {
        count: d.count,
        p50: d.p50,
        p90: d.p90,
    }
}

/// The report for `team` over `window`, grouped `by`.
pub fn evaluate(
    team: &str,
    rules: &Rules,
    repos: &[RepoInput],
    window: Window,
    by: DoraGrouping,
) -> DoraReport {
    let results: Vec<RepoResult> = repos.iter().map(|r| classify(rules, r)).collect();

    // Deployments listed: those in the window and those a counted failure points at.
    let mut listed: BTreeMap<(i64, usize, usize), ()> = BTreeMap::new();
    for (ri, res) in results.iter().enumerate() {
        for (k, d) in res.deps.iter().enumerate() {
            if window.holds(d.at) {
                listed.insert((d.at, ri, k), ());
            }
        }
        for f in res.failures.iter().filter(|f| window.holds(f.began_at)) {
            listed.insert((res.deps[f.dep].at, ri, f.dep), ());
        }
    }
    let mut index: HashMap<(usize, usize), u32> = HashMap::new();
    let mut deployments = Vec::new();
    for (pos, (_, ri, k)) in listed.keys().enumerate() {
        index.insert((*ri, *k), pos as u32);
        let d = &results[*ri].deps[*k];
        let prs = &repos[*ri].prs;
        deployments.push(DeploymentItem {
            repo: repos[*ri].name.clone(),
            signal: d.signal,
            id: d.id.clone(),
            sha: d.sha.clone(),
            name: d.name.clone(),
            at: d.at,
            outcome: if d.success {
                DeployOutcome::Success
            } else {
                DeployOutcome::Failure
            },
            rule: d.rule.clone(),
            failed_by: d.failed_by.clone(),
            rework_by: d.rework_by.clone(),
            shipped: d.shipped.iter().map(|(i, _)| prs[*i].number).collect(),
        });
    }
    let mut changes = Vec::new();
    let mut failures = Vec::new();
    for (ri, res) in results.iter().enumerate() {
        for (k, d) in res.deps.iter().enumerate() {
            let Some(&di) = index.get(&(ri, k)).filter(|_| window.holds(d.at)) else {
                continue;
            };
            for (i, rule) in &d.shipped {
                let pr = &repos[ri].prs[*i];
                let from = if pr.first_commit_at.is_some() {
                    "from its first commit"
                } else {
                    "from its opening (its commits are not known)"
                };
                changes.push(ChangeItem {
                    repo: repos[ri].name.clone(),
                    number: pr.number,
                    title: pr.title.clone(),
                    started_at: pr.first_commit_at.unwrap_or(pr.created_at),
                    deployed_at: d.at,
                    lead_time: dora::lead_time(pr.first_commit_at, pr.created_at, d.at),
                    deployment: di,
                    rule: format!("{rule}; {from}"),
                });
            }
        }
        for f in res.failures.iter().filter(|f| window.holds(f.began_at)) {
            failures.push(FailureItem {
                repo: repos[ri].name.clone(),
                kind: f.kind,
                number: f.number,
                title: f.title.clone(),
                deployment: index[&(ri, f.dep)],
                began_at: f.began_at,
                recovered_at: f.recovered_at,
                rule: f.rule.clone(),
            });
        }
    }
    changes.sort_by_key(|c| (c.deployed_at, c.repo.clone(), c.number));
    failures.sort_by_key(|f| (f.began_at, f.repo.clone(), f.number));

    // The groups: (key, repo filter, window).
    let mut groups: Vec<(String, Option<String>, Window)> = Vec::new();
    match by {
        DoraGrouping::Team => groups.push((team.to_string(), None, window)),
        DoraGrouping::Repo => {
            for r in repos {
                groups.push((r.name.clone(), Some(r.name.clone()), window));
            }
        }
        DoraGrouping::Week => {
            let mut start = week_start(window.since);
            while start < window.until {
                let w = Window {
                    since: start.max(window.since),
                    until: (start + dora::WEEK).min(window.until),
                };
                groups.push((iso_week(start), None, w));
                start += dora::WEEK;
            }
        }
    }
    // Each item goes to its group in one pass (not one scan of every item per group).
    let repo_group: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .filter_map(|(g, (_, repo, _))| Some((repo.as_deref()?, g)))
        .collect();
    let first_week = week_start(window.since);
    let group_of = |repo: &str, t: i64| -> Option<usize> {
        if !window.holds(t) {
            return None;
        }
        match by {
            DoraGrouping::Team => Some(0),
            DoraGrouping::Repo => repo_group.get(repo).copied(),
            DoraGrouping::Week => usize::try_from((week_start(t) - first_week) / dora::WEEK).ok(),
        }
    };
    #[derive(Default)]
    struct Acc {
        deployed: Vec<u32>,
        finished: Vec<u32>,
        failed: Vec<u32>,
        rework: Vec<u32>,
        changes: Vec<u32>,
        failures: Vec<u32>,
    }
    let mut accs: Vec<Acc> = groups.iter().map(|_| Acc::default()).collect();
    for (i, d) in deployments.iter().enumerate() {
        let Some(a) = group_of(&d.repo, d.at).and_then(|g| accs.get_mut(g)) else {
            continue;
        };
        let i = i as u32;
        a.finished.push(i);
        if d.outcome == DeployOutcome::Success {
            a.deployed.push(i);
        }
        if !d.failed_by.is_empty() {
            a.failed.push(i);
        }
        if !d.rework_by.is_empty() {
            a.rework.push(i);
        }
    }
    for (i, c) in changes.iter().enumerate() {
        if let Some(a) = group_of(&c.repo, c.deployed_at).and_then(|g| accs.get_mut(g)) {
            a.changes.push(i as u32);
        }
    }
    for (i, f) in failures.iter().enumerate() {
        if let Some(a) = group_of(&f.repo, f.began_at).and_then(|g| accs.get_mut(g)) {
            a.failures.push(i as u32);
        }
    }
    let groups = groups
        .into_iter()
        .zip(accs)
        .map(|((key, _, w), a)| {
            let lead_time = durations(
                a.changes
                    .iter()
                    .map(|&i| changes[i as usize].lead_time)
                    .collect(),
            );
            let recovery = durations(
                a.failures
                    .iter()
                    .filter_map(|&i| {
                        let f = &failures[i as usize];
                        dora::recovery(f.began_at, f.recovered_at)
                    })
                    .collect(),
            );
            let span = w.until - w.since;
            DoraGroup {
                key,
                since: w.since,
                until: w.until,
                per_week_milli: dora::per_week_milli(a.deployed.len() as u64, span),
                frequency_band: dora::frequency_band(a.deployed.len() as u64, span),
                lead_time_band: dora::lead_time_band(lead_time.p50),
                fail_rate_band: dora::fail_rate_band(
                    a.failed.len() as u64,
                    a.finished.len() as u64,
                ),
                recovery_band: dora::recovery_band(recovery.p50),
                deployed: a.deployed,
                changes: a.changes,
                lead_time,
                finished: a.finished,
                failed: a.failed,
                failures: a.failures,
                recovery,
                rework: a.rework,
            }
        })
        .collect();
    DoraReport {
        edition: dora::EDITION.to_string(),
        since: window.since,
        until: window.until,
        repos: results.into_iter().map(|r| r.signal).collect(),
        groups,
        deployments,
        changes,
        failures,
    }
}
